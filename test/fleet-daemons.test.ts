import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../src/store/testing/postgres-server.js';
import { asteriskStamp, cli, dryRunJournal, type RunningDaemon, startDaemon, tempDir, waitFor, wrongPasswordLine } from './helpers.js';


const skip = postgresSkipReason();

/** Two nodes on one PostgreSQL: a ban on one is enforced on the other as it commits, and so is its unban. */
describe('fleet: two daemons sharing PostgreSQL', { skip }, () => {
  let server: PostgresServer;
  const dir = tempDir('sw-fleet-');
  const daemons: RunningDaemon[] = [];
  const node = (name: string) => ({ log: join(dir, `${name}.log`), config: join(dir, `${name}.yaml`), journal: join(dir, `${name}.ndjson`) });
  const a = node('a');
  const b = node('b');

  before(async () => {
    server = await startPostgres();
    const url = await server.createDatabase();
    for (const [name, n] of [['pbx-a', a], ['pbx-b', b]] as const) {
      writeFileSync(n.log, `[${asteriskStamp()}] VERBOSE[1] asterisk.c: Asterisk Ready.\n`);
      writeFileSync(n.config, [
        `node: ${name}`, `store: { postgres: "${url}" }`, `sources: [{ id: ast, type: file, path: ${n.log}, format: asterisk, startAt: start }]`,
        'allow: [127.0.0.0/8]', `enforce: { backend: dry-run, journal: ${n.journal} }`, '',
      ].join('\n'));
    }
  });
  after(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rule ban on node A reaches node B within a second; a CLI unban is lifted on both', async () => {
    for (const n of [a, b]) daemons.push(startDaemon(n.config));
    await Promise.all(daemons.map((d) => d.waitForLog(/fleet: enforced every active ban/)));
    const started = Date.now();
    for (let i = 0; i < 5; i++) appendFileSync(a.log, wrongPasswordLine('203.0.113.77'));
    await daemons[0]!.waitForLog(/banned 203\.0\.113\.77/);
    const banned = Date.now();
    await waitFor(() => dryRunJournal(b.journal).some((e) => e.op === 'ban' && e.target === '203.0.113.77'), 1000, 'node B enforces the ban of node A');
    const onB = daemons[1]!.logs.find((l) => /banned 203\.0\.113\.77 \(fleet, bruteforce\)/.test(l.msg));
    assert.ok(onB, 'node B logs where the ban came from');
    assert.ok(Date.now() - banned < 1000, `propagated in ${Date.now() - banned} ms (log line to ban on A: ${banned - started} ms)`);

    assert.equal(cli(['unban', '203.0.113.77', '--reason', 'customer', '--config', b.config]).status, 0);
    for (const n of [a, b]) {
      await waitFor(() => dryRunJournal(n.journal).some((e) => e.op === 'unban' && e.target === '203.0.113.77'), 1500, `${n.config} lifts it`);
    }
  });

  it('a phone that registered on node B is known-good on node A: its failures there are a misconfigured device, not a ban', async () => {
    appendFileSync(b.log, `[${asteriskStamp()}] VERBOSE[1638] chan_sip.c: Registered SIP '1001' at 198.51.100.9:5060\n`);
    await daemons[1]!.waitForLog(/source started/);
    // Node A reads the pairs other nodes learned every 2 s.
    await new Promise((r) => setTimeout(r, 3000));
    for (let i = 0; i < 6; i++) appendFileSync(a.log, wrongPasswordLine('198.51.100.9'));
    await daemons[0]!.waitForLog(/reported 198\.51\.100\.9: misconfigured device/, 5000);
    assert.ok(!daemons[0]!.logs.some((l) => /^banned 198\.51\.100\.9/.test(l.msg)));
  });

  it('an address allowlisted through one node is never banned by another, and reaches its kernel allow sets', async () => {
    const added = cli(['allow', 'add', '203.0.113.88', '--reason', 'customer ACME', '--config', b.config]);
    assert.equal(added.status, 0, added.stderr);
    await daemons[0]!.waitForLog(/shared allowlist loaded from the store/, 5000);
    assert.ok(dryRunJournal(a.journal).some((e) => e.op === 'allow' && (e as { count?: number }).count === 2), 'config 127.0.0.0/8 plus the shared entry');
    for (let i = 0; i < 6; i++) appendFileSync(a.log, wrongPasswordLine('203.0.113.88'));
    for (let i = 0; i < 5; i++) appendFileSync(a.log, wrongPasswordLine('203.0.113.89'));
    await daemons[0]!.waitForLog(/banned 203\.0\.113\.89/);
    assert.ok(!daemons[0]!.logs.some((l) => /banned 203\.0\.113\.88/.test(l.msg)), 'the allowlisted address is not banned');
    const audit = JSON.parse(cli(['why', '203.0.113.88', '--json', '--config', a.config]).stdout) as { audit: { action: string }[] };
    assert.ok(audit.audit.some((e) => e.action === 'allow-add'));
  });

  it('a node that starts later enforces every active ban at once', async () => {
    assert.equal(cli(['ban', '198.51.100.0/24', '--for', '1h', '--reason', 'seen at the SBC', '--config', a.config]).status, 0);
    const c = node('c');
    writeFileSync(c.config, readFileSync(b.config, 'utf8').replace(/node: pbx-b/, 'node: pbx-c').replace(b.journal, c.journal).replace(b.log, c.log));
    writeFileSync(c.log, '');
    const late = startDaemon(c.config);
    daemons.push(late);
    const resync = await late.waitForLog(/fleet: enforced every active ban of the fleet/) as { msg: string; bans?: number };
    assert.equal(resync.bans, 2, 'the /24 and 203.0.113.89 (the first ban was lifted)');
    // The dry-run journal records a reconcile as a count: the kernel set now holds exactly the fleet's bans.
    assert.ok(dryRunJournal(c.journal).some((e) => e.op === 'reconcile' && (e as { count?: number }).count === 2));
    const listed = JSON.parse(cli(['list', '--json', '--config', c.config]).stdout) as { target: string }[];
    assert.deepEqual(listed.map((d) => d.target).sort(), ['198.51.100.0/24', '203.0.113.89']);
  });
});
