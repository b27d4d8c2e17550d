import { statSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import { formatDuration } from '../../core/duration.js';
import type { EventKind } from '../../core/event.js';
import { swError } from '../../core/errors.js';
import { createParser } from '../../parsers/index.js';
import { Analyzer } from '../../pipeline/analyzer.js';
import type { NewDecision } from '../../store/types.js';
import { optionalConfig } from '../context.js';
import { count, table } from '../format.js';
import { checkReadable, readFileLineBatches } from '../read-lines.js';

export interface TestOptions {
  config?: string;
  format?: string;
  timezone?: string;
  json?: boolean;
}

export interface ReplayResult {
  files: number;
  lines: number;
  seconds: number;
  events: number;
  eventsByKind: Partial<Record<EventKind, number>>;
  tampered: number;
  knownGoodFailures: number;
  findingsByRule: Record<string, number>;
  /** Peak resident memory of this process so far. */
  peakRssMiB: number;
  bans: { target: string; rule: string; events: number; evidence: string; duration: string; level: number; dryRun: boolean }[];
  reports: { target: string; rule: string; reason: string }[];
}

/**
 * Replays logs through the rules and the policy on the events' own timestamps. Each file is read with the
 * format of the config source whose path it is, else --format, else the first configured source's format.
 */
export async function replay(files: readonly string[], config: Config, options: TestOptions): Promise<ReplayResult> {
  const started = process.hrtime.bigint();
  const analyzer = new Analyzer(config);
  const decisions: NewDecision[] = [];
  let lines = 0;
  for (const file of files) {
    const files = config.sources.filter((s) => s.type === 'file');
    const source = files.find((s) => s.path === file);
    const format = options.format ?? source?.format ?? files[0]?.format;
    if (!format) throw swError('SW_ERR_ARGUMENT', `no format for ${file}: pass --format or a --config whose sources name one`);
    const parser = createParser(format, config);
    const ctx = { timezone: options.timezone ?? source?.timezone ?? config.timezone, referenceTime: statSync(file).mtimeMs };
    for (const batch of readFileLineBatches(file)) {
      lines += batch.length;
      for (const text of batch) {
        const events = parser.parse(text, ctx);
        for (let i = 0; i < events.length; i++) {
          const made = analyzer.process(events[i]!).decisions;
          if (made.length > 0) decisions.push(...made);
        }
      }
    }
  }
  analyzer.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stats = analyzer.stats;
  return {
    files: files.length, lines, seconds, events: stats.events, eventsByKind: Object.fromEntries(stats.byKind), tampered: stats.tampered,
    knownGoodFailures: stats.knownGoodFailures, findingsByRule: stats.findings,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    bans: decisions.filter((d) => d.action === 'ban').map((d) => ({
      target: d.target, rule: d.rule ?? '', events: d.eventCount, evidence: d.evidence,
      duration: d.durationMs == null ? 'permanent' : formatDuration(d.durationMs), level: d.level, dryRun: d.dryRun,
    })),
    reports: decisions.filter((d) => d.action === 'report').map((d) => ({ target: d.target, rule: d.rule ?? '', reason: d.reason })),
  };
}

export function renderReplay(r: ReplayResult): string {
  const out: string[] = [];
  const rate = r.seconds > 0 ? Math.round(r.lines / r.seconds) : r.lines;
  out.push(`Read ${count(r.lines)} lines from ${r.files} file(s) in ${r.seconds.toFixed(2)} s (${count(rate)} lines/s).`);
  out.push('', `Events: ${count(r.events)}`);
  const kinds = Object.entries(r.eventsByKind).sort((a, b) => b[1] - a[1]);
  if (kinds.length > 0) out.push(table(kinds.map(([k, n]) => [`  ${k}`, count(n)])));
  if (r.tampered > 0) out.push(`  (${count(r.tampered)} tampered lines: injection attempts, never attributed to an address)`);
  if (r.knownGoodFailures > 0) out.push(`  (${count(r.knownGoodFailures)} failures from known-good address/account pairs: not counted)`);
  out.push('', 'Findings per rule:');
  const rules = Object.entries(r.findingsByRule);
  out.push(rules.length > 0 ? table(rules.map(([k, n]) => [`  ${k}`, count(n)])) : '  none');
  const banned = new Set(r.bans.map((b) => b.target));
  out.push('', `Would ban ${count(banned.size)} address(es):`);
  if (r.bans.length > 0) {
    out.push(table([
      ['  ADDRESS', 'RULE', 'EVENTS', 'EVIDENCE', 'BAN', 'LEVEL'],
      ...r.bans.map((b) => [`  ${b.target}`, b.rule, String(b.events), b.evidence, b.dryRun ? `${b.duration} (dry-run)` : b.duration, String(b.level)]),
    ]));
  }
  if (r.reports.length > 0) {
    out.push('', `Not banned, reported (${count(r.reports.length)}):`);
    out.push(table(r.reports.map((p) => [`  ${p.target}`, p.rule, p.reason])));
  }
  return out.join('\n');
}

export async function testCommand(files: string[], options: TestOptions): Promise<void> {
  if (files.length === 0) throw swError('SW_ERR_ARGUMENT', 'test needs at least one log file');
  for (const file of files) checkReadable(file);
  const config = await optionalConfig(options.config);
  const result = await replay(files, config, options);
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${renderReplay(result)}\n`);
}
