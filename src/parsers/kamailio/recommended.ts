import type { EventKind, Evidence, Transport } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';

/**
 * The script log lines sipwarden documents for Kamailio and OpenSIPS (see xlog.ts in both folders):
 *
 *   sipwarden: auth-failed src=$si port=$sp proto=$pr rc=$var(rc) method=$rm user=[$au] realm=[$ar] ua=[$ua]
 *   sipwarden: auth-ok src=$si port=$sp proto=$pr method=$rm user=[$au] realm=[$ar] ua=[$ua]
 *   sipwarden: scanner src=$si port=$sp proto=$pr method=$rm ua=[$ua]
 *
 * Every server-written value (`$si`, `$sp`, `$pr`, the return code) comes first, right after the fixed marker, and
 * everything a SIP peer controls comes last, in brackets. So the address is read from a fixed position that no
 * header value can reach, and a forged `src=` inside `$au` or `$ua` is just text in the account or user agent.
 * `$si` prints IPv6 without brackets, which is why the port has its own key instead of `$si:$sp`.
 */

export const RECOMMENDED_MARKER = 'sipwarden: ';
export const RECOMMENDED_NAMES = ['auth-failed', 'auth-ok', 'scanner'] as const;
export type RecommendedName = (typeof RECOMMENDED_NAMES)[number];

/** What one auth return code means. Codes not in the table (and "no credentials", "stale nonce") yield nothing. */
export interface RcOutcome {
  kind: EventKind;
  evidence: Evidence;
  reason: string;
}

export interface RecommendedFields {
  name: RecommendedName;
  kind: EventKind;
  evidence: Evidence;
  ip: string;
  port: number;
  transport?: Transport;
  account?: string;
  domain?: string;
  userAgent?: string;
  reason?: string;
}

const HEAD = /^sipwarden: (auth-failed|auth-ok|scanner) src=([0-9A-Fa-f:.]+) port=(\d{1,5}) proto=([A-Za-z]+)(?: rc=(-?\d{1,4}))? method=\S+ /;
const CONNECTION_TRANSPORTS: ReadonlySet<Transport> = new Set<Transport>(['tcp', 'tls', 'ws', 'wss']);
const TRANSPORT_NAMES: ReadonlyMap<string, Transport> = new Map(
  (['udp', 'tcp', 'tls', 'ws', 'wss'] as const).map((t) => [t, t]),
);

/** The word after the marker, so a tampered line can still name its pattern. */
export function recommendedName(text: string, markerAt: number): RecommendedName | null {
  const start = markerAt + RECOMMENDED_MARKER.length;
  for (const name of RECOMMENDED_NAMES) {
    if (text.startsWith(name, start) && text.charCodeAt(start + name.length) === 32) return name;
  }
  return null;
}

/** xlog prints a missing pseudo-variable as `<null>`. */
function value(text: string | undefined): string | undefined {
  return text === undefined || text === '' || text === '<null>' ? undefined : text;
}

/**
 * The bracketed tail `user=[..] realm=[..] ua=[..]` is attacker text and may hold the separators itself; it is
 * split at the first separators, which can only mislabel the sender's own account or user agent.
 */
function bracketed(tail: string): { account?: string; domain?: string; userAgent?: string } {
  const end = tail.endsWith(']') ? tail.length - 1 : tail.length;
  if (tail.startsWith('ua=[')) return { userAgent: value(tail.slice(4, end)) };
  if (!tail.startsWith('user=[')) return {};
  const realmAt = tail.indexOf('] realm=[');
  if (realmAt < 0) return { account: value(tail.slice(6, end)) };
  const uaAt = tail.indexOf('] ua=[', realmAt);
  return {
    account: value(tail.slice(6, realmAt)),
    domain: value(tail.slice(realmAt + 9, uaAt < 0 ? end : uaAt)),
    userAgent: uaAt < 0 ? undefined : value(tail.slice(uaAt + 6, end)),
  };
}

/** Parses `text` from the marker on; null when it is not one of the recommended lines or carries no event. */
export function parseRecommended(text: string, rcOutcomes: ReadonlyMap<number, RcOutcome>): RecommendedFields | null {
  const head = HEAD.exec(text);
  if (!head) return null;
  const name = head[1] as RecommendedName;
  const ip = normalizeIp(head[2] as string);
  const port = Number(head[3]);
  if (!ip || port > 65535) return null;
  const transport = TRANSPORT_NAMES.get((head[4] as string).toLowerCase());
  const overTransport = transport !== undefined && CONNECTION_TRANSPORTS.has(transport);
  let outcome: RcOutcome | undefined;
  if (name === 'auth-failed') {
    outcome = head[5] === undefined ? undefined : rcOutcomes.get(Number(head[5]));
    if (!outcome) return null;
  } else if (name === 'auth-ok') {
    // A successful digest answers our own nonce, which proves the round trip as much as a failed one does.
    outcome = { kind: 'auth-success', evidence: 'verified', reason: 'authenticated' };
  } else {
    outcome = { kind: 'scanner', evidence: 'spoofable', reason: 'scanner user agent dropped' };
  }
  const fields: RecommendedFields = {
    name,
    kind: outcome.kind,
    evidence: overTransport ? 'verified' : outcome.evidence,
    ip,
    port,
    reason: outcome.reason,
  };
  if (transport) fields.transport = transport;
  const { account, domain, userAgent } = bracketed(text.slice(head[0].length));
  if (account !== undefined) fields.account = account;
  if (domain !== undefined) fields.domain = domain;
  if (userAgent !== undefined) fields.userAgent = userAgent;
  return fields;
}

export function countOf(text: string, needle: string): number {
  let count = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) count++;
  return count;
}
