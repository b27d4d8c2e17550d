import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { HoneypotReport } from '../src/honeypot/report.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { StoredHoneypotHit } from '../src/store/types.js';
import { eventually, runTool, type ToolResult } from './e2e/run.js';
import { startSvcrack, svwar } from './e2e/sip.js';
import { sipwardenCli, startSipwardenIn, type NamespacedDaemon } from './e2e/sipwarden.js';
import { createLab, labUnavailable, type Lab } from './e2e/topology.js';
import { tempDir } from './helpers.js';

/**
 * Issue 5, end to end: the real daemon runs a honeypot source in the PBX namespace (no PBX there, dry-run
 * enforcement so every tool gets through), and real tools attack it from other namespaces: svmap and svwar from
 * ATTACKER, svcrack from CRACKER, SIPp registering a bait account and dialling an international number over UDP
 * and TCP. The INVITEs are aimed at the PHONE namespace (Request-URI, Via, Contact, Record-Route), where a
 * listener waits; the kernel counts every packet the PBX namespace sends anywhere but to the attackers.
 * Asserted: what the store and `sipwarden honeypot report --json` recorded, and that nothing was relayed.
 */

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/honeypot/', import.meta.url));
const SCENARIO = join(FIXTURES, 'register-call.xml');
const PBX_UA = 'FPBX-16.0.40.7(18.20.2)';
const BOT_UA = 'Zoiper rv2.10.8.2';
const WORDLIST = ['qwerty', 'letmein', 'sip2024', 'abc123', '100', 'never-tried'];
const [SCANNER, DIALLER] = ['10.97.1.10', '10.97.1.11'] as const;

const skip = labUnavailable(['svmap', 'svwar', 'svcrack', 'sipp', 'ss']) ?? false;

/** A UDP and TCP listener on the victim's SIP port: one JSON line per packet or connection that reaches it. */
const VICTIM = `
import dgram from 'node:dgram';
import net from 'node:net';
const [host, port] = process.argv.slice(1);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const udp = dgram.createSocket('udp4');
udp.on('message', (m, from) => out({ udp: from.address, text: m.toString('latin1').slice(0, 120) }));
udp.bind(Number(port), host, () => {
  net.createServer((s) => { out({ tcp: s.remoteAddress }); s.on('data', (d) => out({ tcpData: d.toString('latin1').slice(0, 120) })); })
    .listen(Number(port), host, () => out({ ready: true }));
});
`;

/**
 * Counts, in the PBX namespace, what leaves it for anyone but the attackers, and UDP from 5060 whose payload does
 * not start with "SIP/" (a request, not a response). The last two counters are the controls: they must count,
 * or the matches above them prove nothing.
 */
const WATCH = `
table ip hpwatch {
  counter to_phone {}
  counter elsewhere {}
  counter udp_requests {}
  counter udp_responses {}
  counter to_attackers {}
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr 10.97.2.0/24 counter name "to_phone"
    oifname != "lo" ip daddr != { 10.97.1.0/24, 10.97.3.0/24 } counter name "elsewhere"
    udp sport 5060 @th,64,32 != 0x5349502f counter name "udp_requests"
    udp sport 5060 @th,64,32 == 0x5349502f counter name "udp_responses"
    ip daddr { 10.97.1.0/24, 10.97.3.0/24 } counter name "to_attackers"
  }
}
`;

/** One datagram from the PBX namespace to the victim: the control that proves the victim would hear a relay. */
const CONTROL = `
import dgram from 'node:dgram';
const [host, port] = process.argv.slice(1);
const socket = dgram.createSocket('udp4');
socket.send('control', Number(port), host, () => socket.close());
`;

/** The victim listener, read while it runs. */
interface Victim {
  heard: Record<string, string>[];
  stop(): Promise<void>;
}

function startVictim(prefix: readonly string[], host: string): Victim {
  const child: ChildProcess = spawn(prefix[0] as string, [...prefix.slice(1), process.execPath, '--input-type=module', '-e', VICTIM, host, '5060'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const heard: Record<string, string>[] = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      heard.push(JSON.parse(buffered.slice(0, nl)) as Record<string, string>);
      buffered = buffered.slice(nl + 1);
    }
  });
  const exited = once(child, 'exit');
  return {
    heard,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('end to end: sipvicious and SIPp against the honeypot; everything recorded, nothing relayed', { skip }, () => {
  let lab: Lab | undefined;
  let daemon: NamespacedDaemon | undefined;
  let victim: Victim | undefined;
  const dir = tempDir('sw-e2e-hp-');
  const config = join(dir, 'sipwarden.yaml');
  const db = join(dir, 'sipwarden.db');
  const tools = new Map<string, ToolResult>();

  const hits = async (query: { ip?: string } = {}): Promise<StoredHoneypotHit[]> => {
    const store = openSqliteStore(db, { readonly: true });
    try {
      return await store.honeypotHits({ ...query, limit: 10_000 });
    } finally {
      await store.close();
    }
  };
  const sipp = (transport: 'u1' | 't1', localPort: number, account: string, password: string, number: string) => runTool([
    ...lab!.attacker.prefix, 'sipp', `${lab!.pbxForAttacker}:5060`, '-sf', SCENARIO, '-t', transport,
    '-s', account, '-ap', password, '-set', 'ua', BOT_UA, '-set', 'number', number, '-set', 'victim', lab!.phoneAddress,
    '-i', DIALLER, '-p', String(localPort), '-m', '1', '-nostdin', '-timeout', '6s', '-timeout_error', '-recv_timeout', '3000',
  ], { timeoutMs: 12_000, cwd: dir });
  const output = (r: ToolResult | undefined) => `${r?.stdout.slice(-1500)}\n${r?.stderr.slice(-1500)}`;

  before(async () => {
    lab = createLab();
    writeFileSync(join(dir, 'watch.nft'), WATCH);
    lab.pbx.exec(['nft', '-f', join(dir, 'watch.nft')]);
    writeFileSync(join(dir, 'country.csv'), 'start,end,country\n10.97.1.0,10.97.1.255,NL\n"10.97.3.0","10.97.3.255","BR"\n');
    writeFileSync(join(dir, 'asn.csv'), '10.97.1.0,10.97.1.255,64500,"Bullet Hosting, Ltd"\n10.97.3.0,10.97.3.255,AS64501,Cracknet\n');
    writeFileSync(config, [
      'node: bait',
      `store: { sqlite: ${db} }`,
      'sources:',
      '  - id: honeypot',
      '    type: honeypot',
      '    listen: ["udp://0.0.0.0:5060", "tcp://0.0.0.0:5060"]',
      `    userAgent: "${PBX_UA}"`,
      '    accounts: [{ user: "100", password: "100" }, { user: "1000", password: "1234" }]',
      `geo: { country: ${join(dir, 'country.csv')}, asn: ${join(dir, 'asn.csv')} }`,
      'allow: [127.0.0.0/8]',
      'enforce: { backend: dry-run }',
      '',
    ].join('\n'));
    victim = startVictim(lab.phone.prefix, lab.phoneAddress);
    await eventually(async () => victim!.heard.some((line) => line.ready !== undefined), 5000, 'the victim listener');
    daemon = startSipwardenIn(lab.pbx, config);
    await daemon.waitForLog(/source started/, 15_000);
    const { pbx } = lab;
    await eventually(async () => {
      const [udp, tcp] = await Promise.all(['-Hlnu', '-Hlnt'].map((flags) => runTool([...pbx.prefix, 'ss', flags, 'sport = :5060'], { timeoutMs: 5000 })));
      return udp!.stdout.includes(':5060') && tcp!.stdout.includes(':5060');
    }, 10_000, 'the honeypot listening on UDP and TCP 5060');
  });

  after(async () => {
    await daemon?.stop();
    await victim?.stop();
    lab?.destroy();
  });

  it('the tools run against it as against a PBX', async () => {
    const { attacker, cracker, pbxForAttacker, pbxForCracker } = lab!;
    tools.set('svmap', await runTool([...attacker.prefix, 'svmap', '-b', SCANNER, '-p', '5060', pbxForAttacker], { timeoutMs: 10_000, cwd: dir, env: { HOME: dir } }));
    assert.ok(tools.get('svmap')!.stdout.includes(PBX_UA), `svmap saw the configured User-Agent:\n${output(tools.get('svmap'))}`);

    tools.set('svwar', await svwar(attacker, { from: SCANNER, to: pbxForAttacker, extensions: '100-105', dir }));
    // Unknown users get 404 and bait users a challenge, so svwar finds exactly the bait account in its range.
    const found = [...tools.get('svwar')!.stdout.matchAll(/(\d+)\s*\|\s*reqauth/g)].map((m) => m[1]);
    assert.deepEqual(found, ['100'], `svwar found the bait account:\n${output(tools.get('svwar'))}`);

    const wordlist = join(dir, 'wordlist.txt');
    writeFileSync(wordlist, `${WORDLIST.join('\n')}\n`);
    const crack = startSvcrack(cracker, { account: '100', wordlist, to: pbxForCracker, dir, timeoutMs: 20_000 });
    tools.set('svcrack', await crack.result);
    assert.match(tools.get('svcrack')!.stdout, /100\s*\|\s*100/, `svcrack found the bait password:\n${output(tools.get('svcrack'))}`);

    tools.set('sipp-udp', await sipp('u1', 5070, '100', '100', '00972599000123'));
    assert.equal(tools.get('sipp-udp')!.code, 0, `SIPp registered over UDP and got its call rejected:\n${output(tools.get('sipp-udp'))}`);
    tools.set('sipp-tcp', await sipp('t1', 5072, '1000', '1234', '011442079460123'));
    assert.equal(tools.get('sipp-tcp')!.code, 0, `SIPp registered over TCP and got its call rejected:\n${output(tools.get('sipp-tcp'))}`);
  });

  it('records every source, user agent, tool, user name and password tried, the registrations and the numbers', async () => {
    const all = await eventually(async () => {
      const found = await hits();
      return found.some((h) => h.transport === 'tcp' && h.method === 'INVITE' && h.outcome === 'rejected') ? found : undefined;
    }, 5000, 'the last SIPp call in the store');
    const from = (ip: string) => all.filter((h) => h.ip === ip);

    const svmap = from(SCANNER).filter((h) => h.method === 'OPTIONS');
    assert.ok(svmap.length >= 1 && svmap.every((h) => h.tool === 'svmap' && h.userAgent === 'friendly-scanner' && h.outcome === 'answered'), JSON.stringify(svmap));
    const svwarUsers = new Set(from(SCANNER).filter((h) => h.method === 'REGISTER' && h.tool === 'svwar').map((h) => h.username));
    for (const user of ['100', '101', '102', '103', '104', '105']) assert.ok(svwarUsers.has(user), `svwar's ${user} recorded: ${[...svwarUsers].join(' ')}`);

    const cracking = from(lab!.crackerAddress);
    assert.ok(cracking.every((h) => h.userAgent === 'friendly-scanner' && h.tool === 'svcrack' && h.username === '100'));
    const guessed = cracking.filter((h) => h.password !== undefined);
    assert.deepEqual(guessed.map((h) => h.password).reverse(), WORDLIST.slice(0, WORDLIST.indexOf('100') + 1), 'every guess up to the right one, in order');
    assert.ok(guessed.every((h) => h.verified), 'each guess answered our challenge: verified');
    assert.deepEqual(guessed.map((h) => h.outcome).reverse(), ['wrong-password', 'wrong-password', 'wrong-password', 'wrong-password', 'registered']);

    const dialler = from(DIALLER);
    const registered = dialler.filter((h) => h.outcome === 'registered').map((h) => [h.transport, h.username, h.password, h.userAgent]);
    assert.deepEqual(registered.sort(), [['tcp', '1000', '1234', BOT_UA], ['udp', '100', '100', BOT_UA]]);
    const calls = dialler.filter((h) => h.method === 'INVITE').map((h) => [h.transport, h.destination, h.number, h.outcome, h.verified]).reverse();
    assert.deepEqual(calls, [
      ['udp', '00972599000123', '972599000123', 'challenged', false],
      ['udp', '00972599000123', '972599000123', 'rejected', true],
      ['tcp', '011442079460123', '442079460123', 'challenged', true],
      ['tcp', '011442079460123', '442079460123', 'rejected', true],
    ]);
  });

  it('`sipwarden honeypot report --json` sums it up, countries and networks from the local files included', async (t) => {
    const report = JSON.parse(await sipwardenCli(['honeypot', 'report', '--json'], config)) as HoneypotReport;
    t.diagnostic(`${report.totals.hits} hits from ${report.totals.sources} sources; tools ${report.tools.map((x) => `${x.value} ${x.hits}`).join(', ')}`);
    assert.deepEqual(report.sources.map((s) => s.ip).sort(), [SCANNER, DIALLER, lab!.crackerAddress].sort());
    assert.equal(report.totals.sources, 3);
    assert.equal(report.totals.registrations, 3);
    assert.equal(report.totals.verifiedSources, 2, 'the cracker and the dialler answered challenges; the scanner never did');
    assert.deepEqual(report.countries?.map((c) => [c.country, c.sources]), [['NL', 2], ['BR', 1]]);
    assert.deepEqual(report.networks?.map((n) => [n.asn, n.org]).sort(), [[64500, 'Bullet Hosting, Ltd'], [64501, 'Cracknet']]);
    assert.deepEqual(report.tools.map((t) => t.value).sort(), ['svcrack', 'svmap', 'svwar']);
    assert.deepEqual(report.userAgents.map((u) => u.value).sort(), [BOT_UA, 'friendly-scanner'].sort());
    const account100 = report.accounts.find((a) => a.username === '100');
    assert.ok(account100?.registered);
    for (const word of WORDLIST.slice(0, 5)) assert.ok(account100.passwords.includes(word), `${word} among the passwords tried on 100`);
    assert.deepEqual(report.registrations.map((r) => [r.ip, r.username]).sort(), [[DIALLER, '100'], [DIALLER, '1000'], [lab!.crackerAddress, '100']].sort());
    assert.deepEqual(report.numbers.map((n) => [n.number, n.hits, n.sources, n.verifiedHits]).sort(), [
      ['442079460123', 1, 1, 1],
      ['972599000123', 1, 1, 1],
    ]);
  });

  it('nothing was relayed: no packet to the victim or anywhere else, no request on the wire', async (t) => {
    const counter = async (name: string) => {
      const listed = await runTool([...lab!.pbx.prefix, 'nft', 'list', 'counter', 'ip', 'hpwatch', name], { timeoutMs: 5000 });
      const packets = /packets (\d+)/.exec(listed.stdout);
      assert.ok(packets, `counter ${name}: ${listed.stdout}${listed.stderr}`);
      return Number(packets[1]);
    };
    assert.equal(await counter('to_phone'), 0, 'no packet to the PHONE namespace, which every INVITE named');
    assert.equal(await counter('elsewhere'), 0, 'no packet to any address but the attackers\'');
    assert.equal(await counter('udp_requests'), 0, 'every UDP packet from port 5060 was a response');
    const [responses, answers] = [await counter('udp_responses'), await counter('to_attackers')];
    assert.ok(responses > 10 && answers >= responses, `the controls counted: ${responses} UDP responses, ${answers} packets to the attackers`);
    t.diagnostic(`${responses} UDP responses and ${answers} packets in all to the attackers; none elsewhere`);

    const control = await runTool([...lab!.pbx.prefix, process.execPath, '--input-type=module', '-e', CONTROL, lab!.phoneAddress, '5060'], { timeoutMs: 5000 });
    assert.equal(control.code, 0, control.stderr);
    await eventually(async () => victim!.heard.some((line) => line.text === 'control'), 3000, 'the victim hearing the control datagram');
    assert.deepEqual(victim!.heard.map((line) => Object.keys(line)[0]), ['ready', 'udp'], `the victim heard the control and nothing else: ${JSON.stringify(victim!.heard)}`);
  });

  it('the daemon banned the sources that got in, not the one that only looked, and no password reached its log', async () => {
    const decisions = JSON.parse(await sipwardenCli(['list', '--json'], config)) as { target: string; rule?: string }[];
    const rules = new Map(decisions.map((d) => [d.target, d.rule]));
    // Bait traffic is judged by the honeypot rule alone: a ban once a source registered a bait account or
    // dialled, with a proven address. The scanner only looked, so it stays free to show what it does next.
    assert.equal(rules.get(DIALLER), 'honeypot', 'banned (dry-run) once it registered and dialled');
    assert.equal(rules.get(lab!.crackerAddress), 'honeypot', 'banned (dry-run) once its cracked password registered');
    assert.equal(rules.has(SCANNER), false, `the scanner is recorded, not banned: ${JSON.stringify(decisions)}`);
    const logged = JSON.stringify(daemon!.logs);
    for (const secret of ['qwerty', 'letmein', 'sip2024']) assert.equal(logged.includes(secret), false, `${secret} not in the log`);
    assert.deepEqual(daemon!.logs.filter((line) => line.level >= 50).map((line) => line.msg), [], 'no error logged');
  });
});
