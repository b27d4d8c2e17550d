import type { Config } from '../../config/schema.js';
import { formatDuration } from '../../core/duration.js';
import { AddressList } from '../../policy/address-list.js';
import { Analyzer } from '../../pipeline/analyzer.js';
import type { BanState } from '../../enforcers/types.js';
import type { Decision, Store, StoredEvent } from '../../store/types.js';
import type { Incident } from '../../fraud/incidents.js';
import { openStore, requireConfig } from '../context.js';
import { buildStory, classifyTarget as classify, isActiveBan as isActive } from '../../explain/story.js';
import { count, expiry, shellQuote, when } from '../format.js';

export interface WhyOptions {
  config?: string;
  json?: boolean;
}

function eventLine(e: StoredEvent): string {
  const who = [e.account && `account ${e.account}`, e.destination && `to ${e.destination}`].filter(Boolean).join(' ');
  const where = e.ip ? `${e.ip}${e.port ? `:${e.port}` : ''}` : 'no trusted address';
  return `  ${when(e.at)}  ${e.kind.padEnd(15)} ${where}  ${who}${e.reason ? `  "${e.reason}"` : ''}  [${e.evidence}${e.sensor ? `, ${e.sensor}` : ''}]`;
}

/** Asks the firewall about one address; null when it cannot tell (dry-run, or too slow to answer). */
export type BanLookup = (ip: string, now: number) => Promise<BanState | null>;

/** The story of one address, prefix or account, in one screen. */
export async function explain(store: Store, config: Config, text: string, now: number, lookup?: BanLookup): Promise<string> {
  const target = classify(text);
  const query = target.kind === 'ip' ? { ip: target.ip } : target.kind === 'cidr' ? { cidr: target.cidr } : { account: target.account };
  const label = target.kind === 'ip' ? target.ip : target.kind === 'cidr' ? target.cidr : `account ${target.account}`;
  const decisions = await store.decisionsFor(query, 50);
  const active = decisions.filter((d) => isActive(d, now));
  const counts = await store.countEvents(query);
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  const out: string[] = [];

  if (active.length > 0) {
    for (const d of active) {
      out.push(`${label}: BANNED (${d.target}) until ${expiry(d.expiresAt, now)}`);
      out.push(`  decision ${d.id}, ${d.origin === 'manual' ? `manual ban by ${d.actor ?? '?'}` : `rule ${d.rule}`}, ${when(d.at)}: ${d.reason}`);
      const level = d.level === 0 ? 'first ban' : `repeat offender: ban #${d.level + 1} in ${formatDuration(config.escalation.window)}`;
      out.push(`  escalation level ${d.level} (${level}); evidence ${d.evidence}; ${d.eventCount} events`);
      const state = lookup && target.kind === 'ip' ? await lookup(target.ip, now) : null;
      if (state?.packets !== undefined) out.push(`  packets dropped by this ban: ${count(state.packets)} (${config.enforce.backend})`);
      else if (state) out.push(`  in the kernel set: ${state.banned ? 'yes' : 'NO (run sipwarden doctor)'}`);
    }
  } else {
    out.push(`${label}: not banned.`);
  }

  const latest = decisions[0];
  const shown = active[0] ?? latest;
  if (shown) {
    out.push('', `Policy path of decision ${shown.id} (${shown.action}${shown.dryRun ? ', dry-run' : ''}):`);
    for (const step of shown.policy) {
      const mark = step.result === 'pass' ? 'pass ' : step.result === 'block' ? 'BLOCK' : 'info ';
      out.push(`  ${mark} ${step.check.padEnd(11)} ${step.detail}`);
    }
  }

  if (target.kind !== 'account') {
    const ip = target.kind === 'ip' ? target.ip : target.cidr.split('/')[0] as string;
    const allow = new AddressList('allow', config.allow);
    const trunks = new AddressList('trunks', config.trunks);
    const allowed = allow.match(ip);
    const trunk = trunks.match(ip);
    out.push('', `Allowlisted: ${allowed ? `yes (${allowed}), never banned` : 'no'}.  Trunk/customer list: ${trunk ? `yes (${trunk})` : 'no'}.`);
    const pairs = await store.knownGood({ ip, since: now - config['known-good'].remember });
    out.push(pairs.length > 0
      ? `Known-good: ${pairs.map((p) => `${p.account} (last ${when(p.lastSeen)})`).join(', ')}; failures for these accounts are reported as a misconfigured device, not banned.`
      : 'Known-good: no account authenticated from here recently.');
  } else {
    const pairs = await store.knownGood({ account: target.account, since: now - config['known-good'].remember });
    out.push('', pairs.length > 0 ? `Authenticated from: ${pairs.map((p) => `${p.ip} (last ${when(p.lastSeen)}, ${p.count}x)`).join(', ')}` : 'No recent successful authentication.');
    out.push(...incidentLines(await store.incidents({ account: target.account, limit: 5 })));
    const calls = await store.events({ account: target.account, limit: 200 });
    const recent = calls.filter((e) => e.kind === 'call-start' || e.kind === 'call-end').slice(0, 10);
    if (recent.length > 0) {
      out.push('', 'Recent calls (newest first):');
      for (const e of recent) {
        const facts = e.call ? ` ${e.call.disposition ?? ''}${e.call.billSec !== undefined ? ` ${e.call.billSec}s` : ''}` : '';
        out.push(`  ${when(e.at)}  ${e.kind.padEnd(10)} to ${e.destination ?? '?'}${facts}${e.ip ? ` from ${e.ip}` : ''}  [${e.sensor ?? e.server}]`);
      }
    }
  }

  const kinds = Object.entries(counts).map(([k, n]) => `${k} ${count(n ?? 0)}`).join(', ');
  out.push('', `Events stored: ${count(total)}${total > 0 ? ` (${kinds})` : ''}`);
  const events = await store.events({ ...query, limit: 200 });
  const oldestFirst = [...events].reverse();
  const sample = oldestFirst.length <= 8 ? oldestFirst : [...oldestFirst.slice(0, 4), ...oldestFirst.slice(-4)];
  sample.forEach((e, i) => {
    if (oldestFirst.length > 8 && i === 4) out.push(`  ... ${count(total - 8)} more ...`);
    out.push(eventLine(e));
  });

  if (target.kind === 'ip' && active.length === 0) {
    out.push('', 'Distance to a ban (events inside each rule\'s window, now):');
    // The same analyzer as the daemon, so failures from known-good pairs are left out here too.
    const analyzer = new Analyzer(config);
    for (const pair of await store.knownGood({ ip: target.ip, since: now - config['known-good'].remember })) {
      analyzer.knownGood.remember(pair.ip, pair.account, pair.lastSeen);
    }
    for (const e of oldestFirst) if (e.at > now - 86_400_000) analyzer.process(e, e.at);
    analyzer.close();
    for (const p of analyzer.engine.progress(target.ip, now).filter((r) => r.rule.key === 'ip')) {
      out.push(`  ${p.rule.name.padEnd(15)} ${p.count}/${p.rule.threshold} ${p.rule.distinct ? `distinct ${p.rule.distinct}s ` : ''}in ${formatDuration(p.rule.windowMs)} (${p.rule.on.join(', ')}${p.rule.servers ? ` from ${p.rule.servers.join(', ')}` : ''})${p.count > 0 ? ` - ${p.rule.threshold - p.count} more to a ${formatDuration(p.rule.banMs)} ban` : ''}`);
    }
  }

  const past = decisions.filter((d) => !isActive(d, now)).slice(0, 5);
  if (past.length > 0) {
    out.push('', 'Earlier decisions:');
    for (const d of past) {
      const state = d.revokedAt !== undefined ? `revoked ${when(d.revokedAt)} by ${d.revokedBy}: ${d.revokeReason}` : d.action === 'report' ? 'reported, not banned' : d.dryRun ? 'dry-run' : `expired ${d.expiresAt ? when(d.expiresAt) : ''}`;
      out.push(`  #${d.id} ${when(d.at)} ${d.action} ${d.target} (${d.rule ?? d.origin}): ${d.reason} [${state}]`);
    }
  }
  const audit = await store.auditFor(active[0]?.target ?? (target.kind === 'account' ? target.account : label), 5);
  if (audit.length > 0) {
    out.push('', 'Audit:');
    for (const a of audit) out.push(`  ${when(a.at)} ${a.actor} ${a.action} ${a.target}: ${a.reason}${a.detail ? ` (${a.detail})` : ''}`);
  }
  if (active.length > 0) {
    out.push('', `Undo: sipwarden unban ${active[0]?.target} --reason ${shellQuote('customer verified')}`);
  }
  return out.join('\n');
}

/**
 * The enforcer's view of one address, for a kernel backend. Bounded in time: nft 1.0.6's `get element` reads
 * the whole table first, which takes seconds at hundreds of thousands of bans.
 */
async function kernelLookup(config: Config): Promise<BanLookup | undefined> {
  if (config.enforce.dryRun || config.enforce.backend === 'dry-run' || config.enforce.backend === 'command') return undefined;
  const { createEnforcer } = await import('../../enforcers/index.js');
  const enforcer = await createEnforcer(config);
  return async (ip, now) => {
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000).unref());
    try {
      return await Promise.race([enforcer.lookup(ip, now), timeout]);
    } catch {
      return null;
    }
  };
}

export async function whyCommand(text: string, options: WhyOptions): Promise<void> {
  const config = await requireConfig(options.config);
  const store = await openStore(config);
  try {
    const now = Date.now();
    if (options.json) {
      const geo = config.geo ? (await import('../../geo/index.js')).loadGeo(config.geo) : undefined;
      process.stdout.write(`${JSON.stringify(await buildStory(store, config, text, now, geo))}\n`);
      return;
    }
    process.stdout.write(`${await explain(store, config, text, now, await kernelLookup(config))}\n`);
  } finally {
    await store.close();
  }
}

/** Toll-fraud incidents of an account: severity, rules, destinations, calls and minutes, actions with undo. */
function incidentLines(incidents: readonly Incident[]): string[] {
  if (incidents.length === 0) return ['', 'Toll-fraud incidents: none.'];
  const out = ['', 'Toll-fraud incidents (latest first):'];
  for (const incident of incidents) {
    out.push(`  ${incident.id}  ${incident.severity.toUpperCase()}  ${when(incident.openedAt)} .. ${when(incident.updatedAt)}  ${incident.calls} calls, ${incident.answered} answered, ${incident.minutes} min${incident.estimatedCost !== undefined ? `, about ${incident.estimatedCost} ${incident.currency ?? ''}`.trimEnd() : ''}`);
    for (const rule of incident.rules) out.push(`    ${rule.rule.padEnd(3)} ${rule.severity.padEnd(8)} ${rule.detail}`);
    if (incident.sources.length > 0) out.push(`    from ${incident.sources.join(', ')}`);
    if (incident.destinations.length > 0) {
      out.push(`    to ${incident.destinations.slice(0, 5).map((d) => `${d.e164 ?? d.raw}${d.country ? ` ${d.country}` : ''} ${d.tier}`).join(', ')}`);
    }
    for (const action of incident.actions) {
      out.push(`    action ${action.action} ${action.target}${action.dryRun ? ' (monitor-only: not done)' : ''}${action.undo ? `; undo: ${action.undo}` : ''}`);
    }
  }
  return out;
}
