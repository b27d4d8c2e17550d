import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli, startDaemon, tempDir, waitFor, type RunningDaemon } from './helpers.js';

const pad = (n: number): string => String(n).padStart(2, '0');
function stamp(d = new Date()): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const wrongPassword = (ip: string, user = '1001'): string =>
  `[${stamp()}] NOTICE[1638] chan_sip.c: Registration from '<sip:${user}@192.0.2.10>' failed for '${ip}:5060' - Wrong password\n`;

describe('daemon end to end: log file -> decision -> store -> CLI', () => {
  const dir = tempDir('sw-e2e-');
  const log = join(dir, 'messages');
  const journal = join(dir, 'enforcer.ndjson');
  const config = join(dir, 'sipwarden.yaml');
  writeFileSync(log, `[${stamp()}] VERBOSE[1] asterisk.c: Asterisk Ready.\n`);
  writeFileSync(config, [
    'node: e2e',
    'timezone: local',
    `store: { sqlite: ${join(dir, 'sw.db')} }`,
    `sources: [{ id: ast, type: file, path: ${log}, format: asterisk, startAt: start }]`,
    'allow: [127.0.0.0/8, "::1", 10.0.0.0/8]',
    `enforce: { backend: dry-run, journal: ${journal} }`,
    '',
  ].join('\n'));
  let daemon: RunningDaemon | undefined;
  after(async () => {
    await daemon?.stop();
  });
  const listJson = (): { target: string; rule?: string; origin: string }[] => JSON.parse(cli(['list', '--json', '--config', config]).stdout);

  it('bans a brute-forcing address within the rule threshold, and journals it', async () => {
    daemon = startDaemon(config);
    await daemon.waitForLog(/source started/);
    for (let i = 0; i < 5; i++) appendFileSync(log, wrongPassword('203.0.113.50'));
    await daemon.waitForLog(/banned 203\.0\.113\.50/);
    const bans = await waitFor(() => listJson().find((b) => b.target === '203.0.113.50'), 5000, 'ban in list');
    assert.equal(bans.rule, 'bruteforce');
    const entries = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { op: string; target?: string });
    assert.ok(entries.some((e) => e.op === 'ban' && e.target === '203.0.113.50'));
  });

  it('never bans an allowlisted address or the address injected into a To header', async () => {
    for (let i = 0; i < 6; i++) appendFileSync(log, wrongPassword('10.1.2.3'));
    const injected = `[${stamp()}] NOTICE[1] chan_sip.c: Registration from '<sip:x@192.0.2.10>' failed for '198.51.100.66:5060' - Wrong password' failed for '203.0.113.77:5060' - Wrong password\n`;
    for (let i = 0; i < 6; i++) appendFileSync(log, injected);
    await daemon!.waitForLog(/reported 10\.1\.2\.3/);
    await new Promise((r) => setTimeout(r, 500));
    const targets = listJson().map((b) => b.target);
    assert.ok(!targets.includes('10.1.2.3'));
    assert.ok(!targets.includes('198.51.100.66'));
    assert.ok(!targets.includes('203.0.113.77'));
  });

  it('why tells the story: rule, policy path, events, expiry, undo command', () => {
    const out = cli(['why', '203.0.113.50', '--config', config]).stdout;
    assert.match(out, /203\.0\.113\.50: BANNED/);
    assert.match(out, /rule bruteforce/);
    assert.match(out, /pass  allowlist/);
    assert.match(out, /escalation level 0/);
    assert.match(out, /auth-failure 5/);
    assert.match(out, /Undo: sipwarden unban 203\.0\.113\.50/);
    const allowed = cli(['why', '10.1.2.3', '--config', config]).stdout;
    assert.match(allowed, /not banned/);
    assert.match(allowed, /BLOCK allowlist/);
    assert.match(allowed, /Allowlisted: yes \(10\.0\.0\.0\/8\)/);
  });

  it('why says how close an address is to a ban', async () => {
    appendFileSync(log, wrongPassword('198.51.100.9'));
    appendFileSync(log, wrongPassword('198.51.100.9'));
    const out = await waitFor(() => {
      const text = cli(['why', '198.51.100.9', '--config', config]).stdout;
      return /bruteforce\s+2\/5/.test(text) ? text : undefined;
    }, 5000, 'progress in why');
    assert.match(out, /3 more to a 1h ban/);
  });

  it('why does not count failures of a known-good pair toward a ban', async () => {
    appendFileSync(log, `[${stamp()}] VERBOSE[2] chan_sip.c: Registered SIP '1001' at 198.51.100.30:5060\n`);
    for (let i = 0; i < 3; i++) appendFileSync(log, wrongPassword('198.51.100.30'));
    const out = await waitFor(() => {
      const text = cli(['why', '198.51.100.30', '--config', config]).stdout;
      return /auth-failure 3/.test(text) ? text : undefined;
    }, 5000, 'stored failures');
    assert.match(out, /Known-good: 1001/);
    assert.match(out, /bruteforce\s+0\/5/);
  });

  it('manual ban and unban from the CLI are audited and picked up by the daemon', async () => {
    const ban = cli(['ban', '192.0.2.99', '--for', '1h', '--reason', 'seen on the SBC', '--actor', 'alice', '--config', config]);
    assert.equal(ban.status, 0, ban.stderr);
    await daemon!.waitForLog(/banned 192\.0\.2\.99 \(manual\)/);
    const unban = cli(['unban', '203.0.113.50', '--reason', 'customer verified', '--actor', 'bob', '--config', config]);
    assert.equal(unban.status, 0, unban.stderr);
    await daemon!.waitForLog(/unbanned 203\.0\.113\.50/);
    const targets = listJson().map((b) => b.target);
    assert.deepEqual(targets, ['192.0.2.99']);
    const why = cli(['why', '203.0.113.50', '--config', config]).stdout;
    assert.match(why, /revoked .* by bob: customer verified/);
    assert.match(why, /bob unban 203\.0\.113\.50: customer verified/);
    // The same story as data (what the API's explain returns): the revoke and its audit record on the timeline.
    const story = JSON.parse(cli(['why', '203.0.113.50', '--json', '--config', config]).stdout) as { banned: boolean; timeline: { type: string; title: string }[] };
    assert.equal(story.banned, false);
    assert.ok(story.timeline.some((t) => t.type === 'revoke' && /lifted by bob/.test(t.title)));
    assert.ok(story.timeline.some((t) => t.type === 'audit' && /bob unban/.test(t.title)));
    assert.match(cli(['why', '192.0.2.99', '--config', config]).stdout, /manual ban by alice/);
    const missing = cli(['unban', '192.0.2.250', '--reason', 'x', '--config', config]);
    assert.equal(missing.status, 1);
    assert.equal(cli(['ban', '192.0.2.300', '--reason', 'x', '--config', config]).status, 2);
  });

  it('after a restart it resumes where it stopped: no line lost, none counted twice', async () => {
    appendFileSync(log, wrongPassword('198.51.100.20'));
    appendFileSync(log, wrongPassword('198.51.100.20'));
    await waitFor(() => /auth-failure 2/.test(cli(['why', '198.51.100.20', '--config', config]).stdout), 5000, 'stored event');
    assert.equal(await daemon!.stop(), 0);
    for (let i = 0; i < 2; i++) appendFileSync(log, wrongPassword('198.51.100.20'));
    daemon = startDaemon(config);
    await daemon.waitForLog(/source started/);
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(!listJson().some((b) => b.target === '198.51.100.20'), '4 failures do not ban; 6 would mean lines read twice');
    appendFileSync(log, wrongPassword('198.51.100.20'));
    await daemon.waitForLog(/banned 198\.51\.100\.20/);
    assert.ok(!daemon.logs.some((l) => /banned 203\.0\.113\.50/.test(l.msg)), 'the old burst was not replayed');
  });
});
