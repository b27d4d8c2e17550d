import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describeError, swError } from '../core/errors.js';
import { parseEndpoint } from '../core/ip.js';
import type { Logger } from '../core/logger.js';
import { splitHostPort } from '../core/listen.js';
import type { AuthorizeDecision, AuthorizeQuery } from './monitor.js';

/**
 * The call-authorisation endpoint a dialplan asks before it dials out (Asterisk `CURL()`, Kamailio
 * `http_client_query`, FreeSWITCH `curl`):
 *
 *   GET /v1/authorize?account=…&destination=…[&ip=…][&format=text]   Authorization: Bearer <token>
 *   GET /health                                                       no token
 *
 * Contract: `startAuthorizeServer` resolves once the socket is bound and throws SW_ERR_CONFIG naming the address
 * when it cannot be. A request never makes it throw: a fault in `decide` is answered per `failMode` with a 200
 * (the dialplan must get an answer it can act on) and logged at most once a minute. When the process is
 * overloaded (event-loop lag past `maxLagMs`, or `maxInFlight` answers not yet sent) the answer comes at once
 * from `failMode`, without asking `decide`. The token is never logged: no request header is.
 */
export interface AuthorizeServerOptions {
  /** `host:port`, `[v6]:port`; port 0 picks a free one (see `address`). */
  listen: string;
  token: string;
  failMode: 'open' | 'closed';
  maxLagMs: number;
  decide(query: AuthorizeQuery): AuthorizeDecision;
  logger: Logger;
  /** Answers in progress past which the server counts as overloaded (default 1000). */
  maxInFlight?: number;
  /** The event-loop lag now, in ms; default: the sampler below. Tests inject a fixed value. */
  lag?: () => number;
}

export interface AuthorizeCounters {
  requests: number;
  allowed: number;
  denied: number;
  /** Answered from failMode because the process was overloaded. */
  overloaded: number;
  /** Answered from failMode because the decision function threw. */
  faults: number;
  unauthorized: number;
  badRequests: number;
}

export interface AuthorizeServer {
  readonly address: { host: string; port: number };
  readonly counters: Readonly<AuthorizeCounters>;
  close(): Promise<void>;
}

const MAX_URL = 2048;
const MAX_ACCOUNT = 128;
const MAX_DESTINATION = 64;
const FAULT_LOG_MS = 60_000;
const LAG_SAMPLE_MS = 10;
// Asterisk keeps one curl handle per thread and FreeSWITCH per module: connections are worth keeping.
const KEEP_ALIVE_MS = 60_000;

type Parsed = { query: AuthorizeQuery; text: boolean } | { error: string; text: boolean };

/** The query string of `/v1/authorize`, checked: what the dialplan sent, or what is wrong with it. */
export function parseAuthorizeQuery(search: string): Parsed {
  const params = new URLSearchParams(search);
  const format = params.get('format');
  const text = format === 'text';
  if (format !== null && format !== 'text' && format !== 'json') return { error: 'format must be "text" or "json"', text };
  const account = params.get('account') ?? '';
  const destination = params.get('destination') ?? '';
  if (account === '') return { error: 'account is required (the calling account, e.g. ${CHANNEL(endpoint)})', text };
  if (destination === '') return { error: 'destination is required (the dialled number, e.g. ${EXTEN})', text };
  if (account.length > MAX_ACCOUNT || hasControl(account)) return { error: `account must be 1 to ${MAX_ACCOUNT} printable characters`, text };
  if (destination.length > MAX_DESTINATION || hasControl(destination)) return { error: `destination must be 1 to ${MAX_DESTINATION} printable characters`, text };
  const query: AuthorizeQuery = { account, destination };
  const ip = params.get('ip') ?? '';
  // An empty ip is a dialplan variable that was not set: the answer goes without the address check.
  if (ip !== '') {
    // PBXs print the peer with its port (`203.0.113.5:5060`, `[2001:db8::5]:5060`); the port is not needed.
    const endpoint = parseEndpoint(ip);
    if (endpoint === null) return { error: 'ip must be an IPv4 or IPv6 address (a port is allowed)', text };
    query.ip = endpoint.ip;
  }
  return { query, text };
}

function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Event-loop lag: how late a 10 ms timer fired last time, or how overdue it is now, whichever is more. The
 * second catches a stall before the timer gets to run (requests read in the same loop turn as the stall ends).
 * `monitorEventLoopDelay` was tried: it does not record a single long block.
 */
function lagSampler(): { lag: () => number; stop: () => void } {
  let expected = performance.now() + LAG_SAMPLE_MS;
  let last = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    last = Math.max(0, now - expected);
    expected = now + LAG_SAMPLE_MS;
  }, LAG_SAMPLE_MS);
  timer.unref();
  return { lag: () => Math.max(last, performance.now() - expected), stop: () => clearInterval(timer) };
}

export async function startAuthorizeServer(options: AuthorizeServerOptions): Promise<AuthorizeServer> {
  const { failMode, maxLagMs, decide, logger } = options;
  const maxInFlight = options.maxInFlight ?? 1000;
  const sampler = options.lag ? undefined : lagSampler();
  const lag = options.lag ?? sampler!.lag;
  const expected = digest(`Bearer ${options.token}`);
  const counters: AuthorizeCounters = { requests: 0, allowed: 0, denied: 0, overloaded: 0, faults: 0, unauthorized: 0, badRequests: 0 };
  let inFlight = 0;
  let faultsSinceLog = 0;
  let faultLoggedAt = -Infinity;

  const fallback = (why: string): AuthorizeDecision =>
    failMode === 'open' ? { allow: true, reason: `${why}, failing open` } : { allow: false, reason: `${why}, failing closed` };

  const authorized = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization;
    // Both sides hashed to one length, so the comparison takes the same time whatever was sent.
    return header !== undefined && header.length <= 512 && timingSafeEqual(digest(header), expected);
  };

  const decideSafely = (query: AuthorizeQuery): AuthorizeDecision => {
    try {
      return decide(query);
    } catch (error) {
      counters.faults++;
      faultsSinceLog++;
      const now = performance.now();
      if (now - faultLoggedAt >= FAULT_LOG_MS) {
        logger.error({ err: describeError(error), faults: faultsSinceLog, failMode }, `call authorisation failed; answering per failMode (${failMode})`);
        faultLoggedAt = now;
        faultsSinceLog = 0;
      }
      return fallback('internal error');
    }
  };

  const authorize = (req: IncomingMessage, res: ServerResponse, search: string): void => {
    if (!authorized(req)) {
      counters.unauthorized++;
      res.setHeader('www-authenticate', 'Bearer');
      send(res, 401, search.includes('format=text'), 'a valid bearer token is required');
      return;
    }
    const parsed = parseAuthorizeQuery(search);
    if ('error' in parsed) {
      counters.badRequests++;
      send(res, 400, parsed.text, parsed.error);
      return;
    }
    let decision: AuthorizeDecision;
    let overloaded = false;
    if (inFlight > maxInFlight || lag() > maxLagMs) {
      counters.overloaded++;
      overloaded = true;
      decision = fallback('overloaded');
    } else {
      decision = decideSafely(parsed.query);
    }
    if (decision.allow) counters.allowed++;
    else counters.denied++;
    if (!decision.allow && !overloaded) {
      logger.info({ account: parsed.query.account, destination: parsed.query.destination, ip: parsed.query.ip, incident: decision.incident }, `call denied: ${decision.reason}`);
    }
    answer(res, decision, parsed.text, overloaded);
  };

  const server: Server = createServer({ keepAlive: true, noDelay: true, maxHeaderSize: 8192, requestTimeout: 10_000 }, (req, res) => {
    counters.requests++;
    inFlight++;
    res.once('close', () => inFlight--);
    const url = req.url ?? '/';
    if (url.length > MAX_URL) return send(res, 414, false, `the request line is longer than ${MAX_URL} characters`);
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const search = mark < 0 ? '' : url.slice(mark + 1);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, false, 'only GET is supported');
    }
    if (path === '/v1/authorize') return authorize(req, res, search);
    if (path === '/health') return sendJson(res, 200, { status: 'ok', overloaded: inFlight > maxInFlight || lag() > maxLagMs });
    return send(res, 404, false, 'unknown path: use /v1/authorize or /health');
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  const { host, port } = splitHostPort(options.listen);
  try {
    const listening = once(server, 'listening');
    server.listen(port, host);
    await listening;
  } catch (error) {
    sampler?.stop();
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is in use by another process' : code === 'EADDRNOTAVAIL' ? 'no local interface has that address' : describeError(error);
    throw swError('SW_ERR_CONFIG', `fraud.authorize.listen ${options.listen}: cannot listen for call authorisation: ${why}`, error);
  }
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    counters,
    async close() {
      sampler?.stop();
      const closed = once(server, 'close');
      server.close();
      server.closeIdleConnections();
      await closed;
    },
  };
}

function answer(res: ServerResponse, decision: AuthorizeDecision, text: boolean, overloaded: boolean): void {
  if (text) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(decision.allow ? 'ALLOW' : `DENY ${decision.reason}`);
    return;
  }
  const body: Record<string, unknown> = { decision: decision.allow ? 'allow' : 'deny', reason: decision.reason };
  if (decision.tier !== undefined) body.tier = decision.tier;
  if (decision.e164 !== undefined) body.e164 = decision.e164;
  if (decision.incident !== undefined) body.incident = decision.incident;
  if (decision.wouldDeny) body.monitorOnly = true;
  if (overloaded) body.overloaded = true;
  sendJson(res, 200, body);
}

function send(res: ServerResponse, status: number, text: boolean, message: string): void {
  if (!text) return sendJson(res, status, { error: message });
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  // A dialplan reading the body sees neither ALLOW nor DENY, and goes its deny (or error) way.
  res.end(`ERROR ${message}`);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
