import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { createLogger, type Logger } from '../core/logger.js';

/** Test helpers for alerts: a real SMTP server and a real HTTP receiver, both on loopback port 0. */

export interface ReceivedMail {
  from: string;
  to: string[];
  user?: string;
  subject: string;
  headers: string;
  text: string;
  html: string;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** An SMTP server (smtp-server) that keeps every message; with `login`, only that user and password may log in. */
export async function startSmtp(login?: { user: string; password: string }): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: login === undefined,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (login && auth.username === login.user && auth.password === login.password) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const user = typeof session.user === 'string' ? session.user : undefined;
        mails.push({
          from, to: session.envelope.rcptTo.map((r) => r.address), ...(user ? { user } : {}),
          ...parseMessage(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface HookSink {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** An HTTP receiver that records each POST and answers the status `status(n)` gives for the n-th request (from 0). */
export async function startReceiver(status: (n: number) => number = () => 200): Promise<HookSink> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const n = requests.length;
      requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(status(n), { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A logger whose output the test can read, to check what was logged and that no secret was. */
export function captureLogger(): { logger: Logger; output: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { logger: createLogger('debug', undefined, stream), output: () => text };
}

/** Just enough MIME for nodemailer's output: headers, and the text and HTML parts decoded. */
function parseMessage(raw: string): { subject: string; headers: string; text: string; html: string } {
  const [head, body] = splitHead(raw);
  const subject = decodeWords(/^Subject: (.*)$/im.exec(head)?.[1] ?? '');
  const parts: Record<string, string> = {};
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(head)?.[1];
  const sections = boundary ? body.split(`--${boundary}`).slice(1, -1) : [raw];
  for (const section of sections) {
    const [partHead, partBody] = splitHead(section.replace(/^\r\n/, ''));
    const type = /^Content-Type: ([^;\r\n]+)/im.exec(partHead)?.[1]?.toLowerCase() ?? '';
    const encoding = /^Content-Transfer-Encoding: (\S+)/im.exec(partHead)?.[1]?.toLowerCase();
    parts[type] = decodeBody(partBody.replace(/\r\n$/, ''), encoding).replace(/\r\n/g, '\n');
  }
  return { subject, headers: head, text: parts['text/plain'] ?? '', html: parts['text/html'] ?? '' };
}

function splitHead(text: string): [string, string] {
  const at = text.indexOf('\r\n\r\n');
  // Unfolded, so a long header reads as one line.
  return [text.slice(0, at).replace(/\r\n([ \t])/g, '$1'), text.slice(at + 4)];
}

function decodeBody(body: string, encoding: string | undefined): string {
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return quotedPrintable(body);
  return body;
}

function quotedPrintable(text: string): string {
  const joined = text.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(joined[i] as string, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeWords(text: string): string {
  return text
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, kind: string, data: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : quotedPrintable(data.replace(/_/g, ' ')));
}
