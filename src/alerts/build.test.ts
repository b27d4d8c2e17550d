import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import type { SecurityEvent } from '../core/event.js';
import type { FraudChange } from '../fraud/monitor.js';
import { Analyzer } from '../pipeline/analyzer.js';
import type { Decision, NewDecision } from '../store/types.js';
import { alertForBan, alertForBudget, alertForEnforcer, alertForFraud, alertForMisconfiguredDevice, alertForSource } from './build.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

const ev = (over: Partial<SecurityEvent>): SecurityEvent =>
  ({ at: T0, kind: 'auth-failure', ip: '203.0.113.5', account: '100', server: 'asterisk', evidence: 'verified', raw: '', ...over });

function analyzer(): Analyzer {
  return new Analyzer(validateConfig({
    rules: {
      bruteforce: { on: ['auth-failure'], threshold: 5, window: '1m', ban: '1h' },
      enumeration: { on: ['unknown-account'], distinct: 'account', threshold: 3, window: '5m', ban: '24h' },
    },
  }));
}

/** Decisions as the real policy makes them, stored (with an id). */
function decide(events: SecurityEvent[]): Decision[] {
  const a = analyzer();
  return events.flatMap((e) => a.process(e).decisions).map((d: NewDecision, i) => ({ ...d, id: i + 1 }));
}

describe('alert builders', () => {
  // The enumeration of other accounts from a known-good address still bans (verified evidence): the case to alert on.
  const knownGoodBan = (): Decision => {
    const [d] = decide([
      ev({ kind: 'auth-success', at: T0 - 3_600_000 }),
      ...['201', '202', '203'].map((account, i) => ev({ kind: 'unknown-account', account, at: T0 + i })),
    ]);
    assert.equal(d?.action, 'ban');
    return d as Decision;
  };

  it('alertForBan: a known-good address, with rule, reason, evidence class, count, policy steps and the unban command', () => {
    const alert = alertForBan(knownGoodBan(), { knownGood: ['100'] });
    assert.ok(alert);
    assert.equal(alert.kind, 'known-good-ban');
    assert.equal(alert.target, '203.0.113.5');
    assert.match(alert.subject, /known-good address 203\.0\.113\.5/);
    assert.match(alert.what, /rule enumeration banned 203\.0\.113\.5 for 1d/);
    for (const line of ['rule: enumeration', 'evidence: verified', 'known-good accounts: 100']) assert.ok(alert.evidence.includes(line), line);
    assert.ok(alert.evidence.some((line) => line.startsWith('events: 3 between 2026-11-21 12:00:00 UTC and ')));
    assert.ok(alert.evidence.some((line) => line.startsWith('reason: ')));
    assert.ok(alert.evidence.some((line) => line.startsWith('policy known-good info: ')));
    assert.equal(alert.undo, "sipwarden unban 203.0.113.5 --reason 'customer verified'");
  });

  it('alertForBan: a trunk/customer address is critical; a stranger, a manual or a dry-run ban gives none', () => {
    const decision = knownGoodBan();
    const customer = alertForBan(decision, { knownGood: [], trunk: '203.0.113.0/24' });
    assert.equal(customer?.kind, 'customer-ban');
    assert.equal(customer?.severity, 'critical');
    assert.ok(customer?.evidence.includes('customer/trunk list entry: 203.0.113.0/24'));
    assert.equal(alertForBan(decision, { knownGood: [] }), undefined);
    assert.equal(alertForBan({ ...decision, origin: 'manual' }, { knownGood: ['100'] }), undefined);
    assert.equal(alertForBan({ ...decision, dryRun: true }, { knownGood: ['100'] }), undefined);
    assert.equal(alertForBan({ ...decision, action: 'report' }, { knownGood: ['100'] }), undefined);
  });

  it('alertForMisconfiguredDevice: the report policy makes for known-good failures, and nothing else', () => {
    const [report] = decide([ev({ kind: 'auth-success', at: T0 - 3_600_000 }), ...Array.from({ length: 5 }, (_, i) => ev({ at: T0 + i * 1000 }))]);
    assert.equal(report?.action, 'report');
    const alert = alertForMisconfiguredDevice(report as Decision);
    assert.ok(alert);
    assert.equal(alert.kind, 'misconfigured-device');
    assert.match(alert.subject, /203\.0\.113\.5/);
    assert.ok(alert.evidence.some((line) => /^reason: misconfigured device: 5 failures for 100/.test(line)));
    assert.ok(alert.evidence.some((line) => line.startsWith('policy known-good block: ')));
    assert.match(alert.undo ?? '', /sipwarden why 203\.0\.113\.5/);
    assert.equal(alertForMisconfiguredDevice(knownGoodBan()), undefined);
    assert.equal(alertForMisconfiguredDevice({ ...(report as Decision), reason: 'allowlisted (10.0.0.0/8)' }), undefined);
  });

  it('alertForBudget, alertForEnforcer, alertForSource: what, evidence and the next command', () => {
    const budget = alertForBudget(T0, 100, 60_000);
    assert.equal(budget.kind, 'ban-budget');
    assert.equal(budget.subject, 'ban budget tripped: 100 bans on spoofable evidence in 1m');
    assert.match(budget.undo ?? '', /sipwarden list/);
    const failed = alertForEnforcer('failed', 'nft: table inet sipwarden is gone', T0);
    assert.deepEqual([failed.kind, failed.severity, failed.undo], ['enforcer-failed', 'critical', 'sipwarden doctor']);
    assert.ok(failed.evidence.includes('detail: nft: table inet sipwarden is gone'));
    assert.equal(alertForEnforcer('healed', 'table restored', T0).kind, 'enforcer-healed');
    const source = alertForSource('source', 'ast', 'ENOENT /var/log/asterisk/messages', T0);
    assert.deepEqual([source.kind, source.subject, source.undo], ['source-down', 'source ast down', 'sipwarden doctor']);
    const feed = alertForSource('feed', 'apiban', 'HTTP 503', T0);
    assert.deepEqual([feed.kind, feed.undo], ['feed-down', 'sipwarden feeds sync']);
    assert.ok(feed.evidence.includes('error: HTTP 503'));
  });

  it('alertForFraud: only when an incident opens or turns critical; undo lists the incident actions', () => {
    const finding = {
      at: T0, account: '1001', rule: 'B' as const, severity: 'critical' as const, metric: 'calls-per-minute', value: 12, threshold: 5,
      windowMs: 600_000, ip: '198.51.100.77', callIds: ['c1'], detail: '12 calls to T4 numbers in 10m',
    };
    const incident = {
      id: 'fraud-1001-x', account: '1001', openedAt: T0, updatedAt: T0, severity: 'critical' as const,
      rules: [{ rule: 'B', severity: 'critical' as const, metric: 'calls-per-minute', value: 12, threshold: 5, windowMs: 600_000, at: T0, detail: finding.detail }],
      sources: ['198.51.100.77'], destinations: [{ raw: '0088213', e164: '+88213', tier: 'T4' as const, reasons: ['hotlist'] }],
      callIds: ['c1'], calls: 12, answered: 3, minutes: 4.5, estimatedCost: 27, currency: 'EUR',
      actions: [
        { at: T0, action: 'ban', target: '198.51.100.77', dryRun: false, undo: 'sipwarden unban 198.51.100.77 --reason "toll-fraud ban lifted"' },
        { at: T0, action: 'hangup', target: 'c1', dryRun: false, undo: 'cannot be undone: the call is gone (the account may call again)' },
      ],
    };
    const change = { incident, finding, opened: true, escalated: false } as unknown as FraudChange;
    const alert = alertForFraud(change);
    assert.ok(alert);
    assert.equal(alert.kind, 'fraud-incident');
    assert.equal(alert.severity, 'critical');
    assert.equal(alert.target, '1001');
    assert.match(alert.what, /12 calls, 3 answered, 4\.5 billable minutes, estimated cost 27\.00 EUR/);
    assert.ok(alert.evidence.some((line) => line.startsWith('rule B (critical): calls-per-minute 12 against 5 in 10m')));
    assert.ok(alert.evidence.includes('from: 198.51.100.77'));
    assert.ok(alert.evidence.some((line) => line.startsWith('dialled: 0088213 (+88213)')));
    assert.equal(alert.undo, 'sipwarden unban 198.51.100.77 --reason "toll-fraud ban lifted"\n# hangup c1: cannot be undone: the call is gone (the account may call again)');
    assert.equal(alertForFraud({ ...change, opened: false }), undefined);
    assert.equal(alertForFraud({ ...change, opened: false, escalated: true })?.subject, 'toll fraud now critical on account 1001 (critical)');
  });
});
