import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { explain } from '../src/cli/commands/why.js';
import { validateConfig } from '../src/config/load.js';
import type { SecurityEvent } from '../src/core/event.js';
import { Analyzer } from '../src/pipeline/analyzer.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import { tempDir } from './helpers.js';

/**
 * `why` for every policy path: each scenario runs events through the analyzer (as the daemon does), stores
 * events and decisions, and checks the story `why` tells.
 */
const NOW = Date.now();
const config = validateConfig({
  allow: ['127.0.0.0/8', '10.0.0.0/8'],
  trunks: ['192.0.2.0/28'],
  rules: {
    bruteforce: { on: ['auth-failure', 'unknown-account'], threshold: 3, window: '1m', ban: '1h' },
    strict: { on: ['dialplan-miss'], threshold: 2, window: '1m', ban: '1h', evidence: 'verified' },
    trial: { on: ['acl-denied'], threshold: 2, window: '1m', ban: '1h', dryRun: true },
  },
  budget: { spoofable: { max: 1, per: '1h' } },
  escalation: { factor: 3, max: '30d', window: '30d' },
});

async function scenario(events: Partial<SecurityEvent>[], analyzer = new Analyzer(config), store?: Store): Promise<{ store: Store; analyzer: Analyzer }> {
  const db = store ?? openSqliteStore(join(tempDir('sw-why-'), 'sw.db'));
  const full = events.map((e, i): SecurityEvent => ({
    at: NOW - 10_000 + i, kind: 'auth-failure', ip: '203.0.113.5', account: '100', server: 'asterisk', evidence: 'verified', raw: 'line', ...e,
  }));
  await db.appendEvents(full);
  for (const e of full) {
    if (e.kind === 'auth-success' && e.ip && e.account) await db.rememberSuccess(e.ip, e.account, e.at);
    for (const d of analyzer.process(e, e.at).decisions) await db.addDecision(d);
  }
  return { store: db, analyzer };
}

const times = (n: number, e: Partial<SecurityEvent>): Partial<SecurityEvent>[] => Array.from({ length: n }, () => e);

describe('why, for each policy path', () => {
  it('a ban: rule, passed checks, expiry, events, undo', async () => {
    const { store } = await scenario(times(3, {}));
    const out = await explain(store, config, '203.0.113.5', NOW);
    assert.match(out, /^203\.0\.113\.5: BANNED \(203\.0\.113\.5\) until .*\(in 59m/m);
    assert.match(out, /rule bruteforce/);
    assert.match(out, /pass  allowlist/);
    assert.match(out, /pass  evidence {4}verified/);
    assert.match(out, /Events stored: 3 \(auth-failure 3\)/);
    assert.match(out, /Undo: sipwarden unban 203\.0\.113\.5 --reason/);
  });

  it('a ban reports the packets its kernel element counted', async () => {
    const { store } = await scenario(times(3, { ip: '203.0.113.6' }));
    const out = await explain(store, config, '203.0.113.6', NOW, async () => ({ banned: true, packets: 1234 }));
    assert.match(out, /packets dropped by this ban: 1,234 \(nftables\)/);
  });

  it('allowlisted: reported, the matching entry named', async () => {
    const { store } = await scenario(times(3, { ip: '10.9.8.7' }));
    const out = await explain(store, config, '10.9.8.7', NOW);
    assert.match(out, /10\.9\.8\.7: not banned/);
    assert.match(out, /BLOCK allowlist   address is allowlisted \(10\.0\.0\.0\/8\)/);
    assert.match(out, /Allowlisted: yes \(10\.0\.0\.0\/8\), never banned/);
  });

  it('known-good: a misconfigured device, not counted toward a ban', async () => {
    const { store } = await scenario([{ kind: 'auth-success', ip: '198.51.100.7' }, ...times(4, { ip: '198.51.100.7' })]);
    const out = await explain(store, config, '198.51.100.7', NOW);
    assert.match(out, /BLOCK known-good  account 100 authenticated from this address recently/);
    assert.match(out, /bruteforce\s+0\/3/);
  });

  it('evidence: a rule that needs verified evidence reports spoofable findings', async () => {
    const { store } = await scenario(times(2, { kind: 'dialplan-miss', ip: '198.51.100.8', evidence: 'spoofable' }));
    const out = await explain(store, config, '198.51.100.8', NOW);
    assert.match(out, /BLOCK evidence    rule requires verified evidence; all of it is spoofable/);
  });

  it('trunk: not banned on spoofable evidence', async () => {
    const { store } = await scenario(times(3, { ip: '192.0.2.3', evidence: 'spoofable' }));
    const out = await explain(store, config, '192.0.2.3', NOW);
    assert.match(out, /BLOCK trunk       trunk\/customer address \(192\.0\.2\.0\/28\) and the evidence is spoofable/);
    assert.match(out, /Trunk\/customer list: yes \(192\.0\.2\.0\/28\)/);
  });

  it('budget: the second spoofable ban in the period is reported with the budget named', async () => {
    const first = await scenario(times(3, { ip: '198.51.100.20', evidence: 'spoofable' }));
    await scenario(times(3, { ip: '198.51.100.21', evidence: 'spoofable' }), first.analyzer, first.store);
    const out = await explain(first.store, config, '198.51.100.21', NOW);
    assert.match(out, /BLOCK budget      ban budget for spoofable evidence exhausted \(1 per 1h\)/);
  });

  it('escalation: a repeat offender gets a longer ban and its level', async () => {
    const analyzer = new Analyzer(config);
    analyzer.policy.recordBan('198.51.100.30', NOW - 86_400_000);
    const { store } = await scenario(times(3, { ip: '198.51.100.30' }), analyzer);
    const out = await explain(store, config, '198.51.100.30', NOW);
    assert.match(out, /escalation level 1 \(repeat offender: ban #2 in 30d\)/);
    assert.match(out, /ban #2 in 30d: 1h x 3\^1 = 3h/);
  });

  it('dry-run: the ban is recorded as dry-run, the address is not banned', async () => {
    const { store } = await scenario(times(2, { kind: 'acl-denied', ip: '198.51.100.40' }));
    const out = await explain(store, config, '198.51.100.40', NOW);
    assert.match(out, /198\.51\.100\.40: not banned/);
    assert.match(out, /Policy path of decision \d+ \(ban, dry-run\)/);
    assert.match(out, /info  dry-run     rule trial is dry-run/);
  });

  it('an account: where it authenticated from and the decisions about it', async () => {
    const { store } = await scenario([{ kind: 'auth-success', ip: '198.51.100.50', account: 'alice' }]);
    const out = await explain(store, config, 'alice', NOW);
    assert.match(out, /account alice: not banned/);
    assert.match(out, /Authenticated from: 198\.51\.100\.50/);
  });
});
