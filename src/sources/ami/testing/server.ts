/**
 * A small AMI server on 127.0.0.1 for tests: banner, Challenge, Login (plain or MD5, checked against one
 * user), then a replay of event frames, Pong for Ping, and a Success for any other action. It can cut the
 * connection in the middle of a frame and can go silent after login, to exercise the client's failure paths.
 */
import { createHash, randomInt } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { AmiDecoder, type AmiMessage } from '../decoder.js';

export interface AmiTestServerOptions {
  username: string;
  secret: string;
  /** First line sent on connect, without its line end. Default `Asterisk Call Manager/9.0.0`. */
  banner?: string;
  /** Frames sent in order after a successful login, as `Key: value` lines joined by `\n`. */
  events?: string[];
  /** Sent raw after the events (e.g. a frame cut short), then the server closes the connection. */
  cutWith?: string;
  /** After login, answer nothing at all (no Pong, no action responses). */
  silent?: boolean;
}

export interface LoginAttempt {
  username: string;
  authType: 'plain' | 'md5';
  /** The challenge this connection was given (MD5 only). */
  challenge?: string;
  /** The key the client sent, and md5hex(challenge + secret) as the server computed it (MD5 only). */
  key?: string;
  expectedKey?: string;
  events?: string;
  accepted: boolean;
}

export interface AmiTestServer {
  host: string;
  port: number;
  logins: LoginAttempt[];
  /** Pings answered with a Pong. */
  pongs: number;
  /** Actions other than Login, Challenge and Ping, as received. */
  actions: AmiMessage[];
  /** One promise per accepted connection, resolved when it closes. */
  closed: Promise<void>[];
  close(): Promise<void>;
}

function frame(fields: [string, string][]): string {
  return fields.map(([key, value]) => `${key}: ${value}\r\n`).join('') + '\r\n';
}

export async function startAmiTestServer(options: AmiTestServerOptions): Promise<AmiTestServer> {
  const sockets = new Set<Socket>();
  const logins: LoginAttempt[] = [];
  const actions: AmiMessage[] = [];
  const closed: Promise<void>[] = [];
  const state = { pongs: 0 };

  function serve(socket: Socket): void {
    sockets.add(socket);
    socket.setNoDelay(true);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new AmiDecoder();
    let challenge: string | undefined;
    let loggedIn = false;
    socket.write(`${options.banner ?? 'Asterisk Call Manager/9.0.0'}\r\n`);
    socket.on('data', (chunk: Buffer) => {
      for (const message of decoder.push(chunk)) {
        const id: [string, string][] = [['ActionID', message.get('ActionID') ?? '']];
        const action = message.get('Action')?.toLowerCase();
        if (action === 'challenge') {
          challenge = String(randomInt(100_000_000, 999_999_999));
          socket.write(frame([['Response', 'Success'], ...id, ['Challenge', challenge]]));
        } else if (action === 'login') {
          loggedIn = logIn(message, challenge);
          if (!loggedIn) {
            socket.end(frame([['Response', 'Error'], ...id, ['Message', 'Authentication failed']]));
            return;
          }
          socket.write(frame([['Response', 'Success'], ...id, ['Message', 'Authentication accepted']]));
          for (const text of options.events ?? []) socket.write(text.replace(/\r?\n/g, '\r\n') + '\r\n\r\n');
          if (options.cutWith !== undefined) socket.end(options.cutWith.replace(/\r?\n/g, '\r\n'));
        } else if (!loggedIn) {
          socket.write(frame([['Response', 'Error'], ...id, ['Message', 'Permission denied']]));
        } else if (options.silent) {
          continue;
        } else if (action === 'ping') {
          state.pongs++;
          socket.write(frame([['Response', 'Success'], ...id, ['Ping', 'Pong']]));
        } else {
          actions.push(message);
          socket.write(frame([['Response', 'Success'], ...id, ['Message', `${message.get('Action')} done`]]));
        }
      }
    });
  }

  function logIn(message: AmiMessage, challenge: string | undefined): boolean {
    const username = message.get('Username') ?? '';
    const events = message.get('Events');
    const known = username === options.username;
    if (message.get('AuthType')?.toLowerCase() === 'md5') {
      const key = message.get('Key');
      const expectedKey = createHash('md5').update((challenge ?? '') + options.secret).digest('hex');
      const accepted = known && challenge !== undefined && key === expectedKey;
      logins.push({ username, authType: 'md5', challenge, key, expectedKey, events, accepted });
      return accepted;
    }
    const accepted = known && message.get('Secret') === options.secret;
    logins.push({ username, authType: 'plain', events, accepted });
    return accepted;
  }

  const server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    get pongs() {
      return state.pongs;
    },
    logins,
    actions,
    closed,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
