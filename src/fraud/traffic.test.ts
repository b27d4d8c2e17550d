import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectionFigures, type Observation } from '../../bench/fraud-detection.js';
import { ATTACKS_PER_WEEK, type AttackLabel } from './traffic-attacks.js';
import { createNumberPlan } from './numbers.js';
import { classify } from './tiers.js';
import { ALLOWED_COUNTRIES, DAY, generateTraffic, MINUTE } from './traffic.js';

const week = generateTraffic({ seed: 7 });

describe('synthetic PBX traffic', () => {
  it('is deterministic: the same seed gives the same events and labels, another seed others', () => {
    const again = generateTraffic({ seed: 7 });
    assert.deepEqual(again.events, week.events);
    assert.deepEqual(again.attacks, week.attacks);
    assert.notDeepEqual(generateTraffic({ seed: 8 }).events.slice(0, 50), week.events.slice(0, 50));
  });

  it('is sorted by time and stays inside the week', () => {
    for (let i = 1; i < week.events.length; i++) assert.ok(week.events[i - 1]!.at <= week.events[i]!.at, `event ${i} out of order`);
    assert.ok(week.events[0]!.at >= week.measuredFrom);
    assert.ok(week.events.at(-1)!.at < week.until + DAY, 'the last attack call may end after the week, not a day after');
  });

  it('has realistic volumes: 200 accounts, tens of thousands of calls, most answered, domestic most of all', () => {
    assert.equal(week.accounts.length, 200);
    const starts = week.events.filter((e) => e.kind === 'call-start');
    assert.ok(starts.length > 10_000 && starts.length < 40_000, `${starts.length} calls`);
    const answered = week.events.filter((e) => e.kind === 'call-answer').length / starts.length;
    assert.ok(answered > 0.5 && answered < 0.8, `answer rate ${answered}`);
    const domestic = starts.filter((e) => !e.destination!.startsWith('00')).length / starts.length;
    assert.ok(domestic > 0.75, `domestic share ${domestic}`);
    const registrations = week.events.filter((e) => e.kind === 'auth-success').length;
    assert.ok(registrations > 200 * 24 * 7 * 0.9, `about one registration per account per hour: ${registrations}`);
    const profiles = new Set(week.accounts.map((a) => a.profile));
    assert.deepEqual([...profiles].sort(), ['call-centre', 'foreign-customers', 'night', 'office', 'sales']);
  });

  it('dials benign destinations of the tier it means: domestic T1, allowed T2, customers T3, 084x service numbers T4', () => {
    const plan = createNumberPlan({ homeCountry: 'GB' });
    const attackCalls = new Set(week.attacks.flatMap((l) => l.callIds));
    const tiers = new Map<string, number>();
    for (const e of week.events) {
      if (e.kind !== 'call-start' || attackCalls.has(e.callId!)) continue;
      const { tier, reasons } = classify(plan.normalize(e.destination!), { homeCountry: 'GB', allowedCountries: ALLOWED_COUNTRIES });
      const key = tier === 'T4' ? `T4 ${reasons.join(',')}` : tier;
      tiers.set(key, (tiers.get(key) ?? 0) + 1);
    }
    assert.deepEqual([...tiers.keys()].sort(), ['T1', 'T2', 'T3', 'T4 premium-rate'], JSON.stringify([...tiers]));
    assert.ok(tiers.get('T4 premium-rate')! < 60, 'a handful of 0845 calls');
  });

  it('labels every attack: each kind as many times as planned, calls that exist, fraud inside the label', () => {
    const ids = new Set(week.events.map((e) => e.callId));
    const attacks = new Map<string, AttackLabel[]>();
    for (const label of week.attacks) attacks.set(label.attackId, [...(attacks.get(label.attackId) ?? []), label]);
    for (const [kind, count] of Object.entries(ATTACKS_PER_WEEK)) {
      assert.equal([...attacks.values()].filter((parts) => parts[0]!.kind === kind).length, count, kind);
    }
    for (const label of week.attacks) {
      assert.ok(label.startsAt <= label.fraudStartsAt && label.fraudStartsAt < label.endsAt, label.attackId);
      assert.ok(label.callIds.length > 0 && label.callIds.every((id) => ids.has(id)), label.attackId);
      assert.ok(week.accounts.some((a) => a.id === label.account));
    }
    const attacked = week.attacks.filter((l) => l.kind !== 'wangiri-callback' && l.kind !== 'shared-destination').map((l) => l.account);
    assert.equal(new Set(attacked).size, attacked.length, 'one attack per account');
    const foreign = week.attacks.find((l) => l.entry === 'foreign-registration');
    assert.ok(foreign === undefined || week.events.some((e) => e.kind === 'auth-success' && e.account === foreign.account && e.at === foreign.startsAt));
  });
});

describe('detection figures', () => {
  const T = Date.UTC(2026, 10, 18, 2);
  const label = (attackId: string, account: string, kind: AttackLabel['kind']): AttackLabel => ({
    attackId, account, kind, entry: 'known-address', startsAt: T, fraudStartsAt: T + 5 * MINUTE, endsAt: T + 60 * MINUTE, callIds: [`${attackId}-1`],
  });
  const o = (account: string, at: number, severity: Observation['severity'], rule = 'X'): Observation => ({ account, at, severity, rule });

  it('a detected attack, a missed one, a false positive, a warning and an after-effect', () => {
    const labels = [label('a1', '1001', 'stolen-account'), label('a2', '1002', 'slow-pump')];
    const figures = detectionFigures(labels, [
      o('1001', T + 20 * MINUTE, 'warning', 'B'),
      o('1001', T + 35 * MINUTE, 'critical', 'A2'), // a1 found 30 min into its fraud
      o('1001', T + 50 * MINUTE, 'critical', 'A1'),
      o('1002', T - MINUTE, 'critical'), // before a2 began: benign
      o('1002', T + 2 * 60 * MINUTE, 'critical', 'A4'), // after a2 ended, still its count: neither
      o('1003', T, 'warning', 'C'),
    ], 5000, new Map([['a1-1', { answeredAt: T + 5 * MINUTE, endedAt: T + 60 * MINUTE }], ['a2-1', { answeredAt: T + 6 * MINUTE, endedAt: T + 16 * MINUTE }]]));
    const [a1, a2] = figures.attacks;
    assert.deepEqual(a1, { attackId: 'a1', kind: 'stolen-account', entry: 'known-address', accounts: 1, detected: true, minutesToDetect: 30, billedMinutesBefore: 30, firstRule: 'A2' });
    assert.deepEqual(a2, { attackId: 'a2', kind: 'slow-pump', entry: 'known-address', accounts: 1, detected: false, billedMinutesBefore: 10 });
    assert.deepEqual(figures.benignCritical, [o('1002', T - MINUTE, 'critical')]);
    assert.equal(figures.criticalPer10k, 2, '1 in 5,000 benign calls');
    assert.equal(figures.benignWarnings.length, 1, 'the warning inside a1 is a1\'s');
    assert.equal(figures.warningsPer10k, 2);
  });

  it('an attack on several accounts is found when any of them is, timed from its first fraudulent call', () => {
    const labels = [label('w', '2001', 'wangiri-callback'), { ...label('w', '2002', 'wangiri-callback'), fraudStartsAt: T + 30 * MINUTE }];
    const figures = detectionFigures(labels, [o('2002', T + 40 * MINUTE, 'critical', 'H')], 1);
    assert.equal(figures.attacks.length, 1);
    assert.equal(figures.attacks[0]!.accounts, 2);
    assert.equal(figures.attacks[0]!.minutesToDetect, 35);
  });
});
