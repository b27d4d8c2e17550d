import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cdrLine, cli, type RunningDaemon, startDaemon, tempDir, utcStamp } from './helpers.js';

/**
 * The toll-fraud detector in the real daemon: Asterisk CDRs appended to Master.csv become call events, the
 * detector files its findings into an incident, the daemon logs it, stores it, and `why <account>` shows it.
 */

describe('toll fraud in the daemon: CDRs -> incident -> store -> why', () => {
  const dir = tempDir('sw-fraud-');
  const csv = join(dir, 'Master.csv');
  const config = join(dir, 'sipwarden.yaml');
  writeFileSync(csv, '');
  writeFileSync(config, [
    'node: pbx',
    'timezone: UTC',
    `store: { sqlite: ${join(dir, 'sw.db')} }`,
    `sources: [{ id: cdr, type: file, path: ${csv}, format: asterisk-cdr, startAt: start }]`,
    'fraud: { homeCountry: GB, allowedCountries: [IE] }',
    'enforce: { backend: dry-run }',
    '',
  ].join('\n'));
  let daemon: RunningDaemon | undefined;
  after(async () => {
    await daemon?.stop();
  });

  it('a domestic call is nothing; a long call to a satellite number opens a critical incident', async () => {
    daemon = startDaemon(config);
    await daemon.waitForLog(/source started/);
    appendFileSync(csv, cdrLine('1001', '02079460000', 120, '1795230600.1'));
    appendFileSync(csv, cdrLine('1002', '00882161234567', 10_000, '1795230600.2'));
    await daemon.waitForLog(/toll-fraud incident opened/);
    const lines = daemon.logs.filter((l) => String(l.msg).startsWith('toll-fraud'));
    assert.ok(lines.every((l) => (l as { account?: string }).account === '1002'), `only the satellite call is news: ${JSON.stringify(lines)}`);
    assert.ok(lines.some((l) => l.level >= 50 || String(l.msg).includes('critical')), 'a T4 destination is critical at once');
  });

  it('why <account> shows the incident, its rules and the recent calls', async () => {
    // Incidents are saved every 2 s.
    let out = '';
    for (let i = 0; i < 40 && !out.includes('CRITICAL'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      out = cli(['why', '1002', '--config', config]).stdout;
    }
    assert.match(out, /Toll-fraud incidents \(latest first\):\n {2}fraud-1002-\w+ {2}CRITICAL/);
    assert.match(out, /B {3}critical a call to \+882161234567: non-geographic/);
    assert.match(out, /A5 {2}critical a T4 call lasted 9995 s/);
    assert.match(out, /1 calls, 1 answered, 166\.6 min, about 499\.75 EUR/, 'one call, counted once (seen only as a CDR), priced at the T4 rate');
    assert.match(out, /Recent calls \(newest first\):\n.*call-end {3}to 00882161234567 answered 9995s/);
    const domestic = cli(['why', '1001', '--config', config]).stdout;
    assert.match(domestic, /Toll-fraud incidents: none\./);
  });
});

describe('toll fraud in the daemon, enforce mode: a stolen account\'s new source is banned, its usual one is not', () => {
  const dir = tempDir('sw-fraud-ban-');
  const csv = join(dir, 'Master.csv');
  const security = join(dir, 'security');
  const config = join(dir, 'sipwarden.yaml');
  writeFileSync(csv, '');
  writeFileSync(security, '');
  writeFileSync(config, [
    'node: pbx',
    'timezone: UTC',
    `store: { sqlite: ${join(dir, 'sw.db')} }`,
    'sources:',
    `  - { id: cdr, type: file, path: ${csv}, format: asterisk-cdr, startAt: start }`,
    `  - { id: sec, type: file, path: ${security}, format: asterisk-security, startAt: start }`,
    'fraud: { homeCountry: GB, actions: { mode: enforce, ban: 12h } }',
    'enforce: { backend: dry-run }',
    '',
  ].join('\n'));
  let daemon: RunningDaemon | undefined;
  after(async () => {
    await daemon?.stop();
  });
  const registered = (account: string, ip: string, at: Date): string =>
    `[${utcStamp(at)}] SECURITY[2345] res_security_log.c: SecurityEvent="SuccessfulAuth",EventTV="${at.toISOString().replace('Z', '+0000')}",Severity="Informational",Service="PJSIP",EventVersion="1",AccountID="${account}",SessionID="s${at.getTime()}",LocalAddress="IPV4/UDP/203.0.113.10/5060",RemoteAddress="IPV4/UDP/${ip}/5062",UsingPassword="1"\n`;

  it('registration from a new address, then a risky call: the new address is banned by rule fraud', async () => {
    daemon = startDaemon(config);
    await daemon.waitForLog(/source started/);
    appendFileSync(security, registered('1005', '81.2.69.160', new Date(Date.now() - 86_400_000)));
    appendFileSync(security, registered('1005', '198.51.100.66', new Date(Date.now() - 120_000)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    appendFileSync(csv, cdrLine('1005', '0037167000123', 30, '1795230600.5'));
    await daemon.waitForLog(/banned 198\.51\.100\.66/);
    const list = JSON.parse(cli(['list', '--json', '--config', config]).stdout) as { target: string; rule?: string }[];
    assert.deepEqual(list.map((d) => [d.target, d.rule]), [['198.51.100.66', 'fraud']], 'the usual address 81.2.69.160 is not banned');
    let why = '';
    for (let i = 0; i < 40 && !why.includes('action ban'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 250)); // incidents are saved every 2 s
      why = cli(['why', '1005', '--config', config]).stdout;
    }
    assert.match(why, /action ban 198\.51\.100\.66; undo: sipwarden unban 198\.51\.100\.66/);
  });
});
