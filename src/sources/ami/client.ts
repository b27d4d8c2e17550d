/**
 * A network client for the Asterisk Manager Interface (reference §1.5): connect, check the banner, log in
 * (plain or MD5), then stream events, with a Ping heartbeat so a half-open connection is noticed.
 *
 * Contract, as for every source (sources/types.ts):
 * - `messages(signal)` yields every `Event:` message, oldest first. It ends without throwing when `signal`
 *   aborts, and closes the socket. The consumer owns the signal.
 * - It throws SW_ERR_SOURCE on a fault it cannot get past: refused connection, wrong banner, failed login,
 *   a connection closed by the server (mid-frame or not), no Pong within `timeoutMs`. Events that arrived
 *   complete before the fault are yielded first. It never reconnects: the supervisor does, with backoff.
 * - `action(fields)` runs over the connection `messages()` holds; one `messages()` at a time per client.
 * - No message or error ever contains the secret, even when the server echoes it back.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { swError } from '../../core/errors.js';
import { AmiDecoder, type AmiMessage } from './decoder.js';

export interface AmiClientOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** `md5` keeps the secret off the wire (Action: Challenge, then a Key). Default `plain`. */
  auth?: 'plain' | 'md5';
  /** Event classes for the Login's `Events:` field. Default `security`. */
  events?: string;
  /** Default 20000. */
  pingIntervalMs?: number;
  /** Limit for the banner (connect included), each response and each Pong. Default 10000. */
  timeoutMs?: number;
}

export interface AmiClient {
  messages(signal: AbortSignal): AsyncIterable<AmiMessage>;
  /** Sends an action with a fresh ActionID (any given one is replaced); resolves with its Response. */
  action(fields: [string, string][]): Promise<AmiMessage>;
}

const BANNER = 'Asterisk Call Manager/';
/** A first line longer than this is not an AMI banner, whatever follows. */
const BANNER_LIMIT = 256;
/** Events held for a slow consumer before the socket is paused, so TCP backpressure reaches Asterisk. */
const QUEUE_HIGH_WATER = 1000;

interface Pending {
  resolve(message: AmiMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One TCP session: routes Responses to the action waiting for their ActionID and queues events. */
class Connection {
  readonly banner: Promise<void>;
  private readonly decoder = new AmiDecoder();
  private readonly events: AmiMessage[] = [];
  private readonly pending = new Map<string, Pending>();
  private bannerDone!: (error?: Error) => void;
  /** Chunks received before the banner line was complete. */
  private early: Buffer[] = [];
  private bannerSeen = false;
  private inFrame = false;
  private lineHasText = false;
  private paused = false;
  private failure: Error | undefined;
  private closed = false;
  /** Why the connection is no longer usable, whoever ended it. */
  private ended: Error | undefined;
  private wakeReader: (() => void) | undefined;
  private nextActionId = 1;

  constructor(
    private readonly socket: Socket,
    private readonly where: string,
    private readonly redact: (text: string) => string,
  ) {
    this.banner = new Promise((resolve, reject) => {
      this.bannerDone = (error) => (error ? reject(error) : resolve());
    });
    // A failure before anyone awaits the banner must not become an unhandled rejection.
    this.banner.catch(() => undefined);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(swError('SW_ERR_SOURCE', `AMI connection to ${where} failed: ${error.message}`, error)));
    socket.on('close', () => {
      const how = this.midFrame() ? 'in the middle of a message' : 'by the server';
      this.fail(swError('SW_ERR_SOURCE', `AMI connection to ${where} closed ${how}`));
    });
  }

  request(fields: [string, string][], timeoutMs: number): Promise<AmiMessage> {
    if (this.ended) return Promise.reject(this.ended);
    const name = fields.find(([key]) => key.toLowerCase() === 'action')?.[1] ?? '(no Action)';
    // A value taken from an event (a channel name) could otherwise smuggle in a second action.
    if (fields.some(([key, value]) => /[\r\n]/.test(key + value) || key.includes(':'))) {
      return Promise.reject(swError('SW_ERR_SOURCE', `AMI action ${name} refused: a field has a line break or a key has a colon`));
    }
    const id = `sw-${this.nextActionId++}`;
    const sent: [string, string][] = [...fields.filter(([key]) => key.toLowerCase() !== 'actionid'), ['ActionID', id]];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(swError('SW_ERR_SOURCE', `AMI server at ${this.where} sent no response to ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(sent.map(([key, value]) => `${key}: ${value}\r\n`).join('') + '\r\n');
    });
  }

  /** The next event, or undefined once closed by us; throws the failure after the queued events. */
  async nextEvent(): Promise<AmiMessage | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const event = this.events.shift();
      if (event) {
        if (this.paused && this.events.length < QUEUE_HIGH_WATER / 2) {
          this.paused = false;
          this.socket.resume();
        }
        return event;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
    }
  }

  fail(error: Error): void {
    if (this.failure || this.closed) return;
    this.failure = error;
    this.shutDown(error);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.shutDown(swError('SW_ERR_SOURCE', `AMI connection to ${this.where} closed by the client`));
  }

  private shutDown(error: Error): void {
    this.ended = error;
    this.socket.destroy();
    this.bannerDone(error);
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.pending.clear();
    this.wake();
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  private receive(chunk: Buffer): void {
    let bytes = chunk;
    if (!this.bannerSeen) {
      this.early.push(chunk);
      if (!this.checkBanner()) return;
      bytes = Buffer.concat(this.early);
      this.early = [];
      this.track(bytes.subarray(bytes.indexOf(0x0a) + 1));
    } else {
      this.track(bytes);
    }
    for (const message of this.decoder.push(bytes)) this.dispatch(message);
  }

  /** Checked on raw bytes, because the decoder silently drops a first line that is neither banner nor field. */
  private checkBanner(): boolean {
    const text = Buffer.concat(this.early).toString('latin1');
    const lf = text.indexOf('\n');
    if (lf < 0 && text.length <= BANNER_LIMIT) return false;
    const line = (lf < 0 ? text : text.slice(0, lf)).replace(/\r$/, '');
    if (lf < 0 || !line.startsWith(BANNER)) {
      const seen = JSON.stringify(this.redact(line.slice(0, 80)));
      this.fail(swError('SW_ERR_SOURCE', `AMI server at ${this.where} sent ${seen} instead of the banner "${BANNER}x.y.z"`));
      return false;
    }
    this.bannerSeen = true;
    this.bannerDone();
    return true;
  }

  /** Follows frame boundaries, so a close can be told apart: between frames, or in the middle of one. */
  private track(bytes: Buffer): void {
    for (const byte of bytes) {
      if (byte === 0x0a) {
        this.inFrame = this.lineHasText;
        this.lineHasText = false;
      } else if (byte !== 0x0d) {
        this.lineHasText = true;
      }
    }
  }

  private dispatch(message: AmiMessage): void {
    if (message.kind === 'banner') return;
    const id = message.get('ActionID');
    const waiting = id === undefined ? undefined : this.pending.get(id);
    if (id !== undefined && waiting && message.get('Response') !== undefined) {
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      waiting.resolve(message);
      return;
    }
    if (message.get('Event') === undefined) return;
    this.events.push(message);
    if (!this.paused && this.events.length >= QUEUE_HIGH_WATER) {
      this.paused = true;
      this.socket.pause();
    }
    this.wake();
  }

  private midFrame(): boolean {
    return this.bannerSeen ? this.inFrame || this.lineHasText : this.early.length > 0;
  }
}

function withTimeout(promise: Promise<void>, ms: number, onTimeout: () => Error): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)));
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

export function createAmiClient(options: AmiClientOptions): AmiClient {
  const { host, port, username, secret } = options;
  const where = `${host}:${port}`;
  const auth = options.auth ?? 'plain';
  const events = options.events ?? 'security';
  const pingIntervalMs = options.pingIntervalMs ?? 20_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const redact = (text: string): string => (secret === '' ? text : text.split(secret).join('[secret]'));
  let current: Connection | undefined;

  async function logIn(connection: Connection): Promise<void> {
    const login: [string, string][] = [['Action', 'Login'], ['Username', username]];
    if (auth === 'md5') {
      const reply = await connection.request([['Action', 'Challenge'], ['AuthType', 'MD5']], timeoutMs);
      const challenge = reply.get('Challenge');
      if (challenge === undefined) {
        const said = JSON.stringify(redact(reply.get('Message') ?? ''));
        throw swError('SW_ERR_SOURCE', `AMI server at ${where} sent no MD5 challenge for user "${username}" (${said})`);
      }
      const key = createHash('md5').update(challenge + secret).digest('hex');
      login.push(['AuthType', 'MD5'], ['Key', key]);
    } else {
      login.push(['Secret', secret]);
    }
    login.push(['Events', events]);
    const reply = await connection.request(login, timeoutMs);
    if (reply.get('Response')?.toLowerCase() !== 'success') {
      const said = JSON.stringify(redact(reply.get('Message') ?? ''));
      throw swError('SW_ERR_SOURCE', `AMI login to ${where} failed for user "${username}" (wrong secret or unknown user): ${said}`);
    }
  }

  /** One Ping in flight at most; no Pong within timeoutMs means a dead (often half-open) connection. */
  function heartbeat(connection: Connection): NodeJS.Timeout {
    let waiting = false;
    return setInterval(() => {
      if (waiting) return;
      waiting = true;
      connection.request([['Action', 'Ping']], timeoutMs).then(
        () => (waiting = false),
        (error: unknown) =>
          connection.fail(swError('SW_ERR_SOURCE', `AMI server at ${where} did not answer Ping within ${timeoutMs} ms; connection presumed dead`, error)),
      );
    }, pingIntervalMs);
  }

  async function* messages(signal: AbortSignal): AsyncGenerator<AmiMessage> {
    if (signal.aborted) return;
    // Without noDelay, Nagle holds a small action behind unacknowledged bytes for a delayed ACK (~40 ms).
    const connection = new Connection(connect({ host, port, noDelay: true }), where, redact);
    const onAbort = (): void => connection.close();
    signal.addEventListener('abort', onAbort, { once: true });
    let pinger: NodeJS.Timeout | undefined;
    try {
      await withTimeout(connection.banner, timeoutMs, () => swError('SW_ERR_SOURCE', `AMI server at ${where} sent no banner within ${timeoutMs} ms`));
      await logIn(connection);
      current = connection;
      pinger = heartbeat(connection);
      for (;;) {
        const event = await connection.nextEvent();
        if (!event) return;
        yield event;
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    } finally {
      clearInterval(pinger);
      signal.removeEventListener('abort', onAbort);
      if (current === connection) current = undefined;
      connection.close();
    }
  }

  function action(fields: [string, string][]): Promise<AmiMessage> {
    if (!current) return Promise.reject(swError('SW_ERR_SOURCE', `AMI action not sent: not logged in to ${where}`));
    return current.request(fields, timeoutMs);
  }

  return { messages, action };
}
