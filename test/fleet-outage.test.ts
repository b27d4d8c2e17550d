import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../src/store/testing/postgres-server.js';
import { asteriskStamp, cli, dryRunJournal, type RunningDaemon, startDaemon, tempDir, waitFor, wrongPasswordLine } from './helpers.js';


/**
 * Whether a node enforces `target`, made by another node: the watch applied it (a log line), or a resync
 * reconciled the kernel with a fleet list of `total` bans (the dry-run journal records a reconcile as a count).
 */
function enforces(daemon: RunningDaemon, target: string, total: number): boolean {
  return daemon.logs.some((l) => l.msg.startsWith(`banned ${target} (fleet`) ||
    (/fleet: enforced every active ban|state restored/.test(l.msg) && (l as { bans?: number }).bans === total));
}

const skip = postgresSkipReason();

/** PostgreSQL crashes under two nodes: they keep banning, and once it is back nothing they decided is lost. */
describe('fleet: a PostgreSQL outage', { skip }, () => {
  let server: PostgresServer;
  const dir = tempDir('sw-outage-');
  const daemons: RunningDaemon[] = [];
  const node = (name: string) => ({
    name, log: join(dir, `${name}.log`), config: join(dir, `${name}.yaml`), journal: join(dir, `${name}.ndjson`), spool: join(dir, `${name}-spool.ndjson`),
  });
  const a = node('pbx-a');
  const b = node('pbx-b');
  let url = '';

  before(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
    for (const n of [a, b]) {
      writeFileSync(n.log, `[${asteriskStamp()}] VERBOSE[1] asterisk.c: Asterisk Ready.\n`);
      writeFileSync(n.config, [
        `node: ${n.name}`, `store: { postgres: "${url}", spool: ${n.spool} }`,
        `sources: [{ id: ast, type: file, path: ${n.log}, format: asterisk, startAt: start }]`,
        'allow: [127.0.0.0/8]', `enforce: { backend: dry-run, journal: ${n.journal} }`, '',
      ].join('\n'));
    }
  });
  after(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('nodes ban at once while it is down; a node restarted meanwhile replays its spool; afterwards every decision is stored once and enforced everywhere', async () => {
    const [onA, onB] = [startDaemon(a.config), startDaemon(b.config)];
    daemons.push(onA, onB);
    await Promise.all(daemons.map((d) => d.waitForLog(/fleet: enforced every active ban/)));
    await server.kill();

    const attackersOfA = ['203.0.113.1', '203.0.113.2', '203.0.113.3'];
    for (const ip of attackersOfA) {
      for (let i = 0; i < 5; i++) appendFileSync(a.log, wrongPasswordLine(ip));
      // The kernel first: the ban must not wait on the store that is gone.
      await waitFor(() => dryRunJournal(a.journal).some((e) => e.op === 'ban' && e.target === ip), 2000, `node A bans ${ip} with PostgreSQL down`);
    }
    await onA.waitForLog(/fleet: PostgreSQL is unreachable/);
    for (let i = 0; i < 5; i++) appendFileSync(b.log, wrongPasswordLine('203.0.113.50'));
    await waitFor(() => dryRunJournal(b.journal).some((e) => e.op === 'ban' && e.target === '203.0.113.50'), 2000, 'node B bans its own attacker with PostgreSQL down');
    const spooled = readFileSync(a.spool, 'utf8');
    for (const ip of attackersOfA) assert.ok(spooled.includes(`"target":"${ip}"`), `${ip} is in node A's spool on disk`);

    // The CLI has no spool of its own: it says what is wrong (and never prints the password).
    const offlineBan = cli(['ban', '198.51.100.7', '--reason', 'offline', '--config', b.config]);
    assert.notEqual(offlineBan.status, 0);
    assert.match(offlineBan.stderr, /SW_ERR_STORE.*cannot connect to PostgreSQL/);
    assert.ok(!offlineBan.stderr.includes(server.password));

    // Node A restarts during the outage: it waits for PostgreSQL, and the spool survives.
    assert.equal(await onA.stop(), 0);
    daemons.splice(daemons.indexOf(onA), 1);
    const restarted = startDaemon(a.config);
    daemons.push(restarted);
    await restarted.waitForLog(/fleet: PostgreSQL is unreachable at start/);

    await server.restart();
    await restarted.waitForLog(/fleet: storing the writes spooled during the last outage/, 10_000);
    await restarted.waitForLog(/fleet: enforced every active ban/, 10_000);
    await waitFor(() => !readFileSync(b.spool, 'utf8').includes('203.0.113.50'), 10_000, 'node B stores its spooled decision');

    const stored = await server.query<{ target: string; n: number }>(
      'SELECT target, count(*)::int AS n FROM decisions GROUP BY target ORDER BY target', [], new URL(url).pathname.slice(1),
    );
    assert.deepEqual(stored, [...attackersOfA, '203.0.113.50'].map((target) => ({ target, n: 1 })), 'every decision made offline, stored exactly once');
    for (const ip of attackersOfA) await waitFor(() => enforces(onB, ip, 4), 5000, `node B enforces ${ip} of node A`);
    await waitFor(() => enforces(restarted, '203.0.113.50', 4), 5000, 'node A enforces the ban node B made offline');
    // Node B's watch resyncs after the outage only once its own queue is stored: a resync read before would lift
    // the ban it made offline (the fleet's list did not have it yet), and the replay would not bring it back.
    const after = (msg: RegExp): number => onB.logs.findIndex((l, i) => i > onB.logs.findIndex((o) => /PostgreSQL is unreachable/.test(o.msg)) && msg.test(l.msg));
    await waitFor(() => after(/fleet: enforced every active ban/) >= 0, 8000, 'node B resyncs after the outage');
    assert.ok(after(/fleet: PostgreSQL is back/) >= 0 && after(/fleet: PostgreSQL is back/) < after(/fleet: enforced every active ban/));
    // Node B's own offline ban came back to it under its stored id: known as its own, not enforced twice.
    assert.equal(onB.logs.filter((l) => l.msg.startsWith('banned 203.0.113.50')).length, 1);

    const listed = JSON.parse(cli(['list', '--json', '--config', b.config]).stdout) as { target: string; id: number }[];
    assert.deepEqual(listed.map((d) => d.target).sort(), [...attackersOfA, '203.0.113.50']);
    assert.ok(listed.every((d) => d.id > 0), 'no provisional id reached the store');
  });
});
