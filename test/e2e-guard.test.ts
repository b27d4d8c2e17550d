import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canCreateNetns, createNetns, type Netns } from '../src/enforcers/testing/netns.js';
import { sendUdp } from '../src/enforcers/nftables/testing.js';
import { eventually, runTool } from './e2e/run.js';
import { sipwardenCli, startSipwardenIn, type NamespacedDaemon } from './e2e/sipwarden.js';
import { cli, tempDir } from './helpers.js';

/**
 * The kernel flood guard end to end: the real daemon runs inside a PBX network namespace with the guard enabled,
 * a FLOODER namespace (joined by a veth pair) sends a UDP REGISTER burst, and the test checks the kernel (the
 * guard set, packet counters), the daemon's log, and what `list`, `why` and `stop` say and do.
 *
 *   FLOODER 10.96.7.2 (flooder), 10.96.7.3 (allowlisted) ──veth── 10.96.7.1 PBX (sipwarden, table inet other)
 *
 * Addresses and the veth pair exist only inside the two namespaces, which are deleted afterwards.
 */

const PBX = '10.96.7.1';
const FLOODER = '10.96.7.2';
const FRIEND = '10.96.7.3';
const RATE = 20;
const BURST = 20;
const BAN_S = 30;
const FLOOD = 300;
const REGISTER = 'REGISTER sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 10.96.7.2:5060\r\n\r\n';
const OPTIONS = 'OPTIONS sip:pbx SIP/2.0\r\n\r\n';
// A table of another tool, in the PBX namespace: its input-hook counters show what got past sipwarden's
// prerouting chain (kernel counts, not a receiver's socket buffer), and `sipwarden stop` must leave it alone.
const OTHER_TABLE = [
  'table inet other {',
  '\tset keep { type ipv4_addr; elements = { 192.0.2.7 } }',
  '\tchain count {',
  '\t\ttype filter hook input priority filter; policy accept;',
  `\t\tip saddr ${FLOODER} udp dport 5060 counter`,
  `\t\tip saddr ${FRIEND} udp dport 5060 counter`,
  '\t}',
  '}',
  '',
].join('\n');

const skip = canCreateNetns() ? false : 'needs root and network namespaces (ip netns)';

async function nft(ns: Netns, args: readonly string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (input === undefined) return runTool([...ns.prefix, 'nft', ...args], { timeoutMs: 5000 });
  // runTool has no stdin: feed the ruleset through a file.
  const file = join(dir, `nft-${Math.random().toString(36).slice(2)}.nft`);
  writeFileSync(file, input);
  return runTool([...ns.prefix, 'nft', ...args, file], { timeoutMs: 5000 });
}

/** Packets from `source` to UDP 5060 that reached the input hook, i.e. got past sipwarden's prerouting chain. */
async function delivered(ns: Netns, source: string): Promise<number> {
  const r = await nft(ns, ['list', 'chain', 'inet', 'other', 'count']);
  assert.equal(r.code, 0, r.stderr);
  const m = new RegExp(`ip saddr ${source.replace(/\./g, '\\.')} udp dport 5060 counter packets (\\d+)`).exec(r.stdout);
  assert.ok(m, `counter for ${source} in:\n${r.stdout}`);
  return Number(m[1]);
}

/** The guard set element for `address` (nft's text, with its counter and expiry), or null when absent. */
async function guardElement(ns: Netns, address: string, set = 'guard4'): Promise<string | null> {
  const r = await nft(ns, ['get', 'element', 'inet', 'sipwarden', set, `{ ${address} }`]);
  return r.code === 0 ? r.stdout : null;
}

const elementPackets = (text: string): number => Number(/counter packets (\d+)/.exec(text)?.[1] ?? NaN);

async function tables(ns: Netns): Promise<string[]> {
  const r = await nft(ns, ['list', 'tables']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

const dir = tempDir('sw-e2e-guard-');

describe('end to end: the kernel flood guard bans a REGISTER flood, the daemon records it, stop removes only sipwarden', { skip }, () => {
  const config = join(dir, 'sipwarden.yaml');
  let pbx: Netns | undefined;
  let flooder: Netns | undefined;
  let daemon: NamespacedDaemon | undefined;
  /** Durations (ms) and packet counts, printed at the end. */
  const timings: Record<string, number> = {};
  const started = Date.now();

  before(async () => {
    pbx = createNetns('sw-gpbx');
    flooder = createNetns('sw-gfld');
    // Created inside PBX with the peer end moved at once: no interface ever exists in the host namespace.
    pbx.exec(['ip', 'link', 'add', 'to-flooder', 'type', 'veth', 'peer', 'name', 'to-pbx', 'netns', flooder.name]);
    pbx.exec(['ip', 'addr', 'add', `${PBX}/24`, 'dev', 'to-flooder']);
    pbx.exec(['ip', 'link', 'set', 'to-flooder', 'up']);
    flooder.exec(['ip', 'addr', 'add', `${FLOODER}/24`, 'dev', 'to-pbx']);
    flooder.exec(['ip', 'addr', 'add', `${FRIEND}/24`, 'dev', 'to-pbx']);
    flooder.exec(['ip', 'link', 'set', 'to-pbx', 'up']);
    const loaded = await nft(pbx, ['-f'], OTHER_TABLE);
    assert.equal(loaded.code, 0, loaded.stderr);

    const log = join(dir, 'pbx.log');
    writeFileSync(log, '');
    writeFileSync(config, [
      'node: pbx',
      'timezone: UTC',
      `store: { sqlite: ${join(dir, 'sipwarden.db')} }`,
      `sources: [{ id: pbx, type: file, path: ${log}, format: asterisk, startAt: start }]`,
      `allow: [127.0.0.0/8, "::1", ${FRIEND}]`,
      `enforce: { backend: nftables, guard: { enabled: true, methods: [REGISTER, INVITE], rate: ${RATE}, burst: ${BURST}, ban: ${BAN_S}s } }`,
      '',
    ].join('\n'));
    const t0 = Date.now();
    daemon = startSipwardenIn(pbx, config);
    await daemon.waitForLog(/source started/, 15_000);
    timings.daemonStartMs = Date.now() - t0;
  });

  after(async () => {
    if (daemon) {
      await daemon.stop();
      try {
        process.kill(daemon.pid, 'SIGKILL'); // by pid, in case SIGTERM left it running
      } catch {
        // Already gone.
      }
    }
    pbx?.destroy();
    flooder?.destroy();
    timings.totalMs = Date.now() - started;
    console.log(`# e2e-guard timings: ${JSON.stringify(timings)}`);
  });

  it('`sipwarden guard` prints the configured methods and rate as an nft ruleset that nft accepts', async () => {
    const r = cli(['guard', '--config', config]);
    assert.equal(r.status, 0, r.stderr);
    const text = r.stdout;
    assert.match(text, /of REGISTER, INVITE on UDP 5060, 5061/);
    assert.match(text, /table inet sipwarden \{/);
    const register = Buffer.from('REGISTER ').toString('hex');
    const invite = Buffer.from('INVITE ').toString('hex');
    for (const [hex, bits] of [[register, 72], [invite, 56]] as const) {
      for (const [family, saddr] of [['4', 'ip saddr'], ['6', 'ip6 saddr']] as const) {
        assert.ok(
          text.includes(`udp dport { 5060, 5061 } @th,64,${bits} 0x${hex} update @meter${family} { ${saddr} limit rate over ${RATE}/second burst ${BURST} packets } add @guard${family} { ${saddr} timeout ${BAN_S}s } drop`),
          `guard rule for 0x${hex} (IPv${family}) in:\n${text}`,
        );
      }
    }
    assert.doesNotMatch(r.stderr, /enabled is false/);
    // The printed text is a ruleset nft accepts (check mode in the flooder namespace: nothing is committed).
    const checked = await nft(flooder!, ['-c', '-f'], text);
    assert.equal(checked.code, 0, checked.stderr);
    assert.deepEqual(await tables(flooder!), []);
  });

  it('the daemon installs the guard in the PBX namespace', async () => {
    const guard = await nft(pbx!, ['list', 'chain', 'inet', 'sipwarden', 'guard']);
    assert.equal(guard.code, 0, guard.stderr);
    assert.match(guard.stdout, new RegExp(`limit rate over ${RATE}/second burst ${BURST} packets`));
    assert.match(guard.stdout, new RegExp(`add @guard4 \\{ ip saddr timeout ${BAN_S}s \\} drop`));
    const base = await nft(pbx!, ['list', 'chain', 'inet', 'sipwarden', 'prerouting']);
    assert.equal(base.code, 0, base.stderr);
    const rules = base.stdout.split('\n').map((l) => l.trim());
    const allowAt = rules.findIndex((l) => l === 'ip saddr @allow4 accept');
    const guardDropAt = rules.findIndex((l) => l === 'ip saddr @guard4 drop');
    const jumpAt = rules.findIndex((l) => l === 'jump guard');
    assert.ok(allowAt >= 0 && allowAt < guardDropAt && guardDropAt < jumpAt, `allowlist, then guard drop, then jump:\n${base.stdout}`);
    const allow = await nft(pbx!, ['list', 'set', 'inet', 'sipwarden', 'allow4']);
    assert.match(allow.stdout, new RegExp(FRIEND.replace(/\./g, '\\.')), 'the allow list is loaded into the kernel');
  });

  it('a REGISTER flood is banned by the kernel, dropped afterwards, and recorded by the daemon as rule kernel-guard', async () => {
    // One unmetered packet per source first: ARP is resolved before the burst, and the counters are seen to work.
    sendUdp(flooder!, PBX, 5060, 1, OPTIONS, FLOODER);
    sendUdp(flooder!, PBX, 5060, 1, OPTIONS, FRIEND);
    await eventually(async () => (await delivered(pbx!, FLOODER)) === 1 && (await delivered(pbx!, FRIEND)) === 1, 5000, 'the warm-up packets', 20);

    const t0 = Date.now();
    sendUdp(flooder!, PBX, 5060, FLOOD, REGISTER, FLOODER);
    timings.floodSendMs = Date.now() - t0;
    assert.ok(timings.floodSendMs < 3000, `the burst took ${timings.floodSendMs} ms`);
    const element = await eventually(() => guardElement(pbx!, FLOODER), 5000, `${FLOODER} in guard4`, 20);
    timings.kernelBanVisibleMs = Date.now() - t0;
    assert.match(element, /expires \d+s/, element);
    const passed = (await delivered(pbx!, FLOODER)) - 1;
    timings.floodPassed = passed;
    assert.ok(passed >= BURST / 2 && passed <= BURST + 10, `about the burst (${BURST}) got through, then nothing: ${passed} of ${FLOOD}`);
    // Every packet of the burst after the ban was counted by the guard set element (the rest passed or tripped the meter).
    await eventually(async () => elementPackets((await guardElement(pbx!, FLOODER)) ?? '') >= FLOOD - passed - 2, 5000, 'guard drops counted', 20);

    // Afterwards nothing from the flooder gets through, whatever the method.
    const dropsBefore = elementPackets((await guardElement(pbx!, FLOODER)) as string);
    sendUdp(flooder!, PBX, 5060, 50, OPTIONS, FLOODER);
    await eventually(async () => elementPackets((await guardElement(pbx!, FLOODER)) ?? '') >= dropsBefore + 50, 5000, 'later packets dropped by the guard ban', 20);
    assert.equal(await delivered(pbx!, FLOODER), passed + 1, 'no packet from the flooder reached the input hook after the ban');

    // The daemon picks the kernel's ban up (it polls the guard sets every second) and logs it.
    const line = await daemon!.waitForLog(new RegExp(`^banned ${FLOODER.replace(/\./g, '\\.')}:`), 5000);
    timings.daemonRecordedMs = Date.now() - t0;
    assert.equal(line.rule, 'kernel-guard', JSON.stringify(line));
    assert.equal(line.target, FLOODER);
    assert.match(line.msg, /kernel flood guard: more than 20 REGISTER\/INVITE per second \(burst 20\)/);
    const until = Date.parse(String(line.until));
    assert.ok(until > Date.now() + (BAN_S - 10) * 1000 && until <= Date.now() + BAN_S * 1000 + 1000, `ban ends in about ${BAN_S} s: ${line.until}`);
  });

  it('`sipwarden list --json` and `sipwarden why` (inside the PBX namespace) show the kernel-made ban', async () => {
    type Listed = { target: string; rule?: string; origin: string; action: string; expiresAt?: number | null; policy: { check: string; result: string; detail: string }[] };
    const bans = JSON.parse(await sipwardenCli(['list', '--json'], config)) as Listed[];
    const mine = bans.filter((b) => b.target === FLOODER);
    assert.equal(mine.length, 1, `exactly one ban for the flooder: ${JSON.stringify(bans)}`);
    const ban = mine[0]!;
    assert.equal(ban.rule, 'kernel-guard');
    assert.equal(ban.origin, 'rule');
    assert.equal(ban.action, 'ban');
    assert.ok(typeof ban.expiresAt === 'number' && ban.expiresAt > Date.now(), `expires in the future: ${ban.expiresAt}`);
    assert.deepEqual(ban.policy.map((p) => [p.check, p.result]), [['kernel', 'info']]);
    assert.match(ban.policy[0]!.detail, /banned by the kernel in set guard4/);
    assert.equal(bans.filter((b) => b.target === FRIEND).length, 0, 'the allowlisted source has no ban');

    const why = await sipwardenCli(['why', FLOODER], config, pbx);
    assert.match(why, new RegExp(`^${FLOODER.replace(/\./g, '\\.')}: BANNED \\(${FLOODER.replace(/\./g, '\\.')}\\) until `, 'm'), why);
    assert.match(why, /decision \d+, rule kernel-guard, .*: kernel flood guard: more than 20 REGISTER\/INVITE per second \(burst 20\)/, why);
    assert.match(why, /^ {2}info {2}kernel {6}banned by the kernel in set guard4; the allow list bypasses the guard$/m, why);
    // Asked inside the namespace, why reads the guard element's counter: the flood's drops at least.
    const dropped = /packets dropped by this ban: ([\d,. ]+) \(nftables\)/.exec(why);
    assert.ok(dropped, `why reports the packets the kernel dropped:\n${why}`);
    timings.whyDropped = Number(dropped[1]!.replace(/\D/g, ''));
    assert.ok(timings.whyDropped >= FLOOD - BURST - 10, why);
    assert.match(why, /Undo: sipwarden unban 10\.96\.7\.2 /);
  });

  it('the same burst from an allowlisted address passes and is not banned', async () => {
    const t0 = Date.now();
    sendUdp(flooder!, PBX, 5060, FLOOD, REGISTER, FRIEND);
    await eventually(async () => (await delivered(pbx!, FRIEND)) === FLOOD + 1, 5000, 'all of the allowlisted burst delivered', 20);
    timings.allowlistedBurstMs = Date.now() - t0;
    assert.equal(await guardElement(pbx!, FRIEND), null, 'not in the guard ban set');
    assert.equal(await guardElement(pbx!, FRIEND, 'meter4'), null, 'not even metered: the allow list is accepted before the guard');
    // Give the daemon's watcher (1 s) two rounds to be sure it did not record anything either.
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal(daemon!.logs.filter((l) => l.msg.startsWith(`banned ${FRIEND}`)).length, 0);
    const bans = JSON.parse(await sipwardenCli(['list', '--json'], config)) as { target: string }[];
    assert.deepEqual(bans.map((b) => b.target), [FLOODER]);
    const why = await sipwardenCli(['why', FRIEND], config, pbx);
    assert.match(why, /^10\.96\.7\.3: not banned\.$/m, why);
    assert.match(why, /Allowlisted: yes \(10\.96\.7\.3/, why);
  });

  it('a restart does not record a kernel ban that is still in the guard set a second time', async () => {
    await daemon!.stop();
    daemon = startSipwardenIn(pbx!, config);
    await daemon.waitForLog(/source started/, 15_000);
    assert.notEqual(await guardElement(pbx!, FLOODER), null, 'the kernel ban outlived the restart');
    // Two rounds of the 1 s watcher after the restart.
    await new Promise((r) => setTimeout(r, 2500));
    const bans = JSON.parse(await sipwardenCli(['list', '--json'], config)) as { target: string }[];
    assert.equal(bans.filter((b) => b.target === FLOODER).length, 1, JSON.stringify(bans));
  });

  it('`sipwarden stop` after the daemon stopped removes sipwarden\'s table and leaves the other table untouched', async () => {
    await daemon!.stop();
    assert.throws(() => process.kill(daemon!.pid, 0), /ESRCH/, 'the daemon exited');
    assert.ok((await tables(pbx!)).includes('table inet sipwarden'), 'stopping the daemon leaves its table (bans outlive it)');
    const other = await nft(pbx!, ['list', 'table', 'inet', 'other']);
    assert.equal(other.code, 0, other.stderr);

    const t0 = Date.now();
    const out = await sipwardenCli(['stop'], config, pbx);
    timings.stopMs = Date.now() - t0;
    assert.match(out, /Removed sipwarden's nftables objects; other rules were not touched\./);
    assert.deepEqual(await tables(pbx!), ['table inet other']);
    const afterStop = await nft(pbx!, ['list', 'table', 'inet', 'other']);
    assert.equal(afterStop.stdout, other.stdout, 'table inet other is byte for byte the same');
    assert.match(afterStop.stdout, /elements = \{ 192\.0\.2\.7 \}/);
    assert.match(afterStop.stdout, /ip saddr 10\.96\.7\.2 udp dport 5060 counter packets \d+/);
    // Without sipwarden's table the flooder's packets get through again.
    const before = await delivered(pbx!, FLOODER);
    sendUdp(flooder!, PBX, 5060, 10, OPTIONS, FLOODER);
    await eventually(async () => (await delivered(pbx!, FLOODER)) === before + 10, 5000, 'the flooder delivered again', 20);
  });
});
