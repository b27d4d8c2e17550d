import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';

/**
 * A test server on 127.0.0.1 that answers like apiban.org, for v1 (`GET /api/{key}/banned[/{id}]`) and v2
 * (`POST /api/get` with a bearer token), with the documented bodies: pages of 250 with an ID, the end-of-list
 * 400, 403 for a wrong key, 429 after too many requests in a window, and `ipaddress` as a string in errors.
 * Tests add entries, queue failures, and read back every request it received.
 */

export interface ApibanReplayOptions {
  key: string;
  /** Entries served in this order; anything goes, including garbage the client must drop. */
  entries?: string[];
  pageSize?: number;
  /** Answer 429 after this many requests within `windowMs` (APIBAN: 11 per 2 minutes). */
  rateLimit?: { requests: number; windowMs: number; retryAfterSeconds?: number };
  /** A page of exactly one entry is sent with `ipaddress` as a string, as some servers do. */
  singleAsString?: boolean;
  clock?: Clock;
}

export interface ReplayedRequest {
  method: string;
  /** The path with the key replaced by `{key}`, so tests can print it. */
  path: string;
  authorization?: string;
  body?: unknown;
  status: number;
}

/** IDs are opaque numeric strings, like APIBAN's (it documents them as the timestamp of the next entry). */
const FIRST_ID = 1_700_000_000;

export class ApibanReplayServer {
  readonly requests: ReplayedRequest[] = [];
  /** The base URL clients configure: `http://127.0.0.1:PORT/api`. */
  url = '';
  private readonly entries: string[];
  private readonly failures: { status: number; body: string }[] = [];
  private readonly recent: number[] = [];
  private server: Server | undefined;

  constructor(private readonly options: ApibanReplayOptions) {
    this.entries = [...(options.entries ?? [])];
  }

  static async start(options: ApibanReplayOptions): Promise<ApibanReplayServer> {
    const replay = new ApibanReplayServer(options);
    const server = createServer((req, res) => void replay.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    replay.server = server;
    replay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    return replay;
  }

  /** More entries, after the ones served so far (new IDs). */
  add(...entries: string[]): void {
    this.entries.push(...entries);
  }

  /** The next `times` requests get this status and body instead of their answer (a 503 outage, a broken proxy). */
  fail(status: number, body: string, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ status, body });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = req.url ?? '/';
    const request: ReplayedRequest = { method: req.method ?? 'GET', path: url.split(this.options.key).join('{key}'), status: 0 };
    if (req.headers.authorization) request.authorization = req.headers.authorization.split(this.options.key).join('{key}');
    if (text) {
      try {
        request.body = JSON.parse(text);
      } catch {
        request.body = text;
      }
    }
    this.requests.push(request);
    const answer = this.answer(req, url, request.body);
    request.status = answer.status;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body);
  }

  private answer(req: IncomingMessage, url: string, body: unknown): { status: number; body: string; headers?: Record<string, string> } {
    const failure = this.failures.shift();
    if (failure) return failure;
    const limit = this.options.rateLimit;
    if (limit) {
      const now = (this.options.clock ?? systemClock).now();
      while (this.recent.length > 0 && (this.recent[0] as number) <= now - limit.windowMs) this.recent.shift();
      if (this.recent.length >= limit.requests) {
        const headers = limit.retryAfterSeconds === undefined ? undefined : { 'retry-after': String(limit.retryAfterSeconds) };
        return { status: 429, body: JSON.stringify({ ipaddress: 'rate limit exceeded', ID: 'unauthorized' }), ...(headers ? { headers } : {}) };
      }
      this.recent.push(now);
    }
    const v1 = /^\/api\/([^/]+)\/banned(?:\/([^/]+))?$/.exec(url);
    if (req.method === 'GET' && v1) {
      if (decodeURIComponent(v1[1] as string) !== this.options.key) return unauthorized();
      return this.page(v1[2] === undefined ? undefined : decodeURIComponent(v1[2]));
    }
    if (req.method === 'POST' && url === '/api/get') {
      if (req.headers.authorization !== `Bearer ${this.options.key}`) return unauthorized();
      const id = (body as { id?: unknown } | undefined)?.id;
      return this.page(typeof id === 'string' ? id : undefined);
    }
    return { status: 404, body: JSON.stringify({ ipaddress: 'not found', ID: 'none' }) };
  }

  /** The entries after `id` (from the start for none or "100"), at most one page. */
  private page(id: string | undefined): { status: number; body: string } {
    const after = id === undefined || id === '100' ? 0 : Number(id) - FIRST_ID + 1;
    if (!Number.isInteger(after) || after < 0) return { status: 400, body: JSON.stringify({ ipaddress: ['bad id'], ID: 'none' }) };
    const slice = this.entries.slice(after, after + (this.options.pageSize ?? 250));
    if (slice.length === 0) return { status: 400, body: JSON.stringify({ ipaddress: ['no new bans'], ID: 'none' }) };
    const ipaddress = slice.length === 1 && this.options.singleAsString ? slice[0] : slice;
    return { status: 200, body: JSON.stringify({ ipaddress, ID: String(FIRST_ID + after + slice.length - 1) }) };
  }
}

function unauthorized(): { status: number; body: string } {
  return { status: 403, body: JSON.stringify({ ipaddress: 'none', ID: 'unauthorized' }) };
}
