import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventKind, SecurityEvent } from '../../core/event.js';
import { RuleEngine, type RuleSpec } from './engine.js';

const rule = (over: Partial<RuleSpec> = {}): RuleSpec => ({
  name: 'bf', on: ['auth-failure'], key: 'ip', threshold: 3, windowMs: 60_000, banMs: 3_600_000,
  evidence: 'any', dryRun: false, ...over,
});

const ev = (at: number, over: Partial<SecurityEvent> = {}): SecurityEvent => ({
  at, kind: 'auth-failure' as EventKind, ip: '192.0.2.1', server: 'asterisk', evidence: 'spoofable', raw: '', ...over,
});

describe('RuleEngine counting rules', () => {
  it('fires when the threshold is reached inside the window, and not before', () => {
    const engine = new RuleEngine([rule()]);
    assert.deepEqual(engine.observe(ev(0)), []);
    assert.deepEqual(engine.observe(ev(1000)), []);
    const [finding] = engine.observe(ev(2000));
    assert.equal(finding?.key, '192.0.2.1');
    assert.equal(finding?.count, 3);
    assert.equal(finding?.firstAt, 0);
  });

  it('slides: events older than the window stop counting', () => {
    const engine = new RuleEngine([rule()]);
    engine.observe(ev(0));
    engine.observe(ev(30_000));
    assert.deepEqual(engine.observe(ev(61_000)), [], 'the first event left the window');
    assert.equal(engine.observe(ev(62_000)).length, 1);
  });

  it('keeps keys apart and ignores other kinds and events without the key', () => {
    const engine = new RuleEngine([rule()]);
    engine.observe(ev(0, { ip: '192.0.2.1' }));
    engine.observe(ev(1, { ip: '192.0.2.2' }));
    engine.observe(ev(2, { kind: 'auth-success' }));
    engine.observe(ev(3, { ip: undefined }));
    assert.deepEqual(engine.observe(ev(4, { ip: '192.0.2.2' })), []);
    assert.equal(engine.observe(ev(5, { ip: '192.0.2.1' })).length, 0);
    assert.equal(engine.observe(ev(6, { ip: '192.0.2.1' })).length, 1);
  });

  it('reports verified evidence when any counted event is verified', () => {
    const engine = new RuleEngine([rule()]);
    engine.observe(ev(0));
    engine.observe(ev(1, { evidence: 'verified' }));
    assert.equal(engine.observe(ev(2))[0]?.evidence, 'verified');
    engine.observe(ev(10));
    engine.observe(ev(11));
    assert.equal(engine.observe(ev(12))[0]?.evidence, 'spoofable');
  });

  it('starts over after firing, so one burst gives one finding', () => {
    const engine = new RuleEngine([rule()]);
    let findings = 0;
    for (let i = 0; i < 9; i++) findings += engine.observe(ev(i)).length;
    assert.equal(findings, 3);
  });

  it('progress tells how close a key is', () => {
    const engine = new RuleEngine([rule()]);
    engine.observe(ev(0));
    engine.observe(ev(1000));
    assert.equal(engine.progress('192.0.2.1', 2000)[0]?.count, 2);
    assert.equal(engine.progress('192.0.2.1', 60_500)[0]?.count, 1);
    assert.equal(engine.progress('192.0.2.9', 2000)[0]?.count, 0);
  });

  it('sweep forgets idle keys, bounding memory', () => {
    const engine = new RuleEngine([rule()]);
    for (let i = 0; i < 1000; i++) engine.observe(ev(0, { ip: `10.0.${i >> 8}.${i & 255}` }));
    assert.equal(engine.trackedKeys, 1000);
    engine.observe(ev(120_000, { ip: '192.0.2.77' }));
    engine.sweep();
    assert.equal(engine.trackedKeys, 1);
  });
});

describe('RuleEngine distinct rules', () => {
  const enumeration = rule({ name: 'enum', on: ['unknown-account'], distinct: 'account', threshold: 3, windowMs: 300_000 });
  const unknown = (at: number, account: string): SecurityEvent => ev(at, { kind: 'unknown-account', account });

  it('counts distinct accounts, not repeats', () => {
    const engine = new RuleEngine([enumeration]);
    engine.observe(unknown(0, '100'));
    engine.observe(unknown(1, '100'));
    engine.observe(unknown(2, '101'));
    assert.deepEqual(engine.observe(unknown(3, '101')), []);
    const [finding] = engine.observe(unknown(4, '102'));
    assert.deepEqual(finding?.values?.sort(), ['100', '101', '102']);
  });

  it('forgets values that left the window', () => {
    const engine = new RuleEngine([enumeration]);
    engine.observe(unknown(0, '100'));
    engine.observe(unknown(1000, '101'));
    assert.deepEqual(engine.observe(unknown(300_500, '102')), [], '100 left the window');
    assert.equal(engine.observe(unknown(300_900, '103')).length, 1, '101, 102, 103 are inside it');
  });
});

describe('RuleEngine servers filter', () => {
  it('leaves honeypot events to the rules that name the honeypot', () => {
    const generic = rule({ name: 'bruteforce', threshold: 1 });
    const bait = rule({ name: 'honeypot', threshold: 1, servers: ['honeypot'] });
    const engine = new RuleEngine([generic, bait]);
    const fromBait = engine.observe(ev(1000, { server: 'honeypot' }));
    assert.deepEqual(fromBait.map((f) => f.rule.name), ['honeypot']);
    const fromPbx = engine.observe(ev(2000, { ip: '192.0.2.99', server: 'asterisk' }));
    assert.deepEqual(fromPbx.map((f) => f.rule.name), ['bruteforce']);
  });

  it('keeps one-event keys cheap and still counts them into a ring past the second event', () => {
    const engine = new RuleEngine([rule({ threshold: 3, windowMs: 10_000 })]);
    assert.equal(engine.observe(ev(1000)).length, 0);
    assert.equal(engine.observe(ev(2000, { evidence: 'verified' })).length, 0);
    const [finding] = engine.observe(ev(3000));
    assert.equal(finding?.firstAt, 1000);
    assert.equal(finding?.evidence, 'verified', 'the verified second event is remembered through the upgrade');
  });
});
