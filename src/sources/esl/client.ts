import { connect, type Socket } from 'node:net';
import { swError, type SipwardenError } from '../../core/errors.js';
import { EslDecoder, parseEventPlain, type EslFrame } from './decoder.js';

/** The sofia subclasses the security parser reads (§2.3 of the formats reference). */
export const SOFIA_SECURITY_SUBCLASSES = [
  'sofia::register_failure',
  'sofia::register_attempt',
  'sofia::pre_register',
  'sofia::register',
] as const;

export interface EslClientOptions {
  host: string;
  port: number;
  password: string;
  /**
   * Events wanted besides the sofia subclasses, which are always subscribed: event names such as `CHANNEL_CREATE`,
   * or further CUSTOM subclasses (`name::sub`).
   */
  events?: string[];
  /** Limit for each handshake step and each api reply. */
  timeoutMs?: number;
}

/**
 * An inbound event socket client for FreeSWITCH (mod_event_socket).
 *
 * Contract:
 * - `events(signal)` opens one connection, authenticates, subscribes and yields each event's headers,
 *   URL-decoded, in the order FreeSWITCH sent them. It ends without throwing when `signal` aborts, and closes
 *   its socket whenever it ends. It throws SW_ERR_SOURCE on any fault (refused, wrong greeting, wrong password,
 *   broken framing, a close or disconnect notice); it never reconnects itself: the supervisor does.
 *   Events completed before a fault are yielded before the error.
 * - `api(command)` runs on the connection of the latest `events()` iteration and resolves with the
 *   api/response body as FreeSWITCH wrote it (`+OK ...` or `-ERR ...`: the caller judges it). It rejects with
 *   SW_ERR_SOURCE when that connection is not up, when no reply comes within `timeoutMs`, or when the command
 *   holds a line break (a value taken from an event must not inject a second command).
 * - No message or error ever contains the password.
 */
export interface EslClient {
  events(signal: AbortSignal): AsyncIterable<Map<string, string>>;
  api(command: string): Promise<string>;
}

const DEFAULT_TIMEOUT_MS = 5_000;
/** ESL has no ping, so a silently dead peer is only found by TCP keepalive probes. */
const KEEPALIVE_DELAY_MS = 15_000;
/** Events held for a slow consumer before the socket stops reading, so memory stays bounded. */
const QUEUE_HIGH_WATER = 1_024;
const EVENT_NAME = /^[A-Za-z0-9_.:-]+$/;
const LINE_BREAK = /[\r\n]/;

type Outcome = EslFrame | SipwardenError;

/** One TCP connection: frames replies to requests in order and queues events for the iterator. */
class EslConnection {
  failure: SipwardenError | undefined;
  private readonly socket: Socket;
  private readonly decoder = new EslDecoder();
  private readonly queued: EslFrame[] = [];
  /** Waiters for non-event frames, oldest first; ESL answers commands in the order they were sent. */
  private readonly replies: Array<(outcome: Outcome) => void> = [];
  private wake: (() => void) | undefined;

  constructor(
    host: string,
    port: number,
    private readonly peer: string,
  ) {
    this.socket = connect({ host, port, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_DELAY_MS, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.stop(swError('SW_ERR_SOURCE', `ESL connection to ${peer} failed: ${error.message}`, error)));
    this.socket.on('close', () => this.stop(swError('SW_ERR_SOURCE', `ESL connection to ${peer} closed by the server`)));
  }

  /**
   * Sends `text` (if any) and waits for the next non-event frame. `what` names the step in errors; the text
   * itself never goes into a message, as it may be `auth <password>`. A reply that comes after the timeout is
   * still taken by this waiter and dropped, so later replies stay matched to their requests.
   */
  request(text: string, what: string, timeoutMs: number): Promise<EslFrame> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(swError('SW_ERR_SOURCE', `ESL ${what} at ${this.peer} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replies.push((outcome) => {
        clearTimeout(timer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      });
      if (text !== '') this.socket.write(text);
    });
  }

  takeEvent(): EslFrame | undefined {
    const frame = this.queued.shift();
    if (this.queued.length === 0 && this.failure === undefined) this.socket.resume();
    return frame;
  }

  /** Resolves on the next frame, fault or close; one consumer at a time. */
  changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  close(): void {
    this.stop(swError('SW_ERR_SOURCE', `ESL connection to ${this.peer} closed by sipwarden`));
  }

  private receive(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) this.route(frame);
    const broken = this.decoder.error;
    if (broken) this.stop(swError('SW_ERR_SOURCE', `ESL stream from ${this.peer} is broken: ${broken.message}`, broken));
    else if (this.queued.length >= QUEUE_HIGH_WATER) this.socket.pause();
    this.notify();
  }

  private route(frame: EslFrame): void {
    const type = frame.headers.get('Content-Type');
    if (type === 'text/event-plain') this.queued.push(frame);
    // FreeSWITCH sends this before it closes (shutdown, `exit`, listener killed); reconnecting is the answer.
    else if (type === 'text/disconnect-notice') this.stop(swError('SW_ERR_SOURCE', `ESL server at ${this.peer} sent a disconnect notice`));
    else this.replies.shift()?.(frame);
  }

  /** The first fault wins; pending requests fail with it and the iterator sees it after the queued events. */
  private stop(error: SipwardenError): void {
    if (this.failure) return;
    this.failure = error;
    for (const settle of this.replies.splice(0)) settle(error);
    this.socket.destroy();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** `event plain A B CUSTOM x::y ...`: mod_event_socket reads every word after CUSTOM as a subclass. */
function subscriptionCommand(extra: readonly string[]): string {
  const names = new Set<string>();
  const subclasses = new Set<string>(SOFIA_SECURITY_SUBCLASSES);
  for (const name of extra) {
    if (!EVENT_NAME.test(name)) {
      throw swError('SW_ERR_CONFIG', `ESL event name "${name.slice(0, 40)}" is invalid; expected letters, digits and _ . : -`);
    }
    if (name.includes('::')) subclasses.add(name);
    else if (name !== 'CUSTOM') names.add(name);
  }
  return `event plain ${[...names, 'CUSTOM', ...subclasses].join(' ')}`;
}

function isOk(frame: EslFrame): boolean {
  return frame.headers.get('Content-Type') === 'command/reply' && (frame.headers.get('Reply-Text') ?? '').startsWith('+OK');
}

export function createEslClient(options: EslClientOptions): EslClient {
  const { host, port, password } = options;
  const peer = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (LINE_BREAK.test(password)) throw swError('SW_ERR_CONFIG', `ESL password for ${peer} contains a line break`);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw swError('SW_ERR_CONFIG', `ESL port ${port} is not in 1..65535`);
  const subscribe = subscriptionCommand(options.events ?? []);
  let current: EslConnection | undefined;

  async function handshake(connection: EslConnection): Promise<void> {
    const greeting = await connection.request('', 'greeting', timeoutMs);
    const type = greeting.headers.get('Content-Type') ?? '';
    if (type !== 'auth/request') {
      throw swError(
        'SW_ERR_SOURCE',
        `ESL server at ${peer} greeted with Content-Type "${type.slice(0, 40)}", expected "auth/request" (is this the event socket port, and does its ACL admit sipwarden?)`,
      );
    }
    if (!isOk(await connection.request(`auth ${password}\n\n`, 'authentication', timeoutMs))) {
      throw swError('SW_ERR_SOURCE', `ESL authentication failed at ${peer}; check the event socket password`);
    }
    const reply = await connection.request(`${subscribe}\n\n`, 'event subscription', timeoutMs);
    if (!isOk(reply)) {
      const text = (reply.headers.get('Reply-Text') ?? '').slice(0, 80);
      throw swError('SW_ERR_SOURCE', `ESL server at ${peer} refused "${subscribe}": ${text}`);
    }
  }

  async function* events(signal: AbortSignal): AsyncGenerator<Map<string, string>> {
    if (signal.aborted) return;
    const connection = new EslConnection(host, port, peer);
    const onAbort = (): void => connection.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await handshake(connection);
      current = connection;
      for (;;) {
        if (signal.aborted) return;
        const frame = connection.takeEvent();
        if (frame) {
          yield parseEventPlain(frame.body ?? '');
          continue;
        }
        if (connection.failure) throw connection.failure;
        await connection.changed();
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      connection.close();
      if (current === connection) current = undefined;
    }
  }

  async function api(command: string): Promise<string> {
    const verb = command.trim().split(/\s+/)[0] ?? '';
    if (verb === '' || LINE_BREAK.test(command)) {
      throw swError('SW_ERR_SOURCE', `ESL api command "${verb.slice(0, 40)}" is empty or contains a line break; not sent`);
    }
    const connection = current;
    if (!connection || connection.failure) throw swError('SW_ERR_SOURCE', `ESL api ${verb}: not connected to ${peer}`);
    const reply = await connection.request(`api ${command}\n\n`, `api ${verb}`, timeoutMs);
    const type = reply.headers.get('Content-Type') ?? '';
    if (type !== 'api/response') throw swError('SW_ERR_SOURCE', `ESL api ${verb} at ${peer} got Content-Type "${type.slice(0, 40)}", expected "api/response"`);
    return reply.body ?? '';
  }

  return { events, api };
}
