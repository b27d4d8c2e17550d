import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startKamailio, type RunningKamailio } from './e2e/kamailio.js';
import { eventually } from './e2e/run.js';
import { optionsProbe, sippRegister, svwar } from './e2e/sip.js';
import { banElement, hasTable, inBanSet, sipwardenCli, startSipwardenIn, type NamespacedDaemon } from './e2e/sipwarden.js';
import { createLab, labUnavailable, type Lab } from './e2e/topology.js';
import { tempDir } from './helpers.js';

/**
 * Issue 5, end to end: Kamailio reports to sipwarden through HEP alone. Its siptrace module mirrors every SIP
 * message it receives and sends (trace_mode 1) to sipwarden's HEP listeners; it writes no log line for
 * sipwarden, and sipwarden follows no log. Two Kamailios in the lab's PBX namespace cover both wire formats a
 * Kamailio sends: HEPv3 over TCP with an auth key (serving the ATTACKER and PHONE links) and the legacy HEPv2
 * over UDP (serving the CRACKER link). sipwarden bans through nftables in the same namespace.
 *
 * What it asserts, on the wire and in the kernel: svwar is banned by the scanner rule although Kamailio drops
 * its requests without a word; SIPp walking a wordlist is banned by bruteforce from the 401s Kamailio sends
 * back; the phone keeps registering; Kamailio's own addresses (the `servers` of both HEP sources, the sender
 * of every 401) are never banned.
 */

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/kamailio-hep/', import.meta.url));
// The REGISTER-with-digest scenario of the log-based end-to-end test: the phone and the cracker alike.
const SCENARIO = fileURLToPath(new URL('../../test/fixtures/kamailio/register.xml', import.meta.url));
const ACCOUNT = '1001';
const PASSWORD = 'secret1001';
// As many guesses as the bruteforce threshold: each is answered until the last one bans the cracker.
const WORDLIST = ['123456', '1001', 'password', '12345678', 'qwerty'];
const THRESHOLD = WORDLIST.length;
const PHONE_UA = 'Yealink SIP-T46S 66.86.0.15';
const CRACKER_UA = 'Asterisk PBX';
const HEP_KEY = 'e2e-hep-key-7f3a';
const HEP_TCP_PORT = 9060;
const HEP_UDP_PORT = 9062;

const skip = labUnavailable(['kamailio', 'svwar', 'sipp']) ?? false;

describe('end to end: Kamailio traces its SIP to sipwarden over HEP; sipwarden bans from the wire alone', { skip }, () => {
  let lab: Lab | undefined;
  let kamailioV3: RunningKamailio | undefined;
  let kamailioV2: RunningKamailio | undefined;
  let daemon: NamespacedDaemon | undefined;
  const dir = tempDir('sw-e2e-hep-');
  const config = join(dir, 'sipwarden.yaml');
  const [scannerAddress, crackerAddress] = ['10.97.1.10', '10.97.1.11'] as const;
  const started = Date.now();

  /** A Kamailio config that sets the HEP defines and includes the fixture, in its own directory. */
  const kamailioConfig = (name: string, defines: readonly string[]): { cfg: string; dir: string } => {
    const own = join(dir, name);
    mkdirSync(own);
    const cfg = join(own, 'kamailio.cfg');
    writeFileSync(cfg, ['#!KAMAILIO', ...defines.map((d) => `#!define ${d}`), `include_file "${join(FIXTURES, 'kamailio.cfg')}"`, ''].join('\n'));
    return { cfg, dir: own };
  };

  before(async () => {
    lab = createLab();
    const servers = `[${lab.pbxForAttacker}, ${lab.pbxForPhone}, ${lab.pbxForCracker}]`;
    writeFileSync(config, [
      'node: pbx',
      'timezone: local',
      `store: { sqlite: ${join(dir, 'sipwarden.db')} }`,
      // No log source: HEP is all sipwarden sees.
      'sources:',
      `  - { id: hep, type: hep, listen: "tcp://127.0.0.1:${HEP_TCP_PORT}", authKey: "${HEP_KEY}", servers: ${servers} }`,
      // HEPv1/v2 carry no key, so they get a listener of their own; a keyed one refuses them.
      `  - { id: hep-v2, type: hep, listen: "udp://127.0.0.1:${HEP_UDP_PORT}", servers: ${servers} }`,
      'allow: [127.0.0.0/8]',
      'rules:',
      `  bruteforce: { on: [auth-failure, unknown-account, acl-denied], key: ip, threshold: ${THRESHOLD}, window: 1m, ban: 1m }`,
      '  scanner: { on: [scanner], key: ip, threshold: 1, window: 1m, ban: 1m }',
      'enforce: { backend: nftables, scope: all-ports }',
      '',
    ].join('\n'));
    daemon = startSipwardenIn(lab.pbx, config);
    await daemon.waitForLog(/source started/, 15_000);
    assert.ok(await hasTable(lab.pbx), 'sipwarden created its table in the PBX namespace');

    const v3 = kamailioConfig('kamailio-v3', [
      'HEP_VERSION 3', `HEP_COLLECTOR "sip:127.0.0.1:${HEP_TCP_PORT};transport=tcp"`, `HEP_AUTH_KEY "${HEP_KEY}"`, 'HEP_OVER_TCP',
    ]);
    const v2 = kamailioConfig('kamailio-v2', ['HEP_VERSION 2', `HEP_COLLECTOR "sip:127.0.0.1:${HEP_UDP_PORT}"`]);
    kamailioV3 = startKamailio(lab.pbx, v3.cfg, [lab.pbxForAttacker, lab.pbxForPhone], v3.dir);
    kamailioV2 = startKamailio(lab.pbx, v2.cfg, [lab.pbxForCracker], v2.dir);
    for (const [kamailio, ns, from, to] of [
      [kamailioV3, lab.phone, lab.phoneAddress, lab.pbxForPhone],
      [kamailioV2, lab.cracker, lab.crackerAddress, lab.pbxForCracker],
    ] as const) {
      await eventually(() => optionsProbe(ns, from, to, 300), 10_000, `Kamailio answering OPTIONS on ${to}`).catch((error: Error) => {
        throw new Error(`${error.message}; Kamailio logged:\n${kamailio.text()}`);
      });
    }
  });

  after(async () => {
    await daemon?.stop();
    await kamailioV3?.stop();
    await kamailioV2?.stop();
    lab?.destroy();
  });

  const register = (ns: Lab['phone'], from: string, to: string, passwords: readonly string[], localPort: number, userAgent: string) =>
    sippRegister(ns, { from, localPort, to, account: ACCOUNT, passwords, userAgent, scenario: SCENARIO, dir });
  const registerPhone = (localPort: number) => register(lab!.phone, lab!.phoneAddress, lab!.pbxForPhone, [PASSWORD], localPort, PHONE_UA);
  const output = (r: { runs: { stdout: string; stderr: string }[] }) => r.runs.map((run) => `${run.stdout.slice(-600)}${run.stderr}`).join('\n');
  const probeFrom = (address: string) => {
    const { phone, phoneAddress, pbxForPhone, cracker, pbxForCracker, attacker, pbxForAttacker } = lab!;
    if (address === phoneAddress) return optionsProbe(phone, address, pbxForPhone);
    if (address === lab!.crackerAddress) return optionsProbe(cracker, address, pbxForCracker);
    return optionsProbe(attacker, address, pbxForAttacker);
  };
  const why = (target: string) => sipwardenCli(['why', target], config, lab?.pbx);

  /**
   * The ban of `address`: by `rule`, in the kernel set with a timeout, the address no longer answered, and
   * `why` showing events from the HEP source `sensor` with the evidence class the wire gave them.
   */
  const assertBanned = async (address: string, rule: string, sensor: string, evidence: 'verified' | 'spoofable'): Promise<void> => {
    const escaped = address.replaceAll('.', '\\.');
    const line = await daemon!.waitForLog(new RegExp(`banned ${escaped}:`), 5000);
    assert.equal(line['rule'], rule, `${address} banned by rule ${rule}: ${JSON.stringify(line)}`);
    const element = await banElement(lab!.pbx, address);
    assert.ok(element, `${address} is in the kernel ban set`);
    assert.match(element, /expires \d/, `${address} carries an in-kernel timeout`);
    assert.equal(await probeFrom(address), null, `${address} gets no answer once banned`);
    const story = await why(address);
    assert.match(story, new RegExp(`${escaped}: BANNED`));
    assert.match(story, new RegExp(`rule ${rule}`));
    assert.ok(story.includes(`[${evidence}, ${sensor}]`), `events from ${sensor} with ${evidence} evidence:\n${story}`);
    if (rule === 'bruteforce') {
      // One auth failure per wrong password, read from Kamailio's 401s, and nothing else counted.
      assert.match(story, new RegExp(`Events stored: ${THRESHOLD} \\(auth-failure ${THRESHOLD}\\)`), story);
    }
  };

  it('the phone registers, and the 200 that Kamailio traced over HEPv3/TCP makes it known-good', async () => {
    const registered = await registerPhone(5062);
    assert.equal(registered.successful, 1, `phone REGISTER with digest auth got its 200:\n${output(registered)}`);
    for (const address of [scannerAddress, crackerAddress, lab!.crackerAddress]) assert.equal(await probeFrom(address), 200, `${address} answered before any attack`);
    // Proves the whole path before any attack: Kamailio -> HEPv3 over TCP with the key -> wire detectors -> store.
    await eventually(async () => /Known-good: 1001/.test(await why(lab!.phoneAddress)), 5000, 'the phone as known-good for 1001');
  });

  it('svwar is banned by scanner and the SIPp cracker by bruteforce, from HEPv3 alone; the phone keeps registering', async () => {
    const [enumeration, cracking, duringAttack] = await Promise.all([
      svwar(lab!.attacker, { from: scannerAddress, to: lab!.pbxForAttacker, extensions: '100-130', dir }),
      register(lab!.attacker, crackerAddress, lab!.pbxForAttacker, WORDLIST, 5070, CRACKER_UA),
      registerPhone(5064),
    ]);
    assert.equal(enumeration.timedOut, false, `svwar ended on its own:\n${enumeration.stderr}`);
    assert.equal(cracking.successful, 0, 'no password in the wordlist is right');
    assert.ok(cracking.runs.every((r) => r.ms < 1500), `Kamailio answered every guess (a new 401), none was dropped before the last:\n${output(cracking)}`);
    assert.equal(duringAttack.successful, 1, `the phone registered during the attack:\n${output(duringAttack)}`);
    // svwar's requests are single UDP datagrams: spoofable. The cracker answered Kamailio's nonce: verified.
    await assertBanned(scannerAddress, 'scanner', 'pbx/hep', 'spoofable');
    await assertBanned(crackerAddress, 'bruteforce', 'pbx/hep', 'verified');
    const afterAttack = await registerPhone(5066);
    assert.equal(afterAttack.successful, 1, `the phone registers after the attack:\n${output(afterAttack)}`);
  });

  it('a SIPp cracker against the Kamailio that sends HEPv2 over UDP is banned by bruteforce', async () => {
    const { cracker, crackerAddress: address, pbxForCracker } = lab!;
    const cracking = await register(cracker, address, pbxForCracker, WORDLIST, 5070, CRACKER_UA);
    assert.equal(cracking.successful, 0);
    assert.ok(cracking.runs.every((r) => r.ms < 1500), `Kamailio answered every guess:\n${output(cracking)}`);
    await assertBanned(address, 'bruteforce', 'pbx/hep-v2', 'verified');
  });

  it('Kamailio\'s own addresses are never banned: the attackers are the only bans', async (t) => {
    const bans = JSON.parse(await sipwardenCli(['list', '--json'], config, lab!.pbx)) as { target: string; rule?: string }[];
    assert.deepEqual(
      bans.map((b) => `${b.target} ${b.rule}`).sort(),
      [`${scannerAddress} scanner`, `${crackerAddress} bruteforce`, `${lab!.crackerAddress} bruteforce`].sort(),
    );
    for (const server of [lab!.pbxForAttacker, lab!.pbxForPhone, lab!.pbxForCracker]) {
      assert.equal(await inBanSet(lab!.pbx, server), false, `${server} (Kamailio) is not in the ban set`);
      assert.equal(daemon!.logs.some((l) => l.msg.includes(`${server}:`) && /banned|reported/.test(l.msg)), false, `no decision about ${server}`);
    }
    // Every frame decoded: the key matched, and nothing Kamailio sent was dropped as malformed.
    assert.deepEqual(daemon!.logs.filter((l) => /HEP frame/.test(l.msg)).map((l) => l.msg), []);
    assert.equal(await probeFrom(lab!.phoneAddress), 200, 'the phone is still answered');
    t.diagnostic(`whole test: ${Date.now() - started} ms`);
  });
});
