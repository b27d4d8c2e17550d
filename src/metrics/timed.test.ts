import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../core/clock.js';
import { isSipwardenError } from '../core/errors.js';
import { enforcerContract } from '../enforcers/contract.js';
import { DryRunEnforcer } from '../enforcers/dry-run/index.js';
import type { Enforcer } from '../enforcers/types.js';
import { sampleDecision, sampleEvent, storeContract } from '../store/contract.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { Metrics, timedEnforcer, timedStore } from './index.js';
import { parseExposition, sampleValue, type Sample } from './testing/exposition.js';

const newMetrics = () => new Metrics({ version: 'test', sources: [], rules: [], clock: new ManualClock(0) });
const tempDb = () => join(mkdtempSync(join(tmpdir(), 'sw-metrics-')), 'sipwarden.db');

async function samples(metrics: Metrics): Promise<Sample[]> {
  return parseExposition(await metrics.render());
}

// The wrappers must be invisible to callers: the same contract suites pass through them.
storeContract('sqlite behind timedStore', () => timedStore(openSqliteStore(tempDb()), newMetrics()));
enforcerContract('dry-run behind timedEnforcer', async () => timedEnforcer(new DryRunEnforcer(), newMetrics()));

describe('timedStore', () => {
  it('times each call of a real SQLite store under its method name, rejected calls included', async () => {
    const metrics = newMetrics();
    const store = timedStore(openSqliteStore(tempDb()), metrics);
    try {
      await store.appendEvents([sampleEvent(), sampleEvent({ kind: 'scanner' })]);
      await store.appendEvents([sampleEvent()]);
      const decision = await store.addDecision(sampleDecision());
      assert.equal((await store.activeBans(decision.at)).length, 1);
      await assert.rejects(store.revokeDecision(987_654, 'test', 'no such decision', 0), (e) => isSipwardenError(e));
      const s = await samples(metrics);
      assert.equal(sampleValue(s, 'sipwarden_store_seconds_count', { op: 'appendEvents' }), 2);
      assert.equal(sampleValue(s, 'sipwarden_store_seconds_count', { op: 'addDecision' }), 1);
      assert.equal(sampleValue(s, 'sipwarden_store_seconds_count', { op: 'activeBans' }), 1);
      assert.equal(sampleValue(s, 'sipwarden_store_seconds_count', { op: 'revokeDecision' }), 1);
      const seconds = sampleValue(s, 'sipwarden_store_seconds_sum', { op: 'appendEvents' }) ?? -1;
      assert.ok(seconds > 0 && seconds < 5, `appendEvents took ${seconds} s`);
      assert.equal(sampleValue(s, 'sipwarden_store_seconds_bucket', { op: 'appendEvents', le: '+Inf' }), 2);
    } finally {
      await store.close();
    }
    assert.equal(sampleValue(await samples(metrics), 'sipwarden_store_seconds_count', { op: 'close' }), 1);
  });

  it('labels only methods the store had when wrapped, whatever property is asked for', async () => {
    const metrics = newMetrics();
    const store = timedStore(openSqliteStore(tempDb()), metrics);
    try {
      assert.equal((store as unknown as Record<string, unknown>)['203.0.113.9'], undefined);
      const ops = new Set((await samples(metrics)).filter((x) => x.name === 'sipwarden_store_seconds_count').map((x) => x.labels.op));
      assert.deepEqual([...ops], []);
    } finally {
      await store.close();
    }
  });
});

describe('timedEnforcer', () => {
  it('times apply, verify and reconcile of a dry-run enforcer, and forwards the rest untouched', async () => {
    const metrics = newMetrics();
    const inner = new DryRunEnforcer();
    const enforcer: Enforcer = timedEnforcer(inner, metrics);
    assert.equal(enforcer.name, 'dry-run');
    await enforcer.init();
    await enforcer.apply([{ op: 'ban', target: '192.0.2.1', expiresAt: null }], 1000);
    await assert.rejects(enforcer.apply([{ op: 'ban', target: 'not-an-address', expiresAt: null }], 1000), (e) => isSipwardenError(e, 'SW_ERR_ENFORCER'));
    await enforcer.reconcile([{ target: '192.0.2.2', expiresAt: null }], 2000);
    assert.equal((await enforcer.verify()).ok, true);
    assert.equal((await enforcer.lookup('192.0.2.2', 2000)).banned, true);
    assert.deepEqual(inner.journal.map((j) => j.op), ['ban', 'reconcile']);

    const s = await samples(metrics);
    assert.equal(sampleValue(s, 'sipwarden_enforcer_seconds_count', { op: 'apply' }), 2);
    assert.equal(sampleValue(s, 'sipwarden_enforcer_seconds_count', { op: 'reconcile' }), 1);
    assert.equal(sampleValue(s, 'sipwarden_enforcer_seconds_count', { op: 'verify' }), 1);
    const ops = new Set(s.filter((x) => x.name === 'sipwarden_enforcer_seconds_count').map((x) => x.labels.op));
    assert.deepEqual([...ops].sort(), ['apply', 'reconcile', 'verify']);
    assert.ok(s.some((x) => x.name === 'sipwarden_enforcer_seconds_bucket' && x.labels.le === '5'), 'the 5 s bucket');
  });

  it('records the real duration of a slow call', async () => {
    const metrics = newMetrics();
    const slow = new DryRunEnforcer();
    slow.verify = async () => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      return { ok: true, repaired: false, detail: 'slow' };
    };
    await timedEnforcer(slow, metrics).verify();
    const s = await samples(metrics);
    const seconds = sampleValue(s, 'sipwarden_enforcer_seconds_sum', { op: 'verify' }) ?? 0;
    assert.ok(seconds >= 0.05 && seconds < 2, `verify took ${seconds} s`);
    assert.equal(sampleValue(s, 'sipwarden_enforcer_seconds_bucket', { op: 'verify', le: '0.025' }), 0);
    assert.equal(sampleValue(s, 'sipwarden_enforcer_seconds_bucket', { op: 'verify', le: '+Inf' }), 1);
  });
});
