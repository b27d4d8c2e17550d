import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateAsteriskLog } from './generate.js';

/**
 * `npm run bench`: parse and detect 1M Asterisk lines with `sipwarden test` as a whole process (start-up
 * included), and fail2ban-regex on the same file where fail2ban is installed. Prints one line per figure.
 */
const dir = 'var/bench';
const log = join(dir, 'asterisk-1m.log');
mkdirSync(dir, { recursive: true });
if (!existsSync(log)) {
  process.stdout.write('generating var/bench/asterisk-1m.log ...\n');
  await generateAsteriskLog(log);
}
process.stdout.write(`input: ${log}, ${(statSync(log).size / 1048576).toFixed(0)} MiB\n`);

function timed(cmd: string, args: string[]): { seconds: number; peakMiB: number | null; stdout: string; status: number | null } {
  const hasTime = existsSync('/usr/bin/time');
  const argv = hasTime ? ['-f', '__PEAK_KIB=%M', cmd, ...args] : args;
  const started = process.hrtime.bigint();
  const r = spawnSync(hasTime ? '/usr/bin/time' : cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = /__PEAK_KIB=(\d+)/.exec(r.stderr ?? '');
  return { seconds, peakMiB: peak ? Number(peak[1]) / 1024 : null, stdout: r.stdout ?? '', status: r.status };
}

const runs = Number(process.env.BENCH_RUNS ?? 3);
const results: { seconds: number; peakMiB: number | null }[] = [];
let summary: { lines: number; events: number; bans: unknown[]; tampered: number } | undefined;
for (let i = 0; i < runs; i++) {
  const r = timed('bin/sipwarden', ['test', '--format', 'asterisk', '--timezone', 'UTC', '--json', log]);
  if (r.status !== 0) throw new Error(`sipwarden test exited with ${r.status}`);
  summary = JSON.parse(r.stdout);
  results.push(r);
}
const best = results.reduce((a, b) => (a.seconds <= b.seconds ? a : b));
const median = [...results].sort((a, b) => a.seconds - b.seconds)[Math.floor(results.length / 2)] as { seconds: number };
const lines = summary?.lines ?? 0;
process.stdout.write(`sipwarden test (whole process), ${runs} runs: median ${median.seconds.toFixed(3)} s, best ${best.seconds.toFixed(3)} s = ${Math.round(lines / median.seconds).toLocaleString('en-US')} lines/s (median); peak RSS ${best.peakMiB?.toFixed(0) ?? 'n/a (install GNU time)'} MiB\n`);
process.stdout.write(`  ${lines.toLocaleString('en-US')} lines, ${summary?.events.toLocaleString('en-US')} events, ${summary?.tampered} tampered, ${summary?.bans.length.toLocaleString('en-US')} bans\n`);
process.stdout.write(`  budget: >= 1,000,000 lines/s (<= 1 s for the file), <= 200 MiB: ${median.seconds <= 1 && (best.peakMiB ?? 0) <= 200 ? 'MET' : 'NOT MET'}\n`);

const filter = '/etc/fail2ban/filter.d/asterisk.conf';
if (existsSync('/usr/bin/fail2ban-regex') && existsSync(filter)) {
  const f = timed('/usr/bin/fail2ban-regex', ['--print-no-missed', log, filter]);
  const matched = /Lines: [\d,]+ lines, \d+ ignored, ([\d,]+) matched/.exec(f.stdout)?.[1] ?? '?';
  process.stdout.write(`fail2ban-regex (asterisk filter): ${f.seconds.toFixed(1)} s = ${Math.round(lines / f.seconds).toLocaleString('en-US')} lines/s; peak RSS ${f.peakMiB?.toFixed(0) ?? 'n/a'} MiB; ${matched} lines matched\n`);
} else {
  process.stdout.write('fail2ban-regex: not installed (apt-get install fail2ban to compare side by side)\n');
}

// The wire path (HEP decode -> SIP parse -> wire detectors -> rules and policy), each figure in a fresh process.
{
  const { runWireBench } = await import('./wire.js');
  const rates = [0, 1, 2].map(() => runWireBench('throughput').rate as number).sort((x, y) => x - y);
  const median = rates[1]!;
  process.stdout.write(`HEP -> SIP parse -> wire detectors -> rules and policy, one core, 3 runs of 400,000 messages: median ${Math.round(median).toLocaleString('en-US')} msg/s (runs ${rates.map((r) => Math.round(r).toLocaleString('en-US')).join(', ')})\n`);
  process.stdout.write(`  budget: >= 100,000 messages/s: ${median >= 100_000 ? 'MET' : 'NOT MET'}\n`);
  const mib = (bytes: number): string => (bytes / 1048576).toFixed(0);
  const sources = runWireBench('sources');
  process.stdout.write(`1M distinct sources tracked (each one OPTIONS answered 200): process RSS ${mib(sources.rss!)} MiB, live heap of the state ${mib(sources.stateHeap!)} MiB\n`);
  process.stdout.write(`  budget: <= 300 MiB: ${sources.rss! <= 300 * 1048576 ? 'MET' : 'NOT MET'}\n`);
  const probes = runWireBench('probes');
  process.stdout.write(`1M distinct sources each leaving an unanswered challenge (a probe each, so the rules hold ${probes.ruleKeys!.toLocaleString('en-US')} keys as well): process RSS ${mib(probes.rss!)} MiB, live heap of the state ${mib(probes.stateHeap!)} MiB\n`);
}

// Kernel figures (issue: enforcement): they need root and network namespaces; the namespaces are the bench's own.
const { canCreateNetns } = await import('../src/enforcers/testing/netns.js');
if (!canCreateNetns()) {
  process.stdout.write('kernel benchmarks: skipped (need root and ip netns)\n');
} else {
  const { logToKernelLatency } = await import('./latency.js');
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  const latency = await logToKernelLatency(cli, Number(process.env.BENCH_TRIALS ?? 200));
  process.stdout.write(`log line appended -> address in the kernel set (nftables), ${latency.trials} trials: p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms, max ${latency.max.toFixed(2)} ms\n`);
  process.stdout.write(`  budget: p50 <= 5 ms, p99 <= 50 ms: ${latency.p50 <= 5 && latency.p99 <= 50 ? 'MET' : 'NOT MET'} (fail2ban: median 0.32 s)\n`);
  const kernel = await import('./nftables.js');
  const perSecond = await kernel.bansPerSecond(100_000);
  process.stdout.write(`bans applied per second, sustained, batches: ${Math.round(perSecond).toLocaleString('en-US')}/s (budget >= 50,000/s; fail2ban ~90/s)\n`);
  for (const n of [100_000, 1_000_000]) {
    const seconds = await kernel.restoreSeconds(n);
    process.stdout.write(`restore ${n.toLocaleString('en-US')} bans at start-up: ${seconds.toFixed(2)} s${n === 1_000_000 ? ` (budget <= 10 s: ${seconds <= 10 ? 'MET' : 'NOT MET'})` : ''}\n`);
  }
  const { singleBanMillis } = await import('./ban-latency-loaded.js');
  for (const n of [0, 100_000]) {
    const one = await singleBanMillis(n);
    process.stdout.write(`one ban through the nft session with ${n.toLocaleString('en-US')} bans already in the set: p50 ${one.p50.toFixed(2)} ms, p99 ${one.p99.toFixed(2)} ms\n`);
  }
  const cost = await kernel.perPacketCost();
  process.stdout.write(`per-packet cost: ${JSON.stringify(cost)}\n`);
  process.stdout.write(await (await import('./feeds.js')).feedFigures());
  process.stdout.write(await import('./fleet.js').then(async (fleet) => fleet.formatFleetFigures(await fleet.fleetFigures())));
}

// Syslog ingestion under load (loopback only): listener and Kamailio parser here, the sender in its own process.
const { syslogLoad } = await import('./syslog.js');
const syslogRuns = [];
for (const transport of ['tcp', 'udp'] as const) {
  const r = await syslogLoad({ seconds: 10, rate: 100_000, transport });
  syslogRuns.push({ transport, r });
  const kernel = transport === 'udp' ? `, kernel drops ${r.kernelUdpDrops?.toLocaleString('en-US') ?? 'n/a (/proc/net/snmp unreadable)'}` : '';
  process.stdout.write(`syslog ${transport.toUpperCase()}, 100,000 msg/s for 10 s: sent ${r.sent.toLocaleString('en-US')}, received ${r.received.toLocaleString('en-US')}, lost ${r.lost.toLocaleString('en-US')}${kernel}, events parsed ${r.parsedEvents.toLocaleString('en-US')}, CPU ${r.cpuSeconds.toFixed(2)} s in ${r.seconds.toFixed(2)} s\n`);
}
const tcpRun = syslogRuns.find((x) => x.transport === 'tcp')?.r;
const udpRun = syslogRuns.find((x) => x.transport === 'udp')?.r;
process.stdout.write(`  budget: no loss on TCP; UDP loss reported by the kernel counters: ${tcpRun?.lost === 0 && udpRun?.kernelUdpDrops !== undefined ? 'MET' : 'NOT MET'}\n`);

// Call authorisation (issue: toll fraud): the real daemon's endpoint at 5,000 requests/s over loopback.
{
  const { authorizeLoad, formatAuthorizeLoad } = await import('./authorize.js');
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  // Two keep-alive connections is how a PBX asks (at 5,000/s and ~0.1 ms an answer, well under one question is in
  // flight: Little's law); ten shows what simultaneous arrivals cost, since autocannon paces each connection on its
  // own timer and sends them in bursts.
  for (const connections of [2, 10]) process.stdout.write(formatAuthorizeLoad(await authorizeLoad(cli, { rate: 5000, seconds: 10, connections })));
}

// Toll-fraud detection figures (issue: toll fraud): synthetic weeks with labelled attacks through the FraudMonitor.
{
  const { fraudDetectionBench, formatFigures } = await import('./fraud-detection.js');
  const seeds = [1, 2, 3, 4, 5];
  process.stdout.write(formatFigures(`toll-fraud detection, ${seeds.length} synthetic weeks of 200 accounts after a week of history:`, fraudDetectionBench(seeds, 7)));
  process.stdout.write(formatFigures('the same weeks with no history (cold start):', fraudDetectionBench(seeds, 0)));
}

// Store write rates (issue: fleets): SQLite and a real PostgreSQL (fsync on) that the bench starts itself.
{
  const { formatStoreRates, storeWriteRates } = await import('./postgres-store.js');
  process.stdout.write(formatStoreRates(await storeWriteRates()));
}
