import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecurityEvent } from '../src/core/event.js';
import { openPostgresStore } from '../src/store/postgres/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { postgresSkipReason, startPostgres } from '../src/store/testing/postgres-server.js';
import type { Store } from '../src/store/types.js';

/**
 * Store write rates: events appended in the daemon's batches (EventWriter writes up to 10,000 per transaction),
 * on a real PostgreSQL with fsync on (a fresh local server, the bench's own) and, for reference, on SQLite.
 * Events look like a brute force: random sources and accounts, an Asterisk line as raw.
 */

const T0 = 1_700_000_000_000;

function attackEvents(count: number, offset: number): SecurityEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    const ip = `${(n >>> 16) & 255 | 64}.${(n >>> 8) & 255}.${n & 255}.${(n * 7) & 255}`;
    return {
      at: T0 + n, kind: 'auth-failure', ip, port: 5060, transport: 'udp', account: String(1000 + (n % 500)), server: 'asterisk',
      sensor: 'bench/ast', evidence: 'spoofable', pattern: 'chan_sip-wrong-password', reason: 'Wrong password',
      raw: `[2026-01-01 00:00:00] NOTICE[1638] chan_sip.c: Registration from '<sip:${1000 + (n % 500)}@192.0.2.10>' failed for '${ip}:5060' - Wrong password`,
    };
  });
}

async function appendRate(store: Store, total: number, batch: number): Promise<number> {
  const batches = Array.from({ length: total / batch }, (_, b) => attackEvents(batch, b * batch));
  const started = performance.now();
  for (const events of batches) await store.appendEvents(events, [{ sourceId: 'ast', path: '/var/log/asterisk/messages', dev: 1, ino: 2, offset: 3, head: 'h' }]);
  return total / ((performance.now() - started) / 1000);
}

async function decisionRate(store: Store, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await store.addDecision({
      at: T0 + i, target: `198.51.${(i >> 8) & 255}.${i & 255}`, targetType: 'ip', action: 'ban', origin: 'rule', rule: 'bruteforce',
      reason: '5 auth failures in 1m', durationMs: 3_600_000, expiresAt: T0 + 3_600_000, level: 0, evidence: 'spoofable',
      eventCount: 5, policy: [{ check: 'allowlist', result: 'pass', detail: 'not listed' }], dryRun: false,
    });
  }
  return count / ((performance.now() - started) / 1000);
}

export interface StoreRates {
  backend: string;
  /** Events per second by batch size. */
  append: Record<number, number>;
  /** Decisions per second, one at a time (each its own transaction, with its NOTIFY on PostgreSQL). */
  decisions: number;
}

const BATCHES = [100, 1000, 10_000];
const TOTAL = 200_000;

async function measure(backend: string, open: () => Promise<Store>): Promise<StoreRates> {
  const append: Record<number, number> = {};
  for (const batch of BATCHES) {
    const store = await open();
    append[batch] = await appendRate(store, TOTAL, batch);
    await store.close();
  }
  const store = await open();
  const decisions = await decisionRate(store, 2000);
  await store.close();
  return { backend, append, decisions };
}

/** Both stores' rates; PostgreSQL is left out (with the reason) when its server binaries are missing. */
export async function storeWriteRates(): Promise<{ rates: StoreRates[]; skipped?: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-bench-store-'));
  let files = 0;
  const rates = [await measure('sqlite', async () => openSqliteStore(join(dir, `s${++files}.db`)))];
  rmSync(dir, { recursive: true, force: true });
  const skipped = postgresSkipReason();
  if (skipped) return { rates, skipped };
  const server = await startPostgres({ durable: true });
  try {
    rates.push(await measure('postgres', async () => openPostgresStore(await server.createSchema())));
  } finally {
    await server.stop();
  }
  return { rates };
}

export function formatStoreRates(result: { rates: StoreRates[]; skipped?: string }): string {
  const lines = result.rates.map((r) => {
    const append = BATCHES.map((b) => `${Math.round(r.append[b] ?? 0).toLocaleString('en-US')}/s in batches of ${b.toLocaleString('en-US')}`).join(', ');
    return `store ${r.backend}: ${TOTAL.toLocaleString('en-US')} events appended: ${append}; decisions one at a time: ${Math.round(r.decisions).toLocaleString('en-US')}/s\n`;
  });
  if (result.skipped) lines.push(`store postgres: skipped (${result.skipped})\n`);
  return lines.join('');
}
