import { createServer, type Socket } from 'node:net';

/**
 * A loopback stand-in for FreeSWITCH mod_event_socket (inbound), for tests. It speaks the wire format of
 * §2.3 of the formats reference: LF line ends, `auth/request` greeting, `command/reply` texts as FreeSWITCH
 * writes them, and bodies whose Content-Length counts bytes. Tests drive it per connection through a session.
 */

export interface EslTestServerOptions {
  password: string;
  /** Sent instead of the auth/request greeting, to play a server that is not an event socket or an ACL refusal. */
  greeting?: string;
  /** The body for `api <command>`; undefined leaves the command unanswered. */
  api?: (command: string) => string | undefined;
}

export interface EslTestServer {
  readonly host: string;
  readonly port: number;
  /** The next accepted connection, in accept order. */
  nextSession(): Promise<EslTestSession>;
  close(): Promise<void>;
}

/** FreeSWITCH's own reply to an ACL refusal. */
export const RUDE_REJECTION = 'Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n';
const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

export type EventHeaders = Array<[name: string, value: string]>;

export class EslTestSession {
  /** Commands received, without their terminating empty line. */
  readonly commands: string[] = [];
  /** Resolves with the `event ...` command once its +OK reply is written. */
  readonly subscribed: Promise<string>;
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;
  private pending = Buffer.alloc(0);
  private authenticated = false;
  private onSubscribed: (command: string) => void = () => {};

  constructor(
    private readonly socket: Socket,
    private readonly options: EslTestServerOptions,
  ) {
    this.subscribed = new Promise((resolve) => {
      this.onSubscribed = resolve;
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.write(options.greeting ?? 'Content-Type: auth/request\n\n');
  }

  /** An event-plain frame; values are URL-encoded unless `raw`, and the frame is written `chunkBytes` at a time. */
  sendEvent(headers: EventHeaders, options: { raw?: boolean; chunkBytes?: number } = {}): void {
    const frame = eventFrame(headers, options.raw ?? false);
    const step = options.chunkBytes ?? frame.length;
    for (let at = 0; at < frame.length; at += step) this.socket.write(frame.subarray(at, at + step));
  }

  /** Writes an event frame cut after `bodyBytes` bytes of its body, then closes the connection. */
  sendEventThenDrop(headers: EventHeaders, bodyBytes: number): void {
    const frame = eventFrame(headers, false);
    const bodyStart = frame.indexOf('\n\n') + 2;
    this.socket.end(frame.subarray(0, bodyStart + bodyBytes));
  }

  sendDisconnectNotice(): void {
    this.socket.end(`Content-Type: text/disconnect-notice\nContent-Length: ${Buffer.byteLength(GOODBYE)}\n\n${GOODBYE}`);
  }

  sendRaw(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  private receive(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    for (let end = this.pending.indexOf('\n\n'); end >= 0; end = this.pending.indexOf('\n\n')) {
      const command = this.pending.subarray(0, end).toString('utf8');
      this.pending = this.pending.subarray(end + 2);
      this.commands.push(command);
      this.handle(command);
    }
  }

  private handle(command: string): void {
    if (!this.authenticated) {
      if (command === `auth ${this.options.password}`) {
        this.authenticated = true;
        this.reply('+OK accepted');
      } else {
        this.socket.end(commandReply('-ERR invalid'));
      }
      return;
    }
    if (command.startsWith('event plain ')) {
      this.reply('+OK event listener enabled plain');
      this.onSubscribed(command);
    } else if (command.startsWith('api ')) {
      const body = this.options.api?.(command.slice(4));
      if (body !== undefined) this.socket.write(`Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`);
    } else if (command === 'exit') {
      this.socket.end(commandReply('+OK bye'));
    } else {
      this.reply('-ERR command not found');
    }
  }

  private reply(text: string): void {
    this.socket.write(commandReply(text));
  }
}

function commandReply(text: string): string {
  return `Content-Type: command/reply\nReply-Text: ${text}\n\n`;
}

function eventFrame(headers: EventHeaders, raw: boolean): Buffer {
  const body = `${headers.map(([name, value]) => `${name}: ${raw ? value : encodeURIComponent(value)}\n`).join('')}\n`;
  return Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-plain\n\n${body}`);
}

export async function startEslTestServer(options: EslTestServerOptions): Promise<EslTestServer> {
  const sessions: EslTestSession[] = [];
  const sockets = new Set<Socket>();
  const waiters: Array<(session: EslTestSession) => void> = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const session = new EslTestSession(socket, options);
    const waiter = waiters.shift();
    if (waiter) waiter(session);
    else sessions.push(session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('ESL test server has no TCP address');
  return {
    host: '127.0.0.1',
    port: address.port,
    nextSession(): Promise<EslTestSession> {
      const ready = sessions.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => waiters.push(resolve));
    },
    close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
