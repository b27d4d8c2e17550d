import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../config/load.js';
import type { SecurityEvent } from '../core/event.js';
import { FraudMonitor } from './monitor.js';

const NIGHT = Date.UTC(2026, 10, 19, 2, 0, 0);

function monitor(mode: 'monitor' | 'enforce'): FraudMonitor {
  const config = parseConfigText(`fraud: { homeCountry: GB, allowedCountries: [IE], actions: { mode: ${mode}, deny: 1h } }`, 't.yaml', {});
  return new FraudMonitor(config.fraud!, 'UTC');
}

const start = (account: string, destination: string, at: number, id: string): SecurityEvent => ({
  at, kind: 'call-start', account, destination, callId: id, server: 'hep', evidence: 'verified', raw: '',
});

describe('call authorisation', () => {
  it('allows home and allowed countries; denies a high-risk destination; says why', () => {
    const fraud = monitor('enforce');
    assert.deepEqual(fraud.authorize({ account: '1001', destination: '02079460000' }, NIGHT), { allow: true, reason: 'domestic', tier: 'T1', e164: '+442079460000' });
    assert.equal(fraud.authorize({ account: '1001', destination: '0035312345678' }, NIGHT).reason, 'allowed country');
    const satellite = fraud.authorize({ account: '1001', destination: '00882161234567' }, NIGHT);
    assert.equal(satellite.allow, false);
    assert.match(satellite.reason, /high-risk destination \(non-geographic\)/);
    assert.equal(fraud.authorize({ account: '1001', destination: '0037167000123' }, NIGHT).allow, true, 'T3 alone is allowed');
  });

  it('after a critical incident the account\'s risky calls are denied for the deny window, its domestic calls not', () => {
    const fraud = monitor('enforce');
    for (let i = 0; i < 5; i++) fraud.observe(start('2002', '0037167000123', NIGHT + i * 1000, `p${i}`)); // A1 critical
    const denied = fraud.authorize({ account: '2002', destination: '0037167000999' }, NIGHT + 10_000);
    assert.equal(denied.allow, false);
    assert.match(denied.reason, /account under toll-fraud incident fraud-2002-/);
    assert.ok(denied.incident?.startsWith('fraud-2002-'));
    assert.equal(fraud.authorize({ account: '2002', destination: '02079460000' }, NIGHT + 10_000).allow, true);
    for (let i = 0; i < 5; i++) fraud.observe({ ...start('2002', '0037167000123', NIGHT + 60_000, `p${i}`), kind: 'call-end', call: { billSec: 50 } });
    assert.equal(fraud.authorize({ account: '2002', destination: '0037167000999' }, NIGHT + 2 * 3_600_000).allow, true, 'the calls ended and the window with them');
    const incident = fraud.takeChanged().find((i) => i.account === '2002')!;
    assert.deepEqual(incident.actions.map((a) => [a.action, a.dryRun]), [['deny', false]]);
  });

  it('monitor-only: always allow, with what the answer would have been', () => {
    const fraud = monitor('monitor');
    const answer = fraud.authorize({ account: '1001', destination: '00882161234567' }, NIGHT);
    assert.equal(answer.allow, true);
    assert.equal(answer.wouldDeny, true);
    assert.match(answer.reason, /^monitor-only, would deny: high-risk destination/);
  });

  it('bans only the address that registered the account anew, once its incident is critical', () => {
    const fraud = monitor('enforce');
    const reg = (ip: string, at: number): SecurityEvent => ({ at, kind: 'auth-success', account: '3003', ip, server: 'hep', evidence: 'verified', raw: '' });
    assert.deepEqual(fraud.bansFor(fraud.observe(reg('81.2.69.160', NIGHT - 86_400_000))), [], 'the first address ever seen is not news');
    const changes = [...fraud.observe(reg('185.220.101.7', NIGHT)), ...fraud.observe(start('3003', '0037167000123', NIGHT + 60_000, 'x1'))];
    const bans = fraud.bansFor(changes);
    assert.deepEqual(bans.map((b) => [b.ip, b.dryRun, b.durationMs]), [['185.220.101.7', false, 43_200_000]]);
    assert.deepEqual(fraud.bansFor(changes), [], 'one ban per address and incident');
    const incident = bans[0]!.incident;
    assert.ok(incident.actions.some((a) => a.action === 'ban' && a.undo === 'sipwarden unban 185.220.101.7 --reason "toll-fraud ban lifted"'));
    assert.ok(!incident.actions.some((a) => a.target === '81.2.69.160'), 'the account\'s usual address is never banned');
  });

  it('prices the minutes of an incident with the rate table: the longest prefix wins, else the tier', () => {
    const config = parseConfigText('fraud: { homeCountry: GB, rates: { currency: USD, prefixes: [{ prefix: "+882", perMinute: 8 }, { prefix: "+88216", perMinute: 10 }] } }', 't.yaml', {});
    const fraud = new FraudMonitor(config.fraud!, 'UTC');
    assert.equal(fraud.pricePerMinute('00882161234567'), 10);
    assert.equal(fraud.pricePerMinute('00882991234567'), 8);
    assert.equal(fraud.pricePerMinute('0037167000123'), 0.5, 'T3 by tier');
    fraud.observe(start('8008', '00882161234567', NIGHT, 'c1')); // B critical opens the incident
    fraud.observe({ ...start('8008', '00882161234567', NIGHT + 600_000, 'c1'), kind: 'call-end', call: { billSec: 600 } });
    const incident = fraud.takeChanged().find((i) => i.account === '8008')!;
    assert.equal(incident.estimatedCost, 100);
    assert.equal(incident.currency, 'USD');
  });

  it('the operator\'s hotlist makes a number T4; ignored accounts (trunks) are not judged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-hot-'));
    writeFileSync(join(dir, 'hot.txt'), '# numbers seen in IRSF test-call lists\n+37167000123\n\n');
    const config = parseConfigText(`fraud: { homeCountry: GB, hotlist: ["004420794600", "file:${join(dir, 'hot.txt')}", "file:${join(dir, 'missing.txt')}"], ignoreAccounts: [trunk1] }`, 't.yaml', {});
    const fraud = new FraudMonitor(config.fraud!, 'UTC');
    const { keys, problems } = fraud.configuredHotlist();
    assert.ok(keys.includes('37167000123'));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /missing\.txt/);
    fraud.setHotlist(keys);
    const latvia = fraud.observe(start('9009', '0037167000123', NIGHT, 'h1'));
    assert.ok(latvia.some((c) => c.finding.rule === 'B' && c.finding.severity === 'critical' && c.finding.destination?.reasons.includes('hotlist')));
    assert.deepEqual(fraud.observe(start('trunk1', '00882161234567', NIGHT, 't1')), []);
  });

  it('hangs up the account\'s live risky calls when its incident turns critical, and only those', () => {
    const fraud = monitor('enforce');
    const live = (id: string, destination: string, at: number): SecurityEvent => ({
      ...start('1010', destination, at, id), server: 'asterisk', sensor: 'pbx/ami', call: { channel: `PJSIP/1010-0000000${id}`, uniqueId: `u${id}` },
    });
    const calm = fraud.observe(live('1', '02079460000', NIGHT)); // domestic: stays up
    assert.deepEqual(fraud.hangupsFor(calm), []);
    const changes = [...fraud.observe(live('2', '0037167000123', NIGHT + 1000)), ...fraud.observe(live('3', '00882161234567', NIGHT + 2000))];
    const hangups = fraud.hangupsFor(changes);
    assert.deepEqual(hangups.map((h) => [h.call.channel, h.call.sensor, h.dryRun]).sort(), [
      ['PJSIP/1010-00000002', 'pbx/ami', false],
      ['PJSIP/1010-00000003', 'pbx/ami', false],
    ]);
    assert.deepEqual(fraud.hangupsFor(changes), [], 'each call once');
    const quiet = new FraudMonitor(parseConfigText('fraud: { homeCountry: GB, actions: { mode: enforce, hangup: false } }', 't.yaml', {}).fraud!, 'UTC');
    assert.deepEqual(quiet.hangupsFor(quiet.observe(live('4', '00882161234567', NIGHT))), [], 'hangup turned off');
  });

  it('a Wangiri callback opens a critical incident with its deny action, and the next callback is denied', () => {
    const fraud = monitor('enforce');
    const changes = fraud.observe(start('desk1', '0018762345678', NIGHT, 'w1'));
    const incident = changes[0]!.incident;
    assert.equal(incident.severity, 'critical');
    assert.deepEqual(incident.destinations.map((d) => [d.e164, d.country, d.tier]), [['+18762345678', 'JM', 'T4']]);
    assert.deepEqual(incident.actions.map((a) => a.action), ['deny']);
    const next = fraud.authorize({ account: 'desk1', destination: '0018762345679' }, NIGHT + 60_000);
    assert.equal(next.allow, false);
    assert.match(next.reason, /account under toll-fraud incident .*high-risk destination \(caribbean-nanp\)/);
  });
});
