import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecurityEvent } from '../core/event.js';
import type { RuleSpec } from '../detectors/rules/index.js';
import { FleetBatch } from './batch.js';

const W = 600_000;
const rule = (over: Partial<RuleSpec> = {}): RuleSpec => ({
  name: 'spread', on: ['auth-failure'], key: 'ip', threshold: 3, windowMs: W, banMs: 3_600_000, evidence: 'any', dryRun: false, ...over,
});
const event = (at: number, over: Partial<SecurityEvent> = {}): SecurityEvent => ({
  at, kind: 'auth-failure', ip: '203.0.113.9', account: '1001', server: 'asterisk', evidence: 'spoofable', raw: '', ...over,
});

describe('FleetBatch', () => {
  it('adds up events per (rule, key, window), keeping first and last times and verified counts', () => {
    const batch = new FleetBatch(100);
    const spread = rule();
    batch.add(spread, '203.0.113.9', event(10 * W + 5), undefined);
    batch.add(spread, '203.0.113.9', event(10 * W + 1, { evidence: 'verified' }), undefined);
    batch.add(spread, '203.0.113.9', event(11 * W + 2), undefined);
    assert.deepEqual(batch.increments(), [
      { rule: 'spread', key: '203.0.113.9', windowStart: 10 * W, windowMs: W, count: 2, verified: 1, firstAt: 10 * W + 1, lastAt: 10 * W + 5 },
      { rule: 'spread', key: '203.0.113.9', windowStart: 11 * W, windowMs: W, count: 1, verified: 0, firstAt: 11 * W + 2, lastAt: 11 * W + 2 },
    ]);
    const [touched] = batch.keys();
    assert.equal(touched?.trigger.at, 11 * W + 2, 'the newest event triggers');
  });

  it('keeps at most threshold distinct values per row, and a value verified once stays verified', () => {
    const batch = new FleetBatch(100);
    const enumeration = rule({ name: 'enum', distinct: 'account' });
    for (const [account, evidence] of [['a', 'spoofable'], ['a', 'verified'], ['b', 'spoofable'], ['c', 'spoofable'], ['d', 'spoofable']] as const) {
      batch.add(enumeration, '203.0.113.9', event(10 * W, { account, evidence }), account);
    }
    assert.deepEqual(batch.increments()[0]?.values, [{ value: 'a', verified: true }, { value: 'b', verified: false }, { value: 'c', verified: false }]);
    assert.deepEqual(batch.keys()[0]?.values, ['a', 'b', 'c']);
  });

  it('drops events of new keys once full, and counts them', () => {
    const batch = new FleetBatch(2);
    const spread = rule();
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1']) batch.add(spread, ip, event(10 * W, { ip }), undefined);
    assert.equal(batch.size, 2);
    assert.equal(batch.dropped, 1);
    assert.equal(batch.increments().find((i) => i.key === '192.0.2.1')?.count, 2);
  });
});
