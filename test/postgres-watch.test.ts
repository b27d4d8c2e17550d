import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sampleDecision } from '../src/store/contract.js';
import { openPostgresStore, type DecisionChange, type PostgresStore } from '../src/store/postgres/index.js';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../src/store/testing/postgres-server.js';

const skip = postgresSkipReason();

/** Every watch a test starts; `after` stops those a failed test left running. */
const watches: AbortController[] = [];

/** A watch on one store, recording each report with the moment it arrived. */
function watch(store: PostgresStore) {
  const changes: { at: number; change: DecisionChange }[] = [];
  const errors: Error[] = [];
  const controller = new AbortController();
  watches.push(controller);
  const done = store.watchDecisions((change) => void changes.push({ at: performance.now(), change }), controller.signal, (e) => errors.push(e));
  const waitFor = async (match: (c: DecisionChange) => boolean, what: string, timeoutMs = 5000) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = changes.find((c) => match(c.change));
      if (found) return found;
      assert.ok(performance.now() < deadline, `no ${what} within ${timeoutMs} ms; got ${JSON.stringify(changes.map((c) => c.change.type))}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { changes, errors, waitFor, stop: async () => (controller.abort(), done) };
}

const changedId = (id: number) => (c: DecisionChange) => c.type === 'changed' && c.decision.id === id;

describe('postgres store: watching decisions (LISTEN/NOTIFY)', { skip }, () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    for (const controller of watches) controller.abort();
    await server?.stop();
  });

  it('starts with a resync of the active bans, then reports each decision and revocation another node makes within 1 s', async (t) => {
    const url = await server.createSchema();
    const [node1, node2] = [await openPostgresStore(url), await openPostgresStore(url)];
    const before = await node2.addDecision(sampleDecision({ target: '198.51.100.1', expiresAt: null, durationMs: null }));
    const w = watch(node1);
    const resync = await w.waitFor((c) => c.type === 'resync', 'resync');
    assert.deepEqual(resync.change.type === 'resync' && resync.change.active.map((d) => d.id), [before.id]);

    const delays: number[] = [];
    for (let i = 0; i < 50; i++) {
      const sent = performance.now();
      const ban = await node2.addDecision(sampleDecision({ target: `203.0.113.${i}` }));
      const seen = await w.waitFor(changedId(ban.id), `decision ${ban.id}`, 1000);
      assert.deepEqual(seen.change.type === 'changed' && seen.change.decision, ban);
      delays.push(seen.at - sent);
    }
    delays.sort((a, b) => a - b);
    t.diagnostic(`commit -> notified and loaded on the other node: p50 ${delays[25]?.toFixed(2)} ms, p99 ${delays[49]?.toFixed(2)} ms`);
    assert.ok((delays.at(-1) ?? Infinity) < 1000, `slowest notification ${delays.at(-1)} ms`);

    const lifted = await node2.revokeDecision(before.id, 'root@pbx2', 'customer', before.at + 1);
    await w.waitFor((c) => c.type === 'changed' && c.decision.id === before.id && c.decision.revokedAt === lifted.revokedAt, 'revocation', 1000);
    await w.stop();
    assert.deepEqual(w.errors, []);
    await Promise.all([node1.close(), node2.close()]);
  });

  it('a revocation that changes nothing (already revoked) is not notified again; changes arrive in commit order', async () => {
    const url = await server.createSchema();
    const store = await openPostgresStore(url);
    const w = watch(store);
    await w.waitFor((c) => c.type === 'resync', 'resync');
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await store.addDecision(sampleDecision({ target: `192.0.2.${i}` })));
    await store.revokeDecision(made[0]!.id, 'root', 'first', 1);
    await store.revokeDecision(made[0]!.id, 'root', 'second', 2);
    const marker = await store.addDecision(sampleDecision({ target: '192.0.2.99' }));
    await w.waitFor(changedId(marker.id), 'marker');
    const ids = w.changes.filter((c) => c.change.type === 'changed').map((c) => (c.change.type === 'changed' ? c.change.decision.id : 0));
    assert.deepEqual(ids, [...made.map((d) => d.id), made[0]!.id, marker.id]);
    await w.stop();
    await store.close();
  });

  it('after PostgreSQL is killed and comes back, the watch reconnects and resyncs, and what was banned meanwhile is in it', async () => {
    const url = await server.createSchema();
    const node1 = await openPostgresStore(url);
    const w = watch(node1);
    await w.waitFor((c) => c.type === 'resync', 'first resync');
    await server.kill();
    await server.restart();
    // Banned by another node while this one's watch was still reconnecting.
    const node2 = await openPostgresStore(url);
    // Permanent, so that the resync (active bans at wall time) holds it.
    const meanwhile = await node2.addDecision(sampleDecision({ target: '203.0.113.200', expiresAt: null, durationMs: null }));
    // It arrives in the resync when the watch reconnected after the ban, else as a notification.
    await w.waitFor((c) => (c.type === 'resync' && c.active.some((d) => d.id === meanwhile.id)) || changedId(meanwhile.id)(c), 'the ban made meanwhile', 10_000);
    await w.waitFor(() => w.changes.filter((c) => c.change.type === 'resync').length === 2, 'a second resync');
    assert.ok(w.errors.length >= 1, 'the lost connection was reported');
    assert.ok(w.errors.every((e) => !e.message.includes(server.password)));
    const after = await node2.addDecision(sampleDecision({ target: '203.0.113.201' }));
    await w.waitFor(changedId(after.id), 'a ban after the reconnect', 2000);
    await w.stop();
    await Promise.all([node1.close(), node2.close()]);
  });

  it('stops when aborted and closes its connection', async () => {
    const url = await server.createSchema();
    const store = await openPostgresStore(url);
    const w = watch(store);
    await w.waitFor((c) => c.type === 'resync', 'resync');
    const listening = async () =>
      (await server.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND application_name = 'sipwarden'"))[0]?.n;
    const watching = await listening();
    await w.stop();
    assert.equal(await listening(), (watching ?? 0) - 1);
    const count = w.changes.length;
    await store.addDecision(sampleDecision());
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(w.changes.length, count, 'nothing reported after the stop');
    await store.close();
  });
});
