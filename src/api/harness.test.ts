import { rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../config/schema.js';
import { ManualClock } from '../core/clock.js';
import type { SecurityEvent } from '../core/event.js';
import type { Incident } from '../fraud/incidents.js';
import { createLogger } from '../core/logger.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { ApiToken, Role, Store } from '../store/types.js';
import { newToken, tokenHash } from './auth.js';
import type { ApiDeps, HealthReport } from './context.js';
import { startApiServer, type ApiServer } from './server.js';

/**
 * The API under test, for real: fastify on a loopback port, a SQLite file in a temp dir, a manual clock. Named
 * `.test.ts` so it sits with the API tests it serves; it has no tests of its own.
 */

export const T0 = 1_700_000_000_000;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: any;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (no JSON encoding), with `contentType`. */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface Harness {
  url: string;
  store: Store;
  clock: ManualClock;
  dbPath: string;
  server: ApiServer;
  /** What health() answers; tests change it. */
  health: HealthReport;
  /** One live token per role: its secret and its stored record. */
  tokens: Record<Role, { secret: string; record: ApiToken }>;
  /** How often the API told the daemon that decisions changed. */
  changes: number;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  addToken(name: string, role: Role): Promise<{ secret: string; record: ApiToken }>;
  addEvents(events: Partial<SecurityEvent>[]): Promise<number[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra config keys (merged over the defaults below). */
  config?: Record<string, unknown>;
  /** api.failedAuth.max; high by default so that tests sending bad tokens on purpose are not locked out. */
  failedMax?: number;
  /** Other api: keys (trustProxy, sessionTtl). */
  api?: Record<string, unknown>;
  metrics?: ApiDeps['metrics'];
}

export function healthReport(over: Partial<HealthReport> = {}): HealthReport {
  return {
    node: 'apitest', version: 'test', startedAt: T0, enforcer: { name: 'dry-run', ok: true, checkedAt: T0 },
    sources: [{ id: 'ast', type: 'file', state: 'running', restarts: 0 }], feeds: [], activeBans: 0, ...over,
  };
}

export function event(over: Partial<SecurityEvent> = {}): SecurityEvent {
  return { at: T0, kind: 'auth-failure', ip: '203.0.113.7', server: 'asterisk', evidence: 'verified', sensor: 'apitest/ast', raw: 'line', ...over };
}

/** A toll-fraud incident of account 1001, as the fraud engine saves one. */
export function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'fraud-1001-x', account: '1001', openedAt: T0 - 30 * MINUTE, updatedAt: T0 - 10 * MINUTE, severity: 'critical',
    rules: [{ rule: 'A1', severity: 'critical', metric: 'calls', value: 12, threshold: 10, windowMs: 10 * MINUTE, at: T0 - 30 * MINUTE, detail: '12 premium calls in 10m' }],
    sources: ['203.0.113.7'], destinations: [{ raw: '0097259', e164: '+97259', country: 'IL', tier: 'T3', reasons: ['country-not-allowed'] }],
    callIds: ['c1'], calls: 12, answered: 3, minutes: 40, actions: [], ...over,
  };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-api-'));
  const dbPath = join(dir, 'sw.db');
  const config = configSchema.parse({
    node: 'apitest',
    store: { sqlite: dbPath },
    enforce: { backend: 'dry-run' },
    ...options.config,
    api: { listen: '127.0.0.1:0', failedAuth: { max: options.failedMax ?? 1000, per: '1m' }, ...options.api },
  });
  const store = openSqliteStore(dbPath);
  const clock = new ManualClock(T0);
  const harness = {
    store, clock, dbPath, health: healthReport(), changes: 0,
    tokens: {} as Harness['tokens'],
  } as Harness;
  const server = await startApiServer({
    config, store, clock, logger: createLogger('silent'), health: () => harness.health,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    onDecisionsChanged: () => void harness.changes++,
  });
  harness.server = server;
  harness.url = `http://127.0.0.1:${server.address.port}`;
  harness.addToken = async (name, role) => {
    const secret = newToken();
    const record = await store.addToken({ name, role, hash: tokenHash(secret), createdAt: clock.now(), createdBy: 'test' });
    return { secret, record };
  };
  for (const role of ['viewer', 'operator', 'admin'] as const) harness.tokens[role] = await harness.addToken(role, role);
  harness.call = (method, path, call = {}) => request(harness.url, method, path, call);
  harness.addEvents = (events) => store.appendEvents(events.map((e) => event(e)));
  harness.close = async () => {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return harness;
}

export async function request(base: string, method: string, path: string, call: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.token !== undefined) headers.authorization = `Bearer ${call.token}`;
  let body: string | undefined;
  if (call.rawBody !== undefined) {
    body = call.rawBody;
    if (call.contentType) headers['content-type'] = call.contentType;
  } else if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let json: unknown;
  if ((response.headers.get('content-type') ?? '').includes('application/json')) json = JSON.parse(text);
  return { status: response.status, headers: response.headers, text, json };
}

/** An error answer as the contract writes it: status, code, and (for bad input) the path. */
export function errorOf(answer: Answer): { status: number; error?: string; path?: string } {
  return { status: answer.status, error: answer.json?.error, ...(answer.json?.path !== undefined ? { path: answer.json.path } : {}) };
}
