import assert from 'node:assert/strict';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfigText } from '../src/config/load.js';
import { isSipwardenError } from '../src/core/errors.js';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../src/store/testing/postgres-server.js';
import { cli, startDaemon, tempDir, waitFor, type RunningDaemon } from './helpers.js';

const pad = (n: number): string => String(n).padStart(2, '0');
function stamp(d = new Date()): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const wrongPassword = (ip: string): string =>
  `[${stamp()}] NOTICE[1638] chan_sip.c: Registration from '<sip:1001@192.0.2.10>' failed for '${ip}:5060' - Wrong password\n`;

describe('config: store.postgres', () => {
  const secret = 'Pa55-w0rd-secret';

  it('takes a postgres URL with the password from the environment; sqlite keeps its default for one-node readers', () => {
    const config = parseConfigText('store: { postgres: "postgres://sw:${PG_PASSWORD}@db1:5432/fleet" }', 'c.yaml', { PG_PASSWORD: secret });
    assert.equal(config.store.postgres, `postgres://sw:${secret}@db1:5432/fleet`);
    assert.equal(config.store.sqlite, '/var/lib/sipwarden/sipwarden.db');
    assert.equal(parseConfigText('{}', 'c.yaml').store.postgres, undefined);
  });

  it('refuses both stores at once, and a URL that is not postgres://, without showing the URL', () => {
    const both = `store: { sqlite: /tmp/x.db, postgres: "postgres://sw:${secret}@db1/fleet" }`;
    assert.throws(() => parseConfigText(both, 'c.yaml'), (e) =>
      isSipwardenError(e, 'SW_ERR_CONFIG') && /store\.postgres: .*store\.sqlite or store\.postgres, not both/.test(e.message) && !e.message.includes(secret));
    assert.throws(() => parseConfigText(`store: { postgres: "mysql://sw:${secret}@db1/fleet" }`, 'c.yaml'), (e) =>
      isSipwardenError(e, 'SW_ERR_CONFIG') && /store\.postgres: .*expected a URL such as postgres:\/\//.test(e.message) && !e.message.includes(secret));
  });
});

const skip = postgresSkipReason();

describe('daemon on PostgreSQL: log file -> ban in the store -> CLI', { skip }, () => {
  let server: PostgresServer;
  let daemon: RunningDaemon | undefined;
  const dir = tempDir('sw-pg-daemon-');
  const log = join(dir, 'messages');
  const config = join(dir, 'sipwarden.yaml');
  const wrongConfig = join(dir, 'wrong.yaml');
  let database = '';

  before(async () => {
    server = await startPostgres();
    const url = new URL(await server.createDatabase());
    database = url.pathname.slice(1);
    // The daemon and the CLI read the password from the environment, as an operator's unit file would set it.
    process.env.PG_PASSWORD = server.password;
    const store = (password: string) => `store: { postgres: "postgres://postgres:${password}@127.0.0.1:${server.port}/${database}" }`;
    const common = [
      'node: pg-e2e', 'timezone: local', `sources: [{ id: ast, type: file, path: ${log}, format: asterisk, startAt: start }]`,
      'allow: [127.0.0.0/8, "::1"]', 'enforce: { backend: dry-run }', '',
    ];
    writeFileSync(log, `[${stamp()}] VERBOSE[1] asterisk.c: Asterisk Ready.\n`);
    writeFileSync(config, [store('${PG_PASSWORD}'), ...common].join('\n'));
    writeFileSync(wrongConfig, [store('not-the-Secret-42'), ...common].join('\n'));
  });
  after(async () => {
    await daemon?.stop();
    await server?.stop();
    delete process.env.PG_PASSWORD;
    rmSync(dir, { recursive: true, force: true });
  });

  it('doctor opens the store, and names a refused login without the password', () => {
    const ok = cli(['doctor', '--config', config]);
    assert.match(ok.stdout, new RegExp(`ok\\s+store postgres://postgres@127\\.0\\.0\\.1:${server.port}/${database} opens \\(0 active bans\\)`));
    const wrong = cli(['doctor', '--config', wrongConfig]);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /FAIL\s+store postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+: SW_ERR_STORE: cannot connect to PostgreSQL .*password authentication failed/);
    assert.match(wrong.stdout, /fix: check store\.postgres/);
    assert.ok(!`${wrong.stdout}${wrong.stderr}`.includes('not-the-Secret-42'));
    assert.ok(!`${ok.stdout}${ok.stderr}${wrong.stdout}`.includes(server.password));
  });

  it('bans a brute-forcing address into PostgreSQL; list and why read it back', async () => {
    daemon = startDaemon(config);
    await daemon.waitForLog(/source started/);
    for (let i = 0; i < 5; i++) appendFileSync(log, wrongPassword('203.0.113.50'));
    await daemon.waitForLog(/banned 203\.0\.113\.50/);
    const rows = await server.query<{ rule: string; sensor: string }>("SELECT rule, sensor FROM decisions WHERE target = '203.0.113.50'", [], database);
    assert.equal(rows[0]?.rule, 'bruteforce');
    // The daemon writes events in batches of its own, so they may land just after the ban.
    for (let tries = 0; ; tries++) {
      const events = await server.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE ip_net = '203.0.113.50'", [], database);
      if (events[0]?.n === 5) break;
      assert.ok(tries < 200, `5 events stored, not ${events[0]?.n}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    const listed = JSON.parse(cli(['list', '--json', '--config', config]).stdout) as { target: string; rule?: string }[];
    assert.deepEqual(listed.map((d) => [d.target, d.rule]), [['203.0.113.50', 'bruteforce']]);
    const why = cli(['why', '203.0.113.50', '--config', config]).stdout;
    assert.match(why, /203\.0\.113\.50: BANNED/);
    assert.match(why, /rule bruteforce/);
    assert.match(why, /auth-failure 5/);
  });

  it('an unban through the CLI is written to PostgreSQL and lifted by the daemon', async () => {
    const unban = cli(['unban', '203.0.113.50', '--reason', 'customer', '--config', config]);
    assert.equal(unban.status, 0, unban.stderr);
    const revoked = await server.query<{ revoked_by: string }>("SELECT revoked_by FROM decisions WHERE target = '203.0.113.50'", [], database);
    assert.ok(revoked[0]?.revoked_by);
    await daemon!.waitForLog(/unbanned 203\.0\.113\.50|lifted 203\.0\.113\.50|revoked .*203\.0\.113\.50/);
    await waitFor(() => JSON.parse(cli(['list', '--json', '--config', config]).stdout).length === 0, 5000, 'empty list');
  });
});
