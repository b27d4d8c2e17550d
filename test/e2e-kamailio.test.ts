import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startKamailio, type RunningKamailio } from './e2e/kamailio.js';
import { eventually, runTool, type StartedTool } from './e2e/run.js';
import { optionsProbe, sippRegister, startSvcrack, svwar } from './e2e/sip.js';
import { banElement, hasTable, inBanSet, sipwardenCli, startSipwardenIn, type NamespacedDaemon } from './e2e/sipwarden.js';
import { createLab, labUnavailable, type Lab } from './e2e/topology.js';
import { tempDir } from './helpers.js';

/**
 * Issue 3, end to end: a real Kamailio in a network namespace, attacked by real tools from others (svwar and a
 * SIPp cracker from ATTACKER, svcrack from CRACKER), with the real sipwarden daemon following Kamailio's log and
 * banning through nftables in the PBX namespace.
 * The test asserts on the wire (is the attacker still answered?) and in the kernel (is it in the set?), not only
 * on sipwarden's own account of things.
 */

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/kamailio/', import.meta.url));
const SCENARIO = join(FIXTURES, 'register.xml');
const ACCOUNT = '1001';
const PASSWORD = 'secret1001';
const STALE_PASSWORD = 'secret-of-last-year';
const PHONE_UA = 'Yealink SIP-T46S 66.86.0.15';
// A cracker that changed its User-Agent: no scanner filter matches it, only the failures count.
const CRACKER_UA = 'Asterisk PBX';
// The bruteforce ban is short enough to watch it end inside the test and long enough to outlive the checks
// before; the scanner ban outlives the whole test, so the self-heal check (last) has a ban to restore.
const BRUTEFORCE_BAN_MS = 10_000;
const SCANNER_BAN_MS = 30_000;
// The daemon verifies its table every 5 s; the repair itself is a few nft calls.
const HEAL_MS = 5000;
const HEAL_SLACK_MS = 700;
// svcrack sends its first REGISTER at once and would then wait 10 s for an answer that never comes: it is killed
// as soon as its ban is seen, and never lives longer than this.
const SVCRACK_LIMIT_MS = 5000;

const skip = labUnavailable(['kamailio', 'svwar', 'svcrack', 'sipp']) ?? false;

describe('end to end: Kamailio attacked by sipvicious and SIPp, sipwarden bans through nftables', { skip }, () => {
  let lab: Lab | undefined;
  let kamailio: RunningKamailio | undefined;
  let daemon: NamespacedDaemon | undefined;
  let svcrack: StartedTool | undefined;
  const dir = tempDir('sw-e2e-kam-');
  const config = join(dir, 'sipwarden.yaml');
  const [scannerAddress, crackerAddress] = ['10.97.1.10', '10.97.1.11'] as const;
  const bannedUntil = new Map<string, number>();

  before(async () => {
    lab = createLab();
    kamailio = startKamailio(lab.pbx, join(FIXTURES, 'kamailio.cfg'), [lab.pbxForAttacker, lab.pbxForPhone, lab.pbxForCracker], dir);
    const { phone, phoneAddress, pbxForPhone } = lab;
    const running = kamailio;
    await eventually(() => optionsProbe(phone, phoneAddress, pbxForPhone, 300), 10_000, 'Kamailio answering OPTIONS').catch((error: Error) => {
      throw new Error(`${error.message}; Kamailio logged:\n${running.text()}`);
    });
    writeFileSync(config, [
      'node: pbx',
      'timezone: local',
      `store: { sqlite: ${join(dir, 'sipwarden.db')} }`,
      `sources: [{ id: kamailio, type: file, path: ${kamailio.log}, format: kamailio, startAt: start }]`,
      'allow: [127.0.0.0/8]',
      'rules:',
      `  bruteforce: { on: [auth-failure, unknown-account, acl-denied], key: ip, threshold: 5, window: 1m, ban: ${BRUTEFORCE_BAN_MS / 1000}s }`,
      `  scanner: { on: [scanner], key: ip, threshold: 1, window: 1m, ban: ${SCANNER_BAN_MS / 1000}s }`,
      'enforce: { backend: nftables, scope: all-ports }',
      '',
    ].join('\n'));
    daemon = startSipwardenIn(lab.pbx, config);
    await daemon.waitForLog(/source started/, 15_000);
    assert.ok(await hasTable(lab.pbx), 'sipwarden created its table in the PBX namespace');
  });

  after(async () => {
    await svcrack?.kill();
    await daemon?.stop();
    await kamailio?.stop();
    lab?.destroy();
  });

  const registerPhone = (passwords: readonly string[], localPort: number) =>
    sippRegister(lab!.phone, { from: lab!.phoneAddress, localPort, to: lab!.pbxForPhone, account: ACCOUNT, passwords, userAgent: PHONE_UA, scenario: SCENARIO, dir });
  const output = (r: { runs: { stdout: string; stderr: string }[] }) => r.runs.map((run) => `${run.stdout.slice(-600)}${run.stderr}`).join('\n');
  const probeFrom = (address: string) => {
    const { phone, phoneAddress, pbxForPhone, cracker, crackerAddress, pbxForCracker, attacker, pbxForAttacker } = lab!;
    if (address === phoneAddress) return optionsProbe(phone, address, pbxForPhone);
    if (address === crackerAddress) return optionsProbe(cracker, address, pbxForCracker);
    return optionsProbe(attacker, address, pbxForAttacker);
  };
  const why = (target: string) => sipwardenCli(['why', target], config, lab?.pbx);

  it('before any attack the phone registers and every attacker address is answered', async () => {
    const registered = await registerPhone([PASSWORD], 5062);
    assert.equal(registered.successful, 1, `phone REGISTER with digest auth got its 200:\n${output(registered)}`);
    assert.equal(await probeFrom(scannerAddress), 200);
    assert.equal(await probeFrom(crackerAddress), 200);
    // The CRACKER namespace's probe works too, so its silence later is the ban's doing.
    assert.equal(await probeFrom(lab!.crackerAddress), 200);
    // The successful digest makes (phone, 1001) a known-good pair; the stale-password check below relies on it.
    await eventually(async () => /Known-good: 1001/.test(await why(lab!.phoneAddress)), 5000, 'the phone as known-good for 1001');
  });

  it('svwar is banned by the scanner rule, the SIPp cracker by bruteforce, and the phone keeps registering', async () => {
    const wordlist = readFileSync(join(FIXTURES, 'wordlist.txt'), 'utf8').split('\n').filter((w) => w && !w.startsWith('#'));
    const [enumeration, cracking, duringAttack] = await Promise.all([
      svwar(lab!.attacker, { from: scannerAddress, to: lab!.pbxForAttacker, extensions: '100-130', dir }),
      sippRegister(lab!.attacker, { from: crackerAddress, localPort: 5070, to: lab!.pbxForAttacker, account: ACCOUNT, passwords: wordlist, userAgent: CRACKER_UA, scenario: SCENARIO, dir }),
      registerPhone([PASSWORD], 5064),
    ]);
    assert.equal(enumeration.timedOut, false, `svwar ended on its own:\n${enumeration.stderr}`);
    assert.equal(cracking.successful, 0, 'no password in the wordlist is right');
    assert.equal(duringAttack.successful, 1, `the phone registered during the attack:\n${output(duringAttack)}`);

    for (const [address, rule] of [[scannerAddress, 'scanner'], [crackerAddress, 'bruteforce']] as const) {
      const line = await daemon!.waitForLog(new RegExp(`banned ${address.replaceAll('.', '\\.')}:`), 5000);
      assert.equal(line['rule'], rule, `${address} banned by rule ${rule}`);
      bannedUntil.set(address, Date.parse(String(line['until'])));
      const element = await banElement(lab!.pbx, address);
      assert.ok(element, `${address} is in the kernel ban set`);
      // The kernel itself ends the ban, even if sipwarden is down by then.
      assert.match(element, /expires \d/, `${address} carries an in-kernel timeout`);
      assert.equal(await probeFrom(address), null, `${address} gets no answer once banned`);
      const story = await why(address);
      assert.match(story, new RegExp(`${address.replaceAll('.', '\\.')}: BANNED`));
      assert.match(story, new RegExp(`rule ${rule}`));
      // The probe above was dropped: the element's counter saw it, and why reports it.
      const dropped = /packets dropped by this ban: ([\d,]+) \(nftables\)/.exec(story);
      assert.ok(dropped && Number((dropped[1] as string).replaceAll(',', '')) >= 1, `why reports dropped packets:\n${story}`);
    }
    const afterAttack = await registerPhone([PASSWORD], 5066);
    assert.equal(afterAttack.successful, 1, `the phone registers after the attack:\n${output(afterAttack)}`);
  });

  it('svcrack from its own namespace is banned by the scanner rule at its first REGISTER; the phone still registers', async (t) => {
    const { cracker, crackerAddress: address, pbxForCracker, pbx } = lab!;
    const escaped = address.replaceAll('.', '\\.');
    const wordlist = join(dir, 'svcrack-wordlist.txt');
    writeFileSync(wordlist, readFileSync(join(FIXTURES, 'wordlist.txt'), 'utf8').split('\n').filter((w) => w && !w.startsWith('#')).join('\n') + '\n');
    const started = Date.now();
    const crack = startSvcrack(cracker, { account: ACCOUNT, wordlist, to: pbxForCracker, dir, timeoutMs: SVCRACK_LIMIT_MS });
    svcrack = crack;
    // Rule scanner, not bruteforce: svcrack's User-Agent is "friendly-scanner", so Kamailio's REQINIT logs
    // `sipwarden: scanner` and drops its very first REGISTER (sent without credentials) before route[AUTH].
    // No 401 ever comes back, so svcrack never sends a guess and no auth failure is ever logged for it.
    const line = await daemon!.waitForLog(new RegExp(`banned ${escaped}:`), SVCRACK_LIMIT_MS).catch(async (error: Error) => {
      await crack.kill();
      const ended = await crack.result;
      throw new Error(`${error.message}\nsvcrack (${crack.argv.join(' ')}) exited ${ended.code ?? ended.signal}:\n${ended.stdout}${ended.stderr}`);
    });
    const bannedMs = Date.now() - started;
    await crack.kill();
    const ended = await crack.result;
    // Killed by the test, not exited on its own nor by the deadline: it was still waiting for the answer to its
    // first REGISTER, which never came.
    assert.ok(ended.signal === 'SIGKILL' && !ended.timedOut, `the test ended svcrack by its pid while it waited; it had exited ${ended.code ?? ended.signal}:\n${ended.stdout}${ended.stderr}`);
    assert.doesNotMatch(`${ended.stdout}${ended.stderr}`, /found/i, 'svcrack cracked nothing');
    t.diagnostic(`svcrack (${crack.argv.join(' ')}) banned ${bannedMs} ms after its start, killed after ${ended.ms} ms`);

    assert.equal(line['rule'], 'scanner', `${address} banned by rule scanner: ${JSON.stringify(line)}`);
    // What Kamailio saw: svcrack's REGISTER, from the CRACKER's only address, with its scanner User-Agent.
    const seen = kamailio!.text().split('\n').filter((l) => l.includes(`sipwarden: scanner src=${address} `));
    assert.ok(seen.some((l) => /method=REGISTER ua=\[friendly-scanner\]/.test(l)), `Kamailio logged svcrack's REGISTER as a scanner:\n${seen.join('\n')}`);
    assert.equal(kamailio!.text().includes(`sipwarden: auth-failed src=${address} `), false, 'svcrack never reached digest auth');

    bannedUntil.set(address, Date.parse(String(line['until'])));
    const element = await banElement(pbx, address);
    assert.ok(element, `${address} is in the kernel ban set`);
    assert.match(element, /expires \d/, `${address} carries an in-kernel timeout`);
    assert.equal(await probeFrom(address), null, `${address} gets no answer once banned`);
    const story = await why(address);
    assert.match(story, new RegExp(`${escaped}: BANNED`));
    assert.match(story, /rule scanner/);
    const dropped = /packets dropped by this ban: ([\d,]+) \(nftables\)/.exec(story);
    assert.ok(dropped && Number((dropped[1] as string).replaceAll(',', '')) >= 1, `why reports dropped packets:\n${story}`);

    const phone = await registerPhone([PASSWORD], 5070);
    assert.equal(phone.successful, 1, `the phone registers while svcrack's address is banned:\n${output(phone)}`);
  });

  it('the phone with a stale password is reported as a misconfigured device, not banned', async () => {
    const stale = await registerPhone(Array.from({ length: 6 }, () => STALE_PASSWORD), 5068);
    assert.equal(stale.successful, 0, 'a stale password never registers');
    // Rejected by Kamailio (a new 401), not dropped: each SIPp run ends at once instead of waiting out its timeout.
    assert.ok(stale.runs.every((r) => r.ms < 1500), `every stale REGISTER was answered:\n${output(stale)}`);
    const phone = lab!.phoneAddress;
    await daemon!.waitForLog(new RegExp(`reported ${phone.replaceAll('.', '\\.')}: misconfigured device`), 5000);
    const story = await why(phone);
    assert.match(story, new RegExp(`${phone.replaceAll('.', '\\.')}: not banned`));
    assert.match(story, /Known-good: 1001/);
    assert.equal(await inBanSet(lab!.pbx, phone), false, 'the phone is not in the kernel ban set');
    assert.equal(await probeFrom(phone), 200, 'the phone is still answered');
    const fixed = await registerPhone([PASSWORD], 5072);
    assert.equal(fixed.successful, 1, 'with its password fixed, the phone registers again');
  });

  it('the kernel lifts the bruteforce ban when its time is up, not before', async (t) => {
    const until = bannedUntil.get(crackerAddress);
    assert.ok(until, 'the cracker was banned');
    assert.ok(await inBanSet(lab!.pbx, crackerAddress), 'the ban is still in force when this check starts');
    // Probing until the first answer: an answer well before `until` would be an early unban.
    const answeredAt = await eventually(async () => ((await probeFrom(crackerAddress)) === 200 ? Date.now() : undefined), Math.max(0, until - Date.now()) + 3000, 'the cracker answered again after its ban', 200);
    assert.ok(answeredAt >= until - 1000, `answered ${until - answeredAt} ms before the ban's end`);
    t.diagnostic(`answered again ${answeredAt - until} ms after the ban's end`);
    assert.equal(await inBanSet(lab!.pbx, crackerAddress), false, 'the element is gone from the set');
    assert.ok(await inBanSet(lab!.pbx, scannerAddress), 'the longer scanner ban is still in force');
  });

  it('after `nft flush ruleset` the daemon restores its table and the active bans within 5 s', async (t) => {
    const flushed = await runTool([...lab!.pbx.prefix, 'nft', 'flush', 'ruleset'], { timeoutMs: 5000 });
    assert.equal(flushed.code, 0, flushed.stderr);
    const started = Date.now();
    assert.equal(await hasTable(lab!.pbx), false, 'the flush removed the table');
    const repairs = () => daemon!.logs.filter((l) => /objects were missing; restored/.test(l.msg));
    const repairedBefore = repairs().length;
    const repair = await eventually(async () => repairs()[repairedBefore], HEAL_MS + HEAL_SLACK_MS, 'the daemon logging that it restored its table');
    assert.ok(Number(repair['bans']) >= 1, `the repair reconciled the active bans: ${JSON.stringify(repair)}`);
    const healedMs = Date.now() - started;
    assert.ok(await hasTable(lab!.pbx), 'the table is back');
    assert.ok(await inBanSet(lab!.pbx, scannerAddress), 'the active scanner ban is back in the set');
    assert.equal(await probeFrom(scannerAddress), null, 'the scanner is dropped again');
    assert.ok(healedMs <= HEAL_MS + HEAL_SLACK_MS, `healed in ${healedMs} ms`);
    t.diagnostic(`table and bans restored ${healedMs} ms after the flush`);
  });
});
