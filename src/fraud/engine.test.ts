import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecurityEvent } from '../core/event.js';
import type { Geo } from '../geo/index.js';
import { FraudEngine, type FraudFinding } from './engine.js';
import { createNumberPlan } from './numbers.js';

/**
 * Scenarios from the toll-fraud issue, replayed as timed event streams: each asserts the findings (rule,
 * severity) an operator would expect, and the benign ones assert that nothing critical comes out.
 */

const plan = createNumberPlan({ homeCountry: 'GB' });
// Thursday 2026-11-19 is a business day; 02:00 is off-hours, 10:00 business hours (UTC business clock).
const NIGHT = Date.UTC(2026, 10, 19, 2, 0, 0);
const DAYTIME = Date.UTC(2026, 10, 19, 10, 0, 0);
const MINUTE = 60_000;

const GEO: Geo = {
  lookup(ip) {
    if (ip.startsWith('81.')) return { country: 'GB', asn: 2856, org: 'BT' };
    if (ip.startsWith('185.')) return { country: 'PS', asn: 64500, org: 'Bullet Hosting' };
    return {};
  },
};

function engine(allowedCountries: string[] = []): FraudEngine {
  return new FraudEngine({ plan, policy: { homeCountry: 'GB', allowedCountries }, geo: GEO });
}

let seq = 0;
function register(account: string, ip: string, at: number): SecurityEvent {
  return { at, kind: 'auth-success', account, ip, server: 'hep', evidence: 'verified', raw: '' };
}
function call(account: string, destination: string, at: number, seconds: number, answered = true): SecurityEvent[] {
  const callId = `c${++seq}`;
  const start: SecurityEvent = { at, kind: 'call-start', account, destination, callId, server: 'hep', evidence: 'verified', raw: '' };
  const events: SecurityEvent[] = [start];
  if (answered) events.push({ ...start, kind: 'call-answer', at: at + 5000 });
  events.push({ ...start, kind: 'call-end', at: at + 5000 + seconds * 1000, call: { durationSec: seconds + 5, billSec: answered ? seconds : 0, disposition: answered ? 'answered' : 'no-answer' } });
  return events;
}

/** Feeds events in time order, ticking every 30 s of event time as the daemon does. */
function run(fraud: FraudEngine, events: SecurityEvent[]): FraudFinding[] {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const out: FraudFinding[] = [];
  let nextTick = (sorted[0]?.at ?? 0) + 30_000;
  for (const event of sorted) {
    while (event.at >= nextTick) {
      out.push(...fraud.tick(nextTick));
      nextTick += 30_000;
    }
    out.push(...fraud.observe(event));
  }
  return out;
}

const rules = (findings: FraudFinding[], severity?: string): string[] =>
  [...new Set(findings.filter((f) => severity === undefined || f.severity === severity).map((f) => f.rule))].sort();

describe('fraud engine scenarios', () => {
  it('a stolen account: registration from a new country, a premium test call, then pumping at night', () => {
    const fraud = engine();
    const events: SecurityEvent[] = [
      register('1001', '81.2.69.160', NIGHT - 7 * 24 * 60 * MINUTE), // the owner's desk phone, a week ago
      register('1001', '185.220.101.7', NIGHT), // the thief
      ...call('1001', '00972599000123', NIGHT + 2 * MINUTE, 20), // short test call
    ];
    for (let i = 0; i < 6; i++) events.push(...call('1001', '00972599000123', NIGHT + 10 * MINUTE + i * 10_000, 5400));
    const findings = run(fraud, events);
    const critical = rules(findings, 'critical');
    assert.ok(critical.includes('D'), `registration from a country not allowed: ${critical}`);
    assert.ok(critical.includes('E'), 'a risky call within 15 min of it');
    assert.ok(critical.includes('A1'), 'pumping: more than 5 risky calls a minute');
    assert.ok(critical.includes('A2'), 'pumping: concurrent calls');
    const a5 = findings.filter((f) => f.rule === 'A5');
    assert.ok(a5.length > 0 && a5.every((f) => f.severity === 'warning' && f.value >= 4800 && f.value < 4830),
      `each live call is reported at the off-hours warning (4800 s), within one 30 s tick, while it is up: ${JSON.stringify(a5.map((f) => f.value))}`);
    const e = findings.find((f) => f.rule === 'E')!;
    assert.equal(e.ip, '185.220.101.7');
    assert.equal(e.destination?.country, 'IL', '+972 59 (Palestinian mobile ranges sit inside +972)');
  });

  it('a slow pump: under the per-minute limits, over the 24-hour international count', () => {
    const fraud = engine();
    const events: SecurityEvent[] = [];
    for (let i = 0; i < 24; i++) events.push(...call('2002', '0037167000123', NIGHT + i * 50 * MINUTE, 60)); // Latvia, 1 call per 50 min
    const findings = run(fraud, events);
    assert.deepEqual(findings.filter((f) => f.rule === 'A1'), [], 'never more than one a minute');
    const a4 = findings.filter((f) => f.rule === 'A4');
    assert.ok(a4.some((f) => f.severity === 'critical'), `A4 critical after 20 off-hours international calls: ${JSON.stringify(a4.map((f) => [f.severity, f.value]))}`);
  });

  it('a legitimate business with international customers: warnings at most, no critical', () => {
    const fraud = engine(['IE', 'FR', 'DE', 'US']);
    const events: SecurityEvent[] = [register('sales1', '81.2.69.160', DAYTIME - DAY_MS)];
    const numbers = ['00353123456789', '0033142868200', '004930901820', '0012125550100', '00353871234567'];
    for (let i = 0; i < 12; i++) events.push(...call('sales1', numbers[i % numbers.length]!, DAYTIME + i * 25 * MINUTE, 600));
    const findings = run(fraud, events);
    assert.deepEqual(rules(findings, 'critical'), [], JSON.stringify(findings.map((f) => [f.rule, f.severity, f.detail])));
  });

  it('a call centre with 30 concurrent calls to the home country: nothing', () => {
    const fraud = engine();
    const events: SecurityEvent[] = [];
    for (let agent = 0; agent < 30; agent++) {
      events.push(register(`agent${agent}`, `81.2.70.${agent}`, DAYTIME - DAY_MS));
      for (let i = 0; i < 4; i++) events.push(...call(`agent${agent}`, `0207946${String(agent * 10 + i).padStart(4, '0')}`, DAYTIME + i * 6 * MINUTE + agent * 1000, 300));
    }
    assert.deepEqual(run(fraud, events), []);
  });

  it('the same destination from several accounts, and a first call to a new country', () => {
    const fraud = engine(['FR']);
    const events: SecurityEvent[] = [
      ...call('a1', '0033142868200', DAYTIME - 10 * DAY_MS, 60), // a1 called France before
      ...call('a1', '00441632960123', DAYTIME, 60), // not international for GB: nothing
      ...call('a1', '0037167000123', DAYTIME + MINUTE, 60), // Latvia: never called -> C
      ...call('a2', '0037167000123', DAYTIME + 2 * MINUTE, 60),
      ...call('a3', '0037167000123', DAYTIME + 3 * MINUTE, 60),
    ];
    const findings = run(fraud, events);
    assert.ok(findings.some((f) => f.rule === 'C' && f.account === 'a1' && f.destination?.country === 'LV'));
    const h = findings.find((f) => f.rule === 'H');
    assert.equal(h?.account, 'a3');
    assert.equal(h?.value, 3);
  });

  it('two warnings from different families about different calls escalate to critical (X), once per hour', () => {
    const fraud = engine(['FR']);
    const first = run(fraud, [
      ...call('b1', '0033142868200', DAYTIME - 10 * DAY_MS, 60),
      ...call('b1', '0037167000123', DAYTIME, 60), // B and C warnings, both about this one call: not yet X
    ]);
    assert.deepEqual(first.filter((f) => f.rule === 'X'), [], 'a first call to a new T3 country is one fact, not two signals');
    const findings = [...first, ...run(fraud, call('b1', '0037167000456', DAYTIME + 5 * MINUTE, 60))]; // another T3 call: B about it
    const x = findings.filter((f) => f.rule === 'X');
    assert.equal(x.length, 1);
    assert.equal(x[0]!.severity, 'critical');
    assert.deepEqual(x[0]!.families, ['B', 'C']);
  });

  it('a call seen only as a CDR still counts, with its duration', () => {
    const fraud = engine();
    const cdr: SecurityEvent = {
      at: NIGHT + 3 * 3600_000, kind: 'call-end', account: '3003', destination: '00882161234567', server: 'asterisk', evidence: 'verified', raw: '',
      call: { durationSec: 10_000, billSec: 9990, disposition: 'answered', uniqueId: '1.1' },
    };
    const findings = fraud.observe(cdr);
    assert.ok(findings.some((f) => f.rule === 'B' && f.severity === 'critical'), 'a satellite/non-geographic destination');
    assert.ok(findings.some((f) => f.rule === 'A5' && f.severity === 'critical' && f.value === 9990));
  });

  it('one call reported twice (AMI Hangup, then its CDR) counts once; a second dial on the same channel counts', () => {
    const fraud = engine();
    const base = { account: '4004', server: 'asterisk' as const, evidence: 'verified' as const, raw: '' };
    const start: SecurityEvent = { ...base, at: DAYTIME, kind: 'call-start', destination: '00972599000123', call: { uniqueId: 'u1' } };
    const first = fraud.observe(start);
    assert.ok(first.some((f) => f.rule === 'B'));
    fraud.observe({ ...base, at: DAYTIME + 60_000, kind: 'call-end', call: { uniqueId: 'u1', disposition: 'answered' } });
    const cdr = fraud.observe({ ...base, at: DAYTIME + 61_000, kind: 'call-end', destination: '00972599000123', call: { uniqueId: 'u1', durationSec: 60, billSec: 55 } });
    assert.deepEqual(cdr, [], 'the CDR of a call already ended is not a second call');
    const other = fraud.observe({ ...start, at: DAYTIME + 120_000, call: { uniqueId: 'u2' } });
    const redial = fraud.observe({ ...start, at: DAYTIME + 130_000, destination: '00882161234567', call: { uniqueId: 'u2' } });
    assert.ok(other.length + redial.length > 0);
    assert.ok(redial.some((f) => f.rule === 'B' && f.destination?.e164 === '+882161234567'), 'the channel dialled another number: judged again');
  });

  it('prefix guessing: one number behind many prefixes (F1), warning at three, critical past ten', () => {
    const fraud = engine();
    const prefixes = ['00', '011', '9011', '+', '0', '000', '90', '900', '0011', '001', '810', ''];
    const events = prefixes.map((prefix, i) => ({
      at: DAYTIME + i * 20_000, kind: 'call-start' as const, account: '5005', destination: `${prefix}972599000123`, callId: `g${i}`,
      server: 'hep' as const, evidence: 'verified' as const, raw: '',
    }));
    const f1 = run(fraud, events).filter((f) => f.rule === 'F1');
    assert.deepEqual(f1.map((f) => [f.severity, f.value]), [['warning', 3], ['critical', 11]]);
    assert.match(f1[1]!.detail, /11 prefixes dialled in front of …599000123/);
  });

  it('short or unanswered risky calls (F2) and number walking (F3) are warnings; together they escalate (X)', () => {
    const fraud = engine();
    const events: SecurityEvent[] = [];
    for (let i = 0; i < 5; i++) events.push(...call('6006', `003716700012${i}`, DAYTIME + i * 30_000, 3));
    const findings = run(fraud, events);
    assert.ok(findings.some((f) => f.rule === 'F2' && f.severity === 'warning' && f.value === 5), JSON.stringify(findings.map((f) => f.rule)));
    assert.ok(findings.some((f) => f.rule === 'F3' && f.severity === 'warning' && f.value === 5));
    assert.ok(findings.some((f) => f.rule === 'X'), 'B, F warnings from different families');
    const calm = run(engine(['FR']), call('7007', '0033142868200', DAYTIME, 300));
    assert.deepEqual(calm.filter((f) => f.rule.startsWith('F')), [], 'one long call to an allowed country is nothing');
  });

  it('Wangiri callbacks: accounts calling back the Caribbean numbers that rang them are critical at once', () => {
    // A one-ring campaign from Jamaica: missed calls in the evening (not events of an account), then employees
    // call the numbers back the next morning. +1 876 dials like a US number and bills like a premium one.
    const fraud = engine();
    const findings = run(fraud, [
      ...call('desk1', '0018762345678', DAYTIME, 40),
      ...call('desk2', '0018762345679', DAYTIME + 3 * MINUTE, 25),
      ...call('desk3', '0018762345678', DAYTIME + 5 * MINUTE, 30),
    ]);
    const b = findings.filter((f) => f.rule === 'B');
    assert.deepEqual(b.map((f) => [f.account, f.severity]), [['desk1', 'critical'], ['desk2', 'critical'], ['desk3', 'critical']]);
    assert.deepEqual(b[0]!.destination?.reasons, ['caribbean-nanp']);
    assert.equal(b[0]!.destination?.country, 'JM');
    assert.equal(b[0]!.destination?.e164, '+18762345678');
  });

  it('business hours follow the configured zone and weekdays', () => {
    const fraud = engine();
    assert.equal(fraud.isBusinessHours(DAYTIME), true);
    assert.equal(fraud.isBusinessHours(NIGHT), false);
    assert.equal(fraud.isBusinessHours(Date.UTC(2026, 10, 21, 10, 0, 0)), false, 'a Saturday');
  });
});

const DAY_MS = 86_400_000;
