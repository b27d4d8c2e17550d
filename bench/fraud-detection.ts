import { pathToFileURL } from 'node:url';
import { parseConfigText } from '../src/config/load.js';
import type { SecurityEvent } from '../src/core/event.js';
import type { Severity } from '../src/fraud/engine.js';
import { FraudMonitor } from '../src/fraud/monitor.js';
import { generateTraffic, type AttackLabel, type Traffic } from '../src/fraud/traffic.js';

/**
 * Toll-fraud detection figures (issue: toll fraud): synthetic weeks of PBX traffic with labelled attacks, fed
 * through the FraudMonitor as the daemon runs it (ticking every 30 s of event time). Per attack: detected or
 * not (a critical finding on one of its accounts while it lasts), minutes from its first fraudulent call to
 * that finding, and the billed fraudulent minutes before it. For the benign traffic: critical findings and
 * warnings per 10,000 benign calls.
 */

export interface Observation {
  at: number;
  account: string;
  rule: string;
  severity: Severity;
}

/** When an attack call was answered and ended, for the billed minutes before detection. */
export interface CallTimes {
  answeredAt?: number;
  endedAt: number;
}

export interface AttackResult {
  attackId: string;
  kind: AttackLabel['kind'];
  entry: AttackLabel['entry'];
  accounts: number;
  detected: boolean;
  /** Minutes from the first fraudulent call to the first critical finding (0 when found before it). */
  minutesToDetect?: number;
  /** Billed minutes of the attack's calls before the detection (all of them when missed). */
  billedMinutesBefore: number;
  firstRule?: string;
}

export interface Figures {
  attacks: AttackResult[];
  benignCalls: number;
  benignCritical: Observation[];
  benignWarnings: Observation[];
  criticalPer10k: number;
  warningsPer10k: number;
}

/**
 * The figures from what was seen. An observation on an attacked account between the attack's first event and
 * its last call's end is the attack's; one in the `aftermathMs` after it (the 24 h international count still
 * holds the attack's calls) is neither a detection nor benign; every other one is benign. The caller passes
 * the measured period only.
 */
export function detectionFigures(
  labels: readonly AttackLabel[], seen: readonly Observation[], benignCalls: number, calls = new Map<string, CallTimes>(), aftermathMs = 86_400_000,
): Figures {
  const during = (o: Observation, l: AttackLabel): boolean => o.account === l.account && o.at >= l.startsAt && o.at <= l.endsAt;
  const after = (o: Observation, l: AttackLabel): boolean => o.account === l.account && o.at >= l.startsAt && o.at <= l.endsAt + aftermathMs;
  const byAttack = new Map<string, AttackLabel[]>();
  for (const label of labels) byAttack.set(label.attackId, [...(byAttack.get(label.attackId) ?? []), label]);
  const attacks: AttackResult[] = [];
  for (const [attackId, parts] of byAttack) {
    const first = seen.filter((o) => o.severity === 'critical' && parts.some((l) => during(o, l))).sort((a, b) => a.at - b.at)[0];
    const fraudStartsAt = Math.min(...parts.map((l) => l.fraudStartsAt));
    const cutoff = first?.at ?? Infinity;
    let billedMs = 0;
    for (const id of parts.flatMap((l) => l.callIds)) {
      const times = calls.get(id);
      if (times?.answeredAt !== undefined) billedMs += Math.max(0, Math.min(times.endedAt, cutoff) - times.answeredAt);
    }
    const result: AttackResult = { attackId, kind: parts[0]!.kind, entry: parts[0]!.entry, accounts: parts.length, detected: first !== undefined, billedMinutesBefore: billedMs / 60_000 };
    if (first !== undefined) {
      result.minutesToDetect = Math.max(0, first.at - fraudStartsAt) / 60_000;
      result.firstRule = first.rule;
    }
    attacks.push(result);
  }
  const benign = seen.filter((o) => !labels.some((l) => after(o, l)));
  const benignCritical = benign.filter((o) => o.severity === 'critical');
  const benignWarnings = benign.filter((o) => o.severity === 'warning');
  const per10k = (n: number): number => (benignCalls === 0 ? 0 : (n / benignCalls) * 10_000);
  return { attacks, benignCalls, benignCritical, benignWarnings, criticalPer10k: per10k(benignCritical.length), warningsPer10k: per10k(benignWarnings.length) };
}

/** Feeds one generated traffic set through a monitor configured for it; observations in the measured period. */
export function replay(traffic: Traffic): { seen: Observation[]; benignCalls: number; calls: Map<string, CallTimes> } {
  const config = parseConfigText(`fraud: { homeCountry: GB, allowedCountries: [${traffic.allowedCountries.join(', ')}], domesticPremium: ${process.env.BENCH_DOMESTIC_PREMIUM ?? 'T4'} }`, 'bench.yaml', {});
  const monitor = new FraudMonitor(config.fraud!, 'UTC', traffic.geo);
  const seen: Observation[] = [];
  const record = (changes: ReturnType<FraudMonitor['observe']>): void => {
    for (const { finding, escalated } of changes) {
      if (finding.at < traffic.measuredFrom) continue;
      seen.push({ at: finding.at, account: finding.account, rule: finding.rule, severity: escalated ? 'critical' : finding.severity });
    }
  };
  let nextTick = (traffic.events[0]?.at ?? 0) + 30_000;
  for (const event of traffic.events) {
    while (event.at >= nextTick) {
      record(monitor.tick(nextTick));
      nextTick += 30_000;
    }
    record(monitor.observe(event));
  }
  const attackCalls = new Set(traffic.attacks.flatMap((l) => l.callIds));
  const calls = new Map<string, CallTimes>();
  let benignCalls = 0;
  for (const event of traffic.events) callTimes(event, attackCalls, calls);
  for (const event of traffic.events) if (event.kind === 'call-start' && event.at >= traffic.measuredFrom && !attackCalls.has(event.callId ?? '')) benignCalls++;
  return { seen, benignCalls, calls };
}

function callTimes(event: SecurityEvent, attackCalls: Set<string>, calls: Map<string, CallTimes>): void {
  const id = event.callId;
  if (id === undefined || !attackCalls.has(id)) return;
  const times = calls.get(id) ?? { endedAt: Infinity };
  if (event.kind === 'call-answer') times.answeredAt = event.at;
  if (event.kind === 'call-end') times.endedAt = event.at;
  calls.set(id, times);
}

/** Several seeded weeks (each after `warmupDays` of benign history), figures over all of them. */
export function fraudDetectionBench(seeds: readonly number[], warmupDays: number): Figures {
  const labels: AttackLabel[] = [];
  const seen: Observation[] = [];
  const calls = new Map<string, CallTimes>();
  let benignCalls = 0;
  for (const seed of seeds) {
    const traffic = generateTraffic({ seed, warmupDays });
    // Account names repeat across seeds: each week is its own PBX, so tag them apart.
    const tag = (name: string): string => `s${seed}/${name}`;
    const run = replay(traffic);
    labels.push(...traffic.attacks.map((l) => ({ ...l, attackId: tag(l.attackId), account: tag(l.account), callIds: l.callIds.map(tag) })));
    seen.push(...run.seen.map((o) => ({ ...o, account: tag(o.account) })));
    for (const [id, times] of run.calls) calls.set(tag(id), times);
    benignCalls += run.benignCalls;
  }
  return detectionFigures(labels, seen, benignCalls, calls);
}

export function formatFigures(title: string, figures: Figures): string {
  const lines = [title];
  const kinds = [...new Set(figures.attacks.map((a) => a.kind))];
  const fmt = (n: number): string => (n < 10 ? n.toFixed(1) : n.toFixed(0));
  for (const kind of [...kinds, 'all']) {
    const attacks = figures.attacks.filter((a) => kind === 'all' || a.kind === kind);
    const found = attacks.filter((a) => a.detected);
    const minutes = found.map((a) => a.minutesToDetect!).sort((a, b) => a - b);
    const rules = count(found.map((a) => a.firstRule!));
    const missed = attacks.filter((a) => !a.detected).map((a) => a.entry);
    lines.push(`  ${kind.padEnd(19)} detected ${found.length}/${attacks.length} (${Math.round((found.length / attacks.length) * 100)}%)` +
      (minutes.length > 0 ? `, minutes to detect median ${fmt(minutes[Math.floor(minutes.length / 2)]!)} max ${fmt(minutes.at(-1)!)}` : '') +
      `, billed fraud minutes before detection ${fmt(attacks.reduce((s, a) => s + a.billedMinutesBefore, 0))}` +
      (kind === 'all' ? '' : `; first critical rule ${rules || '-'}${missed.length > 0 ? `; missed (entry): ${count(missed)}` : ''}`));
  }
  const accounts = new Set(figures.benignCritical.map((o) => o.account)).size;
  lines.push(`  benign: ${figures.benignCalls.toLocaleString('en-US')} calls; critical findings ${figures.benignCritical.length} = ${figures.criticalPer10k.toFixed(1)} per 10k calls (${accounts} accounts; by rule ${count(figures.benignCritical.map((o) => o.rule)) || '-'}); warnings ${figures.benignWarnings.length} = ${figures.warningsPer10k.toFixed(1)} per 10k (by rule ${count(figures.benignWarnings.map((o) => o.rule)) || '-'})`);
  return `${lines.join('\n')}\n`;
}

function count(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seeds = [1, 2, 3, 4, 5];
  process.stdout.write(formatFigures(`toll-fraud detection, ${seeds.length} synthetic weeks of 200 accounts after a week of history:`, fraudDetectionBench(seeds, 7)));
  process.stdout.write(formatFigures('the same weeks with no history (cold start):', fraudDetectionBench(seeds, 0)));
}
