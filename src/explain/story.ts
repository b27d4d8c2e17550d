import type { Config } from '../config/schema.js';
import { formatDuration } from '../core/duration.js';
import { formatCidr, parseCidr } from '../core/ip.js';
import type { Incident } from '../fraud/incidents.js';
import type { Geo } from '../geo/index.js';
import { Analyzer } from '../pipeline/analyzer.js';
import { AddressList } from '../policy/address-list.js';
import type { AuditEntry, Decision, KnownGoodPair, Store, StoredEvent } from '../store/types.js';

export type ExplainTarget = { kind: 'ip'; ip: string } | { kind: 'cidr'; cidr: string } | { kind: 'account'; account: string };

/** An address, a prefix (a full-length prefix is an address), or else an account name. */
export function classifyTarget(text: string): ExplainTarget {
  try {
    const cidr = parseCidr(text);
    const full = cidr.prefix === (cidr.family === 4 ? 32 : 128);
    return full ? { kind: 'ip', ip: cidr.network } : { kind: 'cidr', cidr: formatCidr(cidr) };
  } catch {
    return { kind: 'account', account: text };
  }
}

export function targetQuery(target: ExplainTarget): { ip?: string; cidr?: string; account?: string } {
  return target.kind === 'ip' ? { ip: target.ip } : target.kind === 'cidr' ? { cidr: target.cidr } : { account: target.account };
}

export function isActiveBan(d: Decision, now: number): boolean {
  return d.action === 'ban' && !d.dryRun && d.revokedAt === undefined && (d.expiresAt == null || d.expiresAt > now);
}

export interface TimelineEntry {
  at: number;
  type: 'event' | 'decision' | 'revoke' | 'audit' | 'incident';
  title: string;
  detail: string;
  id?: number | string;
}

/** The story of one address, prefix or account: what `why` prints, as data (the API's explain). */
export interface Story {
  target: string;
  kind: ExplainTarget['kind'];
  banned: boolean;
  active: Decision[];
  decisions: Decision[];
  allowlisted: string | null;
  trunk: string | null;
  knownGood: KnownGoodPair[];
  country?: string;
  asn?: number;
  organisation?: string;
  counts: Record<string, number>;
  events: StoredEvent[];
  incidents: Incident[];
  audit: AuditEntry[];
  progress: { rule: string; count: number; threshold: number; window: string; ban: string }[];
  timeline: TimelineEntry[];
  undo?: string;
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export async function buildStory(store: Store, config: Config, text: string, now: number, geo?: Geo): Promise<Story> {
  const target = classifyTarget(text);
  const query = targetQuery(target);
  const label = target.kind === 'ip' ? target.ip : target.kind === 'cidr' ? target.cidr : target.account;
  const decisions = await store.decisionsFor(query, 50);
  const active = decisions.filter((d) => isActiveBan(d, now));
  const counts = (await store.countEvents(query)) as Record<string, number>;
  const events = await store.events({ ...query, limit: 200 });
  const story: Story = {
    target: label, kind: target.kind, banned: active.length > 0, active, decisions, allowlisted: null, trunk: null, knownGood: [],
    counts, events, incidents: [], audit: [], progress: [], timeline: [],
  };
  if (target.kind === 'account') {
    story.knownGood = await store.knownGood({ account: target.account, since: now - config['known-good'].remember });
    story.incidents = await store.incidents({ account: target.account, limit: 10 });
  } else {
    const ip = target.kind === 'ip' ? target.ip : target.cidr.split('/')[0]!;
    story.allowlisted = new AddressList('allow', config.allow).match(ip) ?? null;
    story.trunk = new AddressList('trunks', config.trunks).match(ip) ?? null;
    story.knownGood = await store.knownGood({ ip, since: now - config['known-good'].remember });
    const info = geo?.lookup(ip);
    if (info?.country) story.country = info.country;
    if (info?.asn !== undefined) story.asn = info.asn;
    if (info?.org) story.organisation = info.org;
  }
  const auditTargets = new Set([label, ...decisions.map((d) => d.target)]);
  for (const t of auditTargets) story.audit.push(...(await store.auditFor(t, 20)));
  story.audit.sort((a, b) => b.at - a.at);
  if (target.kind === 'ip' && active.length === 0) story.progress = await distanceToBan(store, config, target.ip, events, now);
  story.timeline = timeline(story);
  if (active[0]) story.undo = `sipwarden unban ${active[0].target} --reason ${quote('customer verified')}`;
  return story;
}

/** Replays the address's last day through a fresh analyzer, as the daemon would count it now. */
async function distanceToBan(store: Store, config: Config, ip: string, events: readonly StoredEvent[], now: number): Promise<Story['progress']> {
  const analyzer = new Analyzer(config);
  for (const pair of await store.knownGood({ ip, since: now - config['known-good'].remember })) analyzer.knownGood.remember(pair.ip, pair.account, pair.lastSeen);
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.at > now - 86_400_000) analyzer.process(events[i]!, events[i]!.at);
  analyzer.close();
  return analyzer.engine.progress(ip, now)
    .filter((p) => p.rule.key === 'ip')
    .map((p) => ({ rule: p.rule.name, count: p.count, threshold: p.rule.threshold, window: formatDuration(p.rule.windowMs), ban: formatDuration(p.rule.banMs) }));
}

/** Events, decisions, revocations, audit records and incidents, oldest first. */
function timeline(story: Story): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const e of story.events) {
    const who = [e.account && `account ${e.account}`, e.destination && `to ${e.destination}`].filter(Boolean).join(' ');
    entries.push({ at: e.at, type: 'event', id: e.id, title: `${e.kind}${e.ip ? ` from ${e.ip}` : ''}${who ? ` ${who}` : ''}`, detail: [e.reason, e.userAgent && `User-Agent ${e.userAgent}`, `${e.evidence}${e.sensor ? `, ${e.sensor}` : ''}`].filter(Boolean).join(' · ') });
  }
  for (const d of story.decisions) {
    const by = d.origin === 'manual' ? `by ${d.actor ?? '?'}` : d.origin === 'feed' ? 'feed' : `rule ${d.rule ?? '?'}`;
    const what = d.action === 'report' ? 'reported (not banned)' : d.dryRun ? 'would ban (dry-run)' : `banned ${d.expiresAt ? `for ${formatDuration((d.durationMs ?? d.expiresAt - d.at))}` : 'permanently'}`;
    entries.push({ at: d.at, type: 'decision', id: d.id, title: `${d.target} ${what}, ${by}`, detail: d.reason });
    if (d.revokedAt !== undefined) entries.push({ at: d.revokedAt, type: 'revoke', id: d.id, title: `ban ${d.id} lifted by ${d.revokedBy ?? '?'}`, detail: d.revokeReason ?? '' });
  }
  for (const a of story.audit) entries.push({ at: a.at, type: 'audit', title: `${a.actor} ${a.action} ${a.target}`, detail: `${a.reason}${a.detail ? ` (${a.detail})` : ''}` });
  for (const i of story.incidents) entries.push({ at: i.openedAt, type: 'incident', id: i.id, title: `toll-fraud incident ${i.id}, ${i.severity}`, detail: i.rules.map((r) => r.detail).join('; ') });
  return entries.sort((a, b) => a.at - b.at);
}
