import type { AmiSourceConfig, EslSourceConfig, SyslogSourceConfig } from '../../config/schema.js';
import { describeError } from '../../core/errors.js';
import { parseListen, type ListenAddress } from '../../core/listen.js';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

const PROBE_MS = 4000;
const EVENT_WAIT_MS = 2000;

/**
 * Runs `use` while `stream` holds a live connection, then stops it. A failure of the stream (refused, login
 * rejected) wins over a timeout, so doctor says why a source cannot work, not only that it did not.
 */
async function whileConnected(
  stream: (signal: AbortSignal) => AsyncIterable<unknown>, use: () => Promise<string>, idleHint?: string,
): Promise<ProbeResult> {
  const controller = new AbortController();
  let failure: unknown;
  let seen = 0;
  const running = (async () => {
    try {
      for await (const _ of stream(controller.signal)) seen++;
    } catch (error) {
      failure = error;
    }
  })();
  const deadline = Date.now() + PROBE_MS;
  try {
    while (Date.now() < deadline && failure === undefined) {
      try {
        const detail = await use();
        if (idleHint === undefined) return { ok: true, detail };
        // A moment for one event, so the operator knows events flow, not only that the login worked.
        const until = Date.now() + EVENT_WAIT_MS;
        while (seen === 0 && failure === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        return { ok: true, detail: `${detail}; ${seen > 0 ? `saw ${seen} event(s)` : `no event within ${EVENT_WAIT_MS / 1000} s (${idleHint})`}` };
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { ok: false, detail: failure !== undefined ? describeError(failure) : `no session within ${PROBE_MS / 1000} s` };
  } finally {
    controller.abort();
    await running;
  }
}

/** Connects and logs in, then proves the session with a Ping. The secret is never part of the result. */
export async function probeAmi(spec: AmiSourceConfig): Promise<ProbeResult> {
  const { createAmiClient } = await import('../../sources/ami/client.js');
  const client = createAmiClient({ host: spec.host, port: spec.port, username: spec.username, secret: spec.secret, auth: spec.auth, events: spec.events });
  return whileConnected(
    (signal) => client.messages(signal),
    async () => {
      const reply = await client.action([['Action', 'Ping']]);
      return `logged in at ${spec.host}:${spec.port} as ${spec.username} (Ping: ${reply.get('Response') ?? '?'})`;
    },
    'normal on a quiet PBX; security events need `read = security` for this user in manager.conf',
  );
}

/** Authenticates and subscribes, then proves the session with `api status`. */
export async function probeEsl(spec: EslSourceConfig): Promise<ProbeResult> {
  const { createEslClient } = await import('../../sources/esl/client.js');
  const client = createEslClient({ host: spec.host, port: spec.port, password: spec.password });
  return whileConnected(
    (signal) => client.events(signal),
    async () => {
      const status = await client.api('status');
      return `authenticated at ${spec.host}:${spec.port} and subscribed (${status.split('\n')[0]?.slice(0, 60) ?? ''})`;
    },
    'normal when nobody registers; sofia events need a profile with auth',
  );
}

/** Binds the configured addresses; "in use" usually means the daemon is already listening there. */
export async function probeSyslog(spec: SyslogSourceConfig): Promise<ProbeResult> {
  const { createSyslogListener } = await import('../../sources/syslog/listener.js');
  const split = (text: string) => ({ host: text.slice(0, text.lastIndexOf(':')).replace(/^\[|\]$/g, ''), port: Number(text.slice(text.lastIndexOf(':') + 1)) });
  const listener = createSyslogListener({ ...(spec.udp ? { udp: split(spec.udp) } : {}), ...(spec.tcp ? { tcp: split(spec.tcp) } : {}) });
  const where = [spec.udp && `udp ${spec.udp}`, spec.tcp && `tcp ${spec.tcp}`].filter(Boolean).join(', ');
  return whileConnected(
    (signal) => listener.messages(signal),
    async () => {
      await listener.listening();
      return `can listen on ${where}`;
    },
  );
}

/**
 * Binds each `udp://host:port` / `tcp://host:port` for a moment and lets go: whether the daemon could listen
 * there. (If the daemon is running, it holds them already, which doctor reports as a warning, not a failure.)
 */
export async function probeListen(listen: readonly string[]): Promise<ProbeResult> {
  const { createSocket } = await import('node:dgram');
  const { createServer } = await import('node:net');
  const { isIPv6 } = await import('node:net');
  for (const url of listen) {
    let address: ListenAddress;
    try {
      address = parseListen(url);
    } catch {
      return { ok: false, detail: `${url} is not udp://host:port or tcp://host:port` };
    }
    const { transport, host, port } = address;
    try {
      await new Promise<void>((resolve, reject) => {
        if (transport === 'udp') {
          const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
          socket.once('error', reject);
          socket.bind(port, host, () => socket.close(() => resolve()));
        } else {
          const server = createServer();
          server.once('error', reject);
          server.listen(port, host, () => server.close(() => resolve()));
        }
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why = code === 'EADDRINUSE' ? 'in use by another process (the daemon itself, or a PBX: a honeypot needs a port of its own)' : describeError(error);
      return { ok: false, detail: `cannot listen on ${url}: ${why}` };
    }
  }
  return { ok: true, detail: `can listen on ${listen.join(', ')}` };
}
