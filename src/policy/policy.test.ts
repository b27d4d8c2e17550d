import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import type { EventKind, SecurityEvent } from '../core/event.js';
import { Analyzer } from '../pipeline/analyzer.js';
import type { NewDecision } from '../store/types.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

function ev(over: Partial<SecurityEvent> & { at?: number }): SecurityEvent {
  return { at: T0, kind: 'auth-failure' as EventKind, ip: '203.0.113.5', account: '100', server: 'asterisk', evidence: 'verified', raw: '', ...over };
}

function feed(analyzer: Analyzer, events: SecurityEvent[]): NewDecision[] {
  return events.flatMap((e) => analyzer.process(e).decisions);
}

function burst(n: number, over: Partial<SecurityEvent> = {}, start = T0): SecurityEvent[] {
  return Array.from({ length: n }, (_, i) => ev({ at: start + i * 1000, ...over }));
}

const config = (extra: Record<string, unknown> = {}) =>
  validateConfig({
    allow: ['127.0.0.0/8', '10.0.0.0/8', '2001:db8:aaaa::/48'],
    rules: {
      bruteforce: { on: ['auth-failure', 'unknown-account', 'acl-denied'], threshold: 5, window: '1m', ban: '1h' },
      enumeration: { on: ['unknown-account'], distinct: 'account', threshold: 3, window: '5m', ban: '24h' },
    },
    ...extra,
  });

describe('policy', () => {
  it('bans a brute-forcing stranger, with the path recorded', () => {
    const [d] = feed(new Analyzer(config()), burst(5));
    assert.equal(d?.action, 'ban');
    assert.equal(d?.target, '203.0.113.5');
    assert.equal(d?.durationMs, 3_600_000);
    assert.equal(d?.expiresAt, T0 + 4000 + 3_600_000);
    assert.deepEqual(d?.policy.map((s) => `${s.check}:${s.result}`), ['rule:info', 'allowlist:pass', 'evidence:pass', 'scope:info', 'escalation:info']);
  });

  it('never bans an allowlisted address (v4 and v6 prefixes); reports it once', () => {
    const analyzer = new Analyzer(config());
    const v4 = feed(analyzer, [...burst(5, { ip: '10.1.2.3' }), ...burst(5, { ip: '10.1.2.3' }, T0 + 10_000)]);
    assert.equal(v4.length, 1, 'a second finding inside 10 minutes is not reported again');
    assert.equal(v4[0]?.action, 'report');
    assert.match(v4[0]?.reason ?? '', /allowlisted \(10\.0\.0\.0\/8\)/);
    const v6 = feed(analyzer, burst(5, { ip: '2001:db8:aaaa:1::9' }));
    assert.equal(v6[0]?.action, 'report');
    assert.equal(v6[0]?.policy.find((s) => s.check === 'allowlist')?.result, 'block');
  });

  it('reloads a file: allowlist when the file changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-allow-'));
    const file = join(dir, 'customers.txt');
    writeFileSync(file, '# customers\n198.51.100.0/24\nnot-an-ip\n');
    const problems: string[] = [];
    const analyzer = new Analyzer(config({ allow: [`file:${file}`] }), { onListProblem: (p) => problems.push(`${p.line}: ${p.message}`) });
    assert.deepEqual(problems, ['3: "not-an-ip" is not an address or prefix; skipped']);
    assert.equal(feed(analyzer, burst(5, { ip: '198.51.100.9' }))[0]?.action, 'report');
    analyzer.allow.watch(20);
    writeFileSync(file, '192.0.2.0/24\n');
    const deadline = Date.now() + 3000;
    while (analyzer.allow.match('192.0.2.1') === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(analyzer.allow.match('192.0.2.1'), '192.0.2.0/24');
    assert.equal(analyzer.allow.match('198.51.100.9'), null);
    analyzer.close();
  });

  it('known-good: failures for the account that authenticated here are a misconfigured device, not a ban', () => {
    const analyzer = new Analyzer(config());
    feed(analyzer, [ev({ kind: 'auth-success', at: T0 - 3_600_000 })]);
    const decisions = feed(analyzer, burst(10));
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0]?.action, 'report');
    assert.match(decisions[0]?.reason ?? '', /misconfigured device/);
    assert.equal(analyzer.stats.knownGoodFailures, 10);
  });

  it('known-good: enumeration of other accounts from that address still bans on verified evidence', () => {
    const analyzer = new Analyzer(config());
    feed(analyzer, [ev({ kind: 'auth-success', at: T0 - 3_600_000 })]);
    const others = ['201', '202', '203'].map((account, i) => ev({ kind: 'unknown-account', account, at: T0 + i }));
    const [d] = feed(analyzer, others);
    assert.equal(d?.action, 'ban');
    assert.equal(d?.rule, 'enumeration');
    assert.equal(d?.policy.find((s) => s.check === 'known-good')?.result, 'info');
  });

  it('known-good: an address with recent successes is never banned on spoofable evidence', () => {
    const analyzer = new Analyzer(config());
    feed(analyzer, [ev({ kind: 'auth-success', at: T0 - 3_600_000 })]);
    const others = ['201', '202', '203'].map((account, i) => ev({ kind: 'unknown-account', account, at: T0 + i, evidence: 'spoofable' }));
    const [d] = feed(analyzer, others);
    assert.equal(d?.action, 'report');
    assert.equal(d?.policy.find((s) => s.check === 'known-good')?.result, 'block');
  });

  it('known-good pairs expire after the remembered period', () => {
    const analyzer = new Analyzer(config({ 'known-good': { remember: '1d' } }));
    feed(analyzer, [ev({ kind: 'auth-success', at: T0 - 2 * 86_400_000 })]);
    assert.equal(feed(analyzer, burst(5))[0]?.action, 'ban');
  });

  it('evidence: a rule that requires verified evidence reports spoofable findings', () => {
    const analyzer = new Analyzer(config({
      rules: { strict: { on: ['dialplan-miss'], threshold: 2, window: '1m', ban: '1h', evidence: 'verified' } },
    }));
    const spoofed = feed(analyzer, burst(2, { kind: 'dialplan-miss', evidence: 'spoofable' }));
    assert.equal(spoofed[0]?.action, 'report');
    assert.match(spoofed[0]?.reason ?? '', /requires verified evidence/);
    assert.equal(feed(analyzer, burst(2, { kind: 'dialplan-miss', ip: '203.0.113.6' }))[0]?.action, 'ban');
  });

  it('trunks are not banned on spoofable evidence, but are on verified evidence', () => {
    const analyzer = new Analyzer(config({ trunks: ['192.0.2.0/28'] }));
    assert.equal(feed(analyzer, burst(5, { ip: '192.0.2.1', evidence: 'spoofable' }))[0]?.action, 'report');
    assert.equal(feed(analyzer, burst(5, { ip: '192.0.2.2' }))[0]?.action, 'ban');
  });

  it('budget: past the cap of spoofable bans, findings are reported and the operator alerted once', () => {
    const alerts: number[] = [];
    const analyzer = new Analyzer(config({ budget: { spoofable: { max: 3, per: '1m' } } }), { onBudgetExhausted: (_, used) => alerts.push(used) });
    const decisions: NewDecision[] = [];
    for (let i = 0; i < 6; i++) decisions.push(...feed(analyzer, burst(5, { ip: `198.51.100.${i + 1}`, evidence: 'spoofable' }, T0 + i * 10)));
    assert.deepEqual(decisions.map((d) => d.action), ['ban', 'ban', 'ban', 'report', 'report', 'report']);
    assert.equal(alerts.length, 1);
    assert.equal(feed(analyzer, burst(5, { ip: '198.51.100.50', evidence: 'verified' }, T0 + 100))[0]?.action, 'ban', 'verified evidence is not capped');
    const later = feed(analyzer, burst(5, { ip: '198.51.100.60', evidence: 'spoofable' }, T0 + 120_000));
    assert.equal(later[0]?.action, 'ban', 'the budget refills after its period');
  });

  it('escalation: repeat offenders get factor^n longer bans, capped at max', () => {
    const analyzer = new Analyzer(config({ escalation: { factor: 4, max: '10h', window: '30d' } }));
    const durations: number[] = [];
    for (let round = 0; round < 4; round++) {
      const start = T0 + round * 86_400_000;
      const [d] = feed(analyzer, burst(5, {}, start));
      durations.push(d?.durationMs ?? -1);
      assert.equal(d?.level, round);
    }
    assert.deepEqual(durations, [3_600_000, 4 * 3_600_000, 10 * 3_600_000, 10 * 3_600_000]);
  });

  it('no second decision while a ban is in force', () => {
    const analyzer = new Analyzer(config());
    assert.equal(feed(analyzer, burst(5)).length, 1);
    assert.equal(feed(analyzer, burst(5, {}, T0 + 10_000)).length, 0);
  });

  it('scope: bans the configured IPv6 prefix', () => {
    const analyzer = new Analyzer(config({ scope: { ipv6: 64 } }));
    const [d] = feed(analyzer, burst(5, { ip: '2001:db8:1:2:3:4:5:6' }));
    assert.equal(d?.target, '2001:db8:1:2::/64');
    assert.equal(feed(analyzer, burst(5, { ip: '2001:db8:1:2::99' }, T0 + 10_000)).length, 0, 'covered by the /64 ban');
  });

  it('dry-run rules record bans without making them active', () => {
    const analyzer = new Analyzer(config({ rules: { bf: { on: ['auth-failure'], threshold: 2, window: '1m', ban: '1h', dryRun: true } } }));
    const [d] = feed(analyzer, burst(2));
    assert.equal(d?.action, 'ban');
    assert.equal(d?.dryRun, true);
    assert.equal(analyzer.policy.active.size, 0);
  });

  it('tampered events never reach the rules', () => {
    const analyzer = new Analyzer(config({ rules: { any: { on: ['tampered', 'auth-failure'], threshold: 1, window: '1m', ban: '1h' } } }));
    const decisions = feed(analyzer, [ev({ kind: 'tampered', ip: undefined, tampered: true, candidates: ['198.51.100.1'] })]);
    assert.deepEqual(decisions, []);
    assert.equal(analyzer.stats.tampered, 1);
  });

  it('account-keyed rules report the account and ban nothing', () => {
    const analyzer = new Analyzer(config({ rules: { distributed: { on: ['auth-failure'], key: 'account', threshold: 3, window: '1m', ban: '1h' } } }));
    const events = ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((ip, i) => ev({ ip, at: T0 + i }));
    const [d] = feed(analyzer, events);
    assert.equal(d?.action, 'report');
    assert.equal(d?.targetType, 'account');
    assert.equal(d?.target, '100');
  });
});
