import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { captureLogger } from '../src/alerts/testing.js';
import { validateConfig } from '../src/config/load.js';
import { ManualClock } from '../src/core/clock.js';
import type { SecurityEvent } from '../src/core/event.js';
import { createFleetRules, windowStartOf, type FleetRules } from '../src/fleet/index.js';
import { Analyzer } from '../src/pipeline/analyzer.js';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/index.js';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../src/store/testing/postgres-server.js';
import type { Decision } from '../src/store/types.js';
import { cli, startDaemon, tempDir, waitFor, type RunningDaemon } from './helpers.js';

const W = 600_000;
/** A minute into a window, so the events of one test stay in one window unless it says otherwise. */
const T = windowStartOf(1_700_000_000_000, W) + 60_000;
const ATTACKER = '203.0.113.50';

const skip = postgresSkipReason();

function fleetConfig(node: string, url: string) {
  return validateConfig({
    node,
    store: { postgres: url },
    rules: {
      bruteforce: { on: ['auth-failure'], threshold: 5, window: '1m', ban: '1h' },
      // acl-denied only counts fleet-wide: the tests that need no local ban in the way use it.
      spread: { on: ['auth-failure', 'acl-denied'], threshold: 50, window: '10m', ban: '1h', scope: 'fleet' },
      'spread-accounts': { on: ['unknown-account'], distinct: 'account', threshold: 5, window: '10m', ban: '1h', scope: 'fleet' },
    },
  });
}

const failure = (ip: string, at: number, account = '1001'): SecurityEvent => ({
  at, kind: 'auth-failure', ip, account, server: 'asterisk', evidence: 'spoofable', sensor: 'pbx', raw: '',
});
const denied = (ip: string, at: number): SecurityEvent => ({ ...failure(ip, at), kind: 'acl-denied' });

/** One node as the daemon builds it: an analyzer whose fleet rules count in PostgreSQL, deciding into the store. */
interface Node {
  name: string;
  analyzer: Analyzer;
  fleet: FleetRules;
  decided: Decision[];
  log: () => string;
  /** Local decisions `process` returned (the node's own rules). */
  local: Decision['rule'][];
  feed(events: SecurityEvent[]): void;
}

function fleetNode(name: string, url: string, store: PostgresStore, clock: ManualClock): Node {
  const { logger, output } = captureLogger();
  const decided: Decision[] = [];
  const local: Decision['rule'][] = [];
  const config = fleetConfig(name, url);
  let analyzer: Analyzer | undefined;
  const fleet = createFleetRules(config, store, {
    logger, clock,
    decide: (finding, now) => (analyzer as Analyzer).decide(finding, now),
    commit: async (decisions) => {
      for (const d of decisions) decided.push(await store.addDecision(d));
    },
  });
  assert.ok(fleet, 'a PostgreSQL store counts fleet rules');
  analyzer = new Analyzer(config, { fleet });
  return {
    name, analyzer, fleet, decided, local, log: output,
    feed(events) {
      for (const event of events) for (const d of (analyzer as Analyzer).process(event, clock.now()).decisions) local.push(d.rule);
    },
  };
}

describe('fleet rule config', () => {
  const spread = { on: ['auth-failure'], threshold: 50, window: '10m', scope: 'fleet' };
  it('is refused without store.postgres, naming the rule', () => {
    assert.throws(() => validateConfig({ rules: { spread } }), (e: Error) => /rules\.spread\.scope: "fleet" needs store\.postgres/.test(e.message));
  });
  it('is refused with a window shorter than a few flushes', () => {
    assert.throws(
      () => validateConfig({ store: { postgres: 'postgres://sw:pw@db1/sw' }, rules: { spread: { ...spread, window: '2s' } } }),
      (e: Error) => /rules\.spread\.window: got 2s, a fleet rule needs a window of at least 10s/.test(e.message) && !e.message.includes('pw@'),
    );
  });
  it('defaults to scope node, and a replay without a fleet counts a fleet rule on its own events', () => {
    const config = validateConfig({ rules: { local: { on: ['auth-failure'], threshold: 2 } } });
    assert.equal(config.rules.local?.scope, 'node');
    const replay = new Analyzer(fleetConfig('replay', 'postgres://sw:pw@db1/sw'));
    const found = Array.from({ length: 50 }, (_, i) => replay.process({ ...failure(ATTACKER, T + i), kind: 'acl-denied' }).findings).flat();
    assert.deepEqual(found.map((f) => f.rule.name), ['spread']);
  });
});

describe('fleet-wide rules on a real PostgreSQL', { skip }, () => {
  let server: PostgresServer;
  const stores: PostgresStore[] = [];
  const clock = new ManualClock(T);
  const open = async (url: string): Promise<PostgresStore> => {
    const store = await openPostgresStore(url, { clock, poolSize: 8 });
    stores.push(store);
    return store;
  };
  const fleetBans = async (store: PostgresStore, ip: string) =>
    (await store.decisionsFor({ ip })).filter((d) => d.action === 'ban');

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await server?.stop();
  });

  it('a distributed brute force: 4 attempts on each of 75 PBXs is banned once, by one node, though no PBX saw 5', async () => {
    const url = await server.createSchema();
    const store = await open(url);
    const pbxs = Array.from({ length: 75 }, (_, i) => fleetNode(`pbx${i + 1}`, url, store, clock));
    for (let attempt = 0; attempt < 4; attempt++) {
      pbxs.forEach((pbx, i) => {
        pbx.feed([failure(ATTACKER, T + attempt * 1000 + i, `10${i}`)]);
        // 40 attempts in all from the quiet address: below the fleet threshold, however they are added up.
        if (i < 10) pbx.feed([failure('198.51.100.7', T + attempt * 1000 + i)]);
      });
      // Every PBX flushes at once: the claims race, and exactly one wins.
      await Promise.all(pbxs.map((pbx) => pbx.fleet.flush()));
    }
    assert.deepEqual(pbxs.flatMap((p) => p.local), [], 'no PBX reached its local bruteforce threshold');
    const deciders = pbxs.filter((p) => p.decided.length > 0);
    assert.equal(deciders.length, 1, 'one node decides for the fleet');
    const [ban] = deciders[0]!.decided;
    assert.equal(ban?.target, ATTACKER);
    assert.equal(ban?.rule, 'spread');
    assert.equal(ban?.sensor, deciders[0]!.name);
    assert.equal(ban?.policy[0]?.check, 'fleet');
    assert.match(ban?.policy[0]?.detail ?? '', /counted across the fleet: \d+ events in this 10m window/);
    assert.equal((await fleetBans(store, ATTACKER)).length, 1, 'one ban in the store, whatever the later flushes saw');
    assert.deepEqual(await fleetBans(store, '198.51.100.7'), [], 'the quiet address is never banned');
    assert.equal(pbxs.reduce((n, p) => n + p.fleet.stats.skipped, 0), 0);
  });

  it('works with one node alone, counts a burst that straddles a window boundary whole, and prunes old windows', async () => {
    const url = await server.createSchema();
    const store = await open(url);
    const alone = fleetNode('alone', url, store, clock);
    const boundary = windowStartOf(T, W) + W;
    // 30 attempts in the last seconds of one window, 25 in the first seconds of the next: 55 within a minute.
    for (let i = 0; i < 30; i++) alone.feed([denied(ATTACKER, boundary - 30_000 + i * 1000)]);
    await alone.fleet.flush();
    assert.equal(alone.decided.length, 0, "30 events: below the threshold");
    for (let i = 0; i < 25; i++) alone.feed([denied(ATTACKER, boundary + 5_000 + i * 200)]);
    await alone.fleet.flush();
    assert.equal(alone.decided.length, 1);
    assert.match(alone.decided[0]?.policy[0]?.detail ?? '', /25 events in this 10m window and 30 in the one before/);
    assert.equal(alone.decided[0]?.firstEventAt, boundary - 30_000, 'the evidence starts at the first counted event');

    // Half an hour on, both windows are older than twice the longest fleet window: the next flush removes them.
    clock.advance(30 * 60_000);
    try {
      alone.feed([denied(ATTACKER, clock.now())]);
      await alone.fleet.flush();
      const windows = await store.db.query<{ window_start: number }>('SELECT window_start FROM fleet_counters UNION ALL SELECT window_start FROM fleet_claims');
      assert.deepEqual(windows.rows.map((r) => r.window_start), [windowStartOf(clock.now(), W)]);
    } finally {
      clock.set(T);
    }
  });

  it('a node that joins mid-window adds to the same counters, and the fleet still decides once', async () => {
    const url = await server.createSchema();
    const first = fleetNode('pbx-a', url, await open(url), clock);
    for (let i = 0; i < 30; i++) first.feed([denied(ATTACKER, T + i * 100)]);
    await first.fleet.flush();
    // A node that starts later, with its own connection and nothing in memory.
    const late = fleetNode('pbx-late', url, await open(url), clock);
    for (let i = 0; i < 20; i++) late.feed([denied(ATTACKER, T + 10_000 + i * 100)]);
    await late.fleet.flush();
    assert.equal(late.decided.length, 1, 'the late node crossed the threshold and claimed it');
    first.feed([denied(ATTACKER, T + 20_000)]);
    await first.fleet.flush();
    assert.deepEqual(first.decided, [], 'the claim stands for the window: the first node does not ban again');
    assert.equal((await fleetBans(stores.at(-1)!, ATTACKER)).length, 1);
  });

  it('distinct rules count each value once across nodes', async () => {
    const url = await server.createSchema();
    const store = await open(url);
    const nodes = ['pbx-a', 'pbx-b', 'pbx-c'].map((name) => fleetNode(name, url, store, clock));
    const probe = (ip: string, account: string, at: number): SecurityEvent => ({ ...failure(ip, at, account), kind: 'unknown-account' });
    // Four accounts between them, each tried on two nodes: 8 attempts, 4 distinct.
    for (const [i, node] of nodes.entries()) node.feed([probe(ATTACKER, `acct${i}`, T + i), probe(ATTACKER, `acct${i + 1}`, T + 10 + i)]);
    await Promise.all(nodes.map((n) => n.fleet.flush()));
    assert.deepEqual(nodes.flatMap((n) => n.decided), [], '4 distinct accounts: below 5');
    nodes[1]!.feed([probe(ATTACKER, 'acct9', T + 100)]);
    await nodes[1]!.fleet.flush();
    assert.equal(nodes[1]!.decided.length, 1);
    assert.match(nodes[1]!.decided[0]?.reason ?? '', /spread-accounts: 5 distinct accounts/);
  });

  it('with PostgreSQL down, local rules go on and fleet counting resumes when it is back', async () => {
    const url = await server.createSchema();
    const node = fleetNode('pbx-a', url, await open(url), clock);
    await server.kill();
    const started = Date.now();
    node.feed(Array.from({ length: 5 }, (_, i) => failure('192.0.2.66', T + i)));
    assert.deepEqual(node.local, ['bruteforce'], 'the local rule decided at once, without the database');
    assert.ok(Date.now() - started < 100, 'the event path never waits on the database');
    await node.fleet.flush();
    node.feed([failure('192.0.2.66', T + 10)]);
    await node.fleet.flush();
    assert.equal(node.log().match(/fleet: counters unavailable/g)?.length, 1, 'logged once per outage');
    assert.equal(node.fleet.stats.skipped, 6);
    await server.restart();
    for (let i = 0; i < 50; i++) node.feed([denied(ATTACKER, T + i)]);
    await node.fleet.flush();
    assert.match(node.log(), /fleet: counters available again/);
    assert.equal(node.decided.length, 1, 'counting again after the outage');
  });
});

const pad = (n: number): string => String(n).padStart(2, '0');
function stamp(d = new Date()): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const wrongPassword = (ip: string, account: string): string =>
  `[${stamp()}] NOTICE[1638] chan_sip.c: Registration from '<sip:${account}@192.0.2.10>' failed for '${ip}:5060' - Wrong password\n`;

/** What a dry-run enforcer journalled. */
function journal(path: string): { op: string; target: string }[] {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { op: string; target: string });
  } catch {
    return [];
  }
}

/** The same through `sipwarden run`: three daemons, each tailing its own PBX log, with dry-run enforcers. */
describe('fleet-wide rules across three daemons', { skip }, () => {
  let server: PostgresServer;
  const dir = tempDir('sw-fleet-rules-');
  const daemons: RunningDaemon[] = [];
  const nodes = ['pbx-a', 'pbx-b', 'pbx-c'].map((name) => ({
    name, log: join(dir, `${name}.log`), config: join(dir, `${name}.yaml`), journal: join(dir, `${name}.ndjson`),
  }));

  before(async () => {
    server = await startPostgres();
    const url = await server.createDatabase();
    for (const n of nodes) {
      writeFileSync(n.log, `[${stamp()}] VERBOSE[1] asterisk.c: Asterisk Ready.\n`);
      writeFileSync(n.config, [
        `node: ${n.name}`, `store: { postgres: "${url}" }`, `sources: [{ id: ast, type: file, path: ${n.log}, format: asterisk, startAt: start }]`,
        'allow: [127.0.0.0/8]', `enforce: { backend: dry-run, journal: ${n.journal} }`,
        'rules:',
        '  bruteforce: { on: [auth-failure], threshold: 5, window: 1m, ban: 1h }',
        '  spread: { on: [auth-failure], threshold: 10, window: 10m, ban: 1h, scope: fleet }', '',
      ].join('\n'));
    }
  });
  after(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('4 attempts on each node, below every local threshold, ban the attacker once and every node enforces it', async () => {
    for (const n of nodes) daemons.push(startDaemon(n.config));
    await Promise.all(daemons.map((d) => d.waitForLog(/fleet: enforced every active ban/)));
    for (const n of nodes) {
      // 9 attempts in all from the quiet address, before the attacker's, so they are counted first.
      for (let i = 0; i < 3; i++) appendFileSync(n.log, wrongPassword('198.51.100.7', `30${i}`));
      for (let i = 0; i < 4; i++) appendFileSync(n.log, wrongPassword(ATTACKER, `10${i}`));
    }
    for (const n of nodes) {
      await waitFor(() => journal(n.journal).some((e) => e.op === 'ban' && e.target === ATTACKER), 5000, `${n.name} enforces the fleet ban`);
    }
    // One more flush interval: every count is in, and nothing else may come of it.
    await new Promise((r) => setTimeout(r, 700));
    const listed = JSON.parse(cli(['list', '--json', '--config', nodes[0]!.config]).stdout) as { target: string; rule?: string; sensor?: string }[];
    assert.deepEqual(listed.map((d) => [d.target, d.rule]), [[ATTACKER, 'spread']], 'one ban, by the fleet rule; the quiet address is not banned');
    const decider = nodes.find((n) => n.name === listed[0]!.sensor);
    assert.ok(decider, `decided by one of the nodes (${listed[0]!.sensor})`);
    for (const [i, n] of nodes.entries()) {
      assert.ok(!journal(n.journal).some((e) => e.target === '198.51.100.7'));
      if (n === decider) continue;
      assert.ok(daemons[i]!.logs.some((l) => /banned 203\.0\.113\.50 \(fleet, spread\)/.test(l.msg)), `${n.name} got it through the decision watch`);
    }
  });
});
