import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../core/clock.js';
import { isSipwardenError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { sampleDecision, sampleEvent, storeContract } from '../contract.js';
import { openPostgresStore } from '../postgres/index.js';
import { openResilientStore, type ResilientStore } from './index.js';
import { Spool } from './spool.js';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../testing/postgres-server.js';

const skip = postgresSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'sw-resilient-'));
const logger = createLogger('silent');
let server: PostgresServer;
let spools = 0;

before(async () => {
  if (!skip) server = await startPostgres();
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until(probe: () => boolean, ms: number, what: string): Promise<void> {
  for (const deadline = Date.now() + ms; !probe(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

const open = (url: string, spoolPath = join(dir, `spool-${++spools}.ndjson`)): Promise<ResilientStore> =>
  openResilientStore({ spoolPath, logger, clock: systemClock, open: () => openPostgresStore(url, { connectTimeoutMs: 1000 }), retryMaxMs: 200 });

describe('resilient store on PostgreSQL', { skip }, () => {
  // While PostgreSQL answers, the wrapper must be invisible.
  storeContract('resilient over postgres', async () => open(await server.createSchema()));

  it('a refused write is the caller\'s error, not an outage: nothing is queued', async () => {
    const store = await open(await server.createSchema());
    try {
      await assert.rejects(store.revokeDecision(987_654, 'test', 'no such decision', 1), (e) => isSipwardenError(e, 'SW_ERR_NOT_FOUND'));
      assert.deepEqual(store.backlog(), { queued: 0, droppedEvents: 0 });
      assert.deepEqual(await store.activeBans(0), []);
    } finally {
      await store.close();
    }
  });

  it('stores at next start, exactly once, what the spool held; a decision already stored is not stored again', async () => {
    const url = await server.createSchema();
    const direct = await openPostgresStore(url);
    const spoolPath = join(dir, 'left-over.ndjson');
    const stored = sampleDecision({ target: '192.0.2.1', sensor: 'pbx-a/ast', at: 1_000 });
    const already = await direct.addDecision(stored);
    const { spool } = Spool.open(spoolPath);
    // The daemon died after PostgreSQL committed the first one and before the spool heard of it.
    spool.append({ op: 'decision', id: -1, decision: stored });
    spool.append({ op: 'decision', id: -2, decision: sampleDecision({ target: '192.0.2.2', sensor: 'pbx-a/ast', at: 2_000 }) });
    spool.append({ op: 'audit', entry: { at: 2_000, actor: 'root@pbx-a', action: 'ban', target: '192.0.2.2', reason: 'test', detail: 'decision -2 for 1h' } });
    spool.close();
    writeFileSync(spoolPath, `${readFileSync(spoolPath, 'utf8')}{"seq":4,"op":"dec`); // torn by the crash

    const store = await open(url, spoolPath);
    try {
      const all = await direct.decisionsAfter(0);
      assert.deepEqual(all.map((d) => d.target), ['192.0.2.1', '192.0.2.2']);
      assert.equal(all[0]!.id, already.id);
      const [entry] = await direct.auditLog({ target: '192.0.2.2' });
      assert.equal(entry?.detail, `decision ${all[1]!.id} for 1h`, 'the audit names the stored id, not the provisional one');
      assert.equal(readFileSync(spoolPath, 'utf8'), '', 'the spool is emptied once stored');
    } finally {
      await store.close();
      await direct.close();
    }
  });

  // Runs last: it kills the shared server and brings it back.
  it('while PostgreSQL is down: decisions get provisional ids at once, reads fail fast, and it all lands in order once it is back', async () => {
    const url = await server.createSchema();
    const spoolPath = join(dir, 'outage.ndjson');
    const store = await open(url, spoolPath);
    const replayed: [number, number][] = [];
    store.onReplayed((provisional, id) => replayed.push([provisional, id]));
    try {
      await store.addDecision(sampleDecision({ target: '198.51.100.1' }));
      await server.kill();

      const offline = await store.addDecision(sampleDecision({ target: '198.51.100.2', at: 5_000 }));
      assert.ok(offline.id < 0, `provisional id ${offline.id}`);
      await store.audit({ at: 5_000, actor: 'root@pbx-a', action: 'ban', target: '198.51.100.2', reason: 'offline', detail: `decision ${offline.id}` });
      await store.rememberSuccess('198.51.100.9', '1001', 5_000);
      await store.appendEvents([sampleEvent({ ip: '198.51.100.2' })]);
      const lifted = await store.addDecision(sampleDecision({ target: '198.51.100.3', at: 6_000 }));
      assert.equal((await store.revokeDecision(lifted.id, 'root', 'mistake', 6_500)).revokedBy, 'root');
      assert.equal((await store.decision(offline.id))?.target, '198.51.100.2', 'a provisional decision can be read back');
      const started = Date.now();
      await assert.rejects(store.activeBans(0), (e) => isSipwardenError(e, 'SW_ERR_STORE_OFFLINE'));
      assert.ok(Date.now() - started < 100, 'a read while offline fails at once');
      assert.match(readFileSync(spoolPath, 'utf8'), /198\.51\.100\.2/, 'the offline decision is on disk');

      await server.restart();
      await until(() => store.backlog().queued === 0 && replayed.length === 2, 10_000, 'the queue is stored');
      const all = await store.decisionsAfter(0);
      assert.deepEqual(all.map((d) => d.target), ['198.51.100.1', '198.51.100.2', '198.51.100.3'], 'in order, each once');
      assert.deepEqual(replayed, [[offline.id, all[1]!.id], [lifted.id, all[2]!.id]]);
      assert.equal(all[2]!.revokeReason, 'mistake', 'the revocation follows its decision');
      assert.equal((await store.auditLog({ target: '198.51.100.2' }))[0]?.detail, `decision ${all[1]!.id}`);
      assert.equal((await store.knownGood({ ip: '198.51.100.9', since: 0 })).length, 1);
      assert.equal((await store.events({ ip: '198.51.100.2' })).length, 1);
      assert.equal(readFileSync(spoolPath, 'utf8'), '');
    } finally {
      await store.close();
    }
  });
});
