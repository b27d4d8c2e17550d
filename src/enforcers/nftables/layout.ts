import { swError } from '../../core/errors.js';
import type { Family } from '../../core/ip.js';

export interface GuardOptions {
  /** SIP methods to meter, e.g. ['REGISTER', 'INVITE']; matched at the start of the UDP payload. */
  methods: string[];
  /** Requests per second per source, all configured methods together. */
  rate: number;
  burst: number;
  banSeconds: number;
}

export interface Layout {
  table: string;
  scope: 'all-ports' | 'sip-ports';
  sipPorts: number[];
  guard: GuardOptions | null;
}

/** Written on the base chain: how init tells our table from a foreign one without listing any set. */
export const LAYOUT_MARK = 'sipwarden layout 1';
export const BASE_CHAIN = 'prerouting';
export const GUARD_CHAIN = 'guard';
/** Jumps to each feed's chain (nftables/feeds.ts); declared here, filled only by the feed sets. */
export const FEEDS_CHAIN = 'feeds';
/** Bounds the kernel-made sets, so the guard cannot be used to exhaust memory and polling them stays cheap. */
const GUARD_SET_SIZE = 65_536;

/**
 * Single addresses and prefixes live in separate sets. Measured with nft 1.0.6 on Linux 6.18:
 * - every `add element` first downloads the elements of all *interval* sets in the table (its overlap check):
 *   with 200k addresses in an interval set, adding one element takes 7 s. Hash sets are not downloaded, so the
 *   large address sets are hashes and only the (few) prefixes sit in interval sets.
 * - `get element` on an interval set drops the element's counter and a prefix's expiry; on a hash set it
 *   prints both.
 * - an address and a prefix containing it never conflict, because they are in different sets.
 */
export const sets = {
  ban: (f: Family) => `ban${f}`,
  banNet: (f: Family) => `bannet${f}`,
  allow: (f: Family) => `allow${f}`,
  allowNet: (f: Family) => `allownet${f}`,
  guard: (f: Family) => `guard${f}`,
  /** Trunks and customers: the guard never meters them (its bans rest on packet rates, which anyone can forge). */
  guardExempt: (f: Family) => `guardexempt${f}`,
  meter: (f: Family) => `meter${f}`,
};

const FAMILIES: readonly Family[] = [4, 6];
const addrType = (f: Family) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');
const saddr = (f: Family) => (f === 4 ? 'ip saddr' : 'ip6 saddr');

export function validateLayout(layout: Layout): void {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(layout.table)) throw swError('SW_ERR_ENFORCER', `nftables: table name "${layout.table}" must be 1-32 letters, digits, _ or -`);
  for (const port of layout.sipPorts) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw swError('SW_ERR_ENFORCER', `nftables: SIP port ${port} is not 1-65535`);
  }
  if (layout.sipPorts.length === 0) throw swError('SW_ERR_ENFORCER', 'nftables: sipPorts is empty');
  const guard = layout.guard;
  if (!guard) return;
  for (const method of guard.methods) {
    // Method plus the following space must fit one 128-bit raw payload match.
    if (!/^[A-Z]{1,15}$/.test(method)) throw swError('SW_ERR_ENFORCER', `nftables guard: method "${method}" must be 1-15 upper-case letters`);
  }
  if (guard.methods.length === 0) throw swError('SW_ERR_ENFORCER', 'nftables guard: no methods');
  for (const [name, value] of [['rate', guard.rate], ['burst', guard.burst], ['banSeconds', guard.banSeconds]] as const) {
    if (!Number.isInteger(value) || value < 1) throw swError('SW_ERR_ENFORCER', `nftables guard: ${name} must be a whole number ≥ 1, got ${value}`);
  }
}

const portSet = (ports: number[]) => `{ ${ports.join(', ')} }`;

/** What a ban drops: every packet from the source, or only its SIP traffic. */
export function scopeMatch(layout: Layout): string {
  return layout.scope === 'sip-ports' ? `meta l4proto { tcp, udp } th dport ${portSet(layout.sipPorts)} ` : '';
}

/**
 * The base chain's rules, in order: the allowlist first, so nothing below can drop an allowed source (feeds
 * included); then the bans, then the feeds.
 */
export function baseRules(layout: Layout): string[] {
  const match = scopeMatch(layout);
  const rules: string[] = [];
  for (const f of FAMILIES) rules.push(`${saddr(f)} @${sets.allow(f)} accept`, `${saddr(f)} @${sets.allowNet(f)} accept`);
  for (const f of FAMILIES) rules.push(`${match}${saddr(f)} @${sets.ban(f)} drop`, `${match}${saddr(f)} @${sets.banNet(f)} drop`);
  rules.push(`${match}jump ${FEEDS_CHAIN}`);
  if (layout.guard) {
    for (const f of FAMILIES) rules.push(`${match}${saddr(f)} @${sets.guard(f)} drop`);
    rules.push(`jump ${GUARD_CHAIN}`);
  }
  return rules;
}

/** `REGISTER ` as a raw payload match right after the 8-byte UDP header (the space keeps REGISTERX out). */
function methodMatch(method: string): string {
  const bytes = Buffer.from(`${method} `, 'latin1');
  return `@th,64,${bytes.length * 8} 0x${bytes.toString('hex')}`;
}

export function guardRules(layout: Layout): string[] {
  const guard = layout.guard;
  if (!guard) return [];
  const rules: string[] = FAMILIES.map((f) => `${saddr(f)} @${sets.guardExempt(f)} return`);
  for (const method of guard.methods) {
    for (const f of FAMILIES) {
      // One meter per family shared by all methods: the rate applies to the sum of a source's requests.
      rules.push(
        `udp dport ${portSet(layout.sipPorts)} ${methodMatch(method)} ` +
          `update @${sets.meter(f)} { ${saddr(f)} limit rate over ${guard.rate}/second burst ${guard.burst} packets } ` +
          `add @${sets.guard(f)} { ${saddr(f)} timeout ${guard.banSeconds}s } drop`,
      );
    }
  }
  return rules;
}

function guardSetDeclarations(guard: GuardOptions): string[] {
  const lines: string[] = [];
  for (const f of FAMILIES) {
    lines.push(`\tset ${sets.guardExempt(f)} { type ${addrType(f)}; flags interval; }`);
    // The packet path cannot add to interval sets (EOPNOTSUPP from the kernel), so offenders go to hash sets.
    lines.push(`\tset ${sets.guard(f)} { type ${addrType(f)}; size ${GUARD_SET_SIZE}; flags dynamic, timeout; counter; }`);
    // A meter entry lives as long as the source keeps sending; idle sources age out.
    lines.push(`\tset ${sets.meter(f)} { type ${addrType(f)}; size ${GUARD_SET_SIZE}; flags dynamic, timeout; timeout ${Math.max(60, guard.banSeconds)}s; }`);
  }
  return lines;
}

/** The nft text `sipwarden guard` prints: the guard's sets and chain; the base chain jumps to it after the allowlist. */
export function guardRuleset(options: { table?: string; sipPorts?: number[]; guard: GuardOptions }): string {
  const layout: Layout = { table: options.table ?? 'sipwarden', scope: 'all-ports', sipPorts: options.sipPorts ?? [5060, 5061], guard: options.guard };
  validateLayout(layout);
  return [
    `# Kernel flood guard: sources over ${options.guard.rate}/s (burst ${options.guard.burst}) of ${options.guard.methods.join(', ')} on UDP ${layout.sipPorts.join(', ')}`,
    `# are dropped for ${options.guard.banSeconds}s. Chain ${BASE_CHAIN} accepts the allowlist, drops @guard4/@guard6, then jumps here;`,
    `# trunks and customers (@guardexempt4/@guardexempt6) are never metered: packet rates are spoofable evidence.`,
    `table inet ${layout.table} {`,
    ...guardSetDeclarations(options.guard),
    `\tchain ${GUARD_CHAIN} {`,
    ...guardRules(layout).map((rule) => `\t\t${rule}`),
    '\t}',
    '}',
    '',
  ].join('\n');
}

/**
 * Creates or repairs everything, idempotently, in one transaction: sets are declared with `add` semantics (an
 * existing set keeps its elements), the chains are flushed and refilled so their rules are exactly ours.
 */
export function installScript(layout: Layout): string {
  const t = layout.table;
  const lines = [`table inet ${t} {`];
  for (const f of FAMILIES) {
    lines.push(
      `\tset ${sets.allow(f)} { type ${addrType(f)}; }`,
      `\tset ${sets.allowNet(f)} { type ${addrType(f)}; flags interval; }`,
      `\tset ${sets.ban(f)} { type ${addrType(f)}; flags timeout; counter; }`,
      `\tset ${sets.banNet(f)} { type ${addrType(f)}; flags interval, timeout; counter; }`,
    );
  }
  if (layout.guard) lines.push(...guardSetDeclarations(layout.guard), `\tchain ${GUARD_CHAIN} { }`);
  // Declared, never flushed here: its jumps to the feeds' chains survive a repair of the base chain.
  lines.push(`\tchain ${FEEDS_CHAIN} { }`);
  // Priority raw (-300) runs before conntrack: a ban cuts established flows and dropped packets make no entries.
  lines.push(`\tchain ${BASE_CHAIN} { type filter hook prerouting priority raw; policy accept; comment "${LAYOUT_MARK}"; }`, '}');
  lines.push(`flush chain inet ${t} ${BASE_CHAIN}`);
  for (const rule of baseRules(layout)) lines.push(`add rule inet ${t} ${BASE_CHAIN} ${rule}`);
  if (layout.guard) {
    lines.push(`flush chain inet ${t} ${GUARD_CHAIN}`);
    for (const rule of guardRules(layout)) lines.push(`add rule inet ${t} ${GUARD_CHAIN} ${rule}`);
  }
  for (const f of FAMILIES) lines.push(`flush set inet ${t} ${sets.allow(f)}`, `flush set inet ${t} ${sets.allowNet(f)}`);
  if (layout.guard) for (const f of FAMILIES) lines.push(`flush set inet ${t} ${sets.guardExempt(f)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * A check-mode batch that fails unless each chain still holds its last rule: `index N` makes nft fetch the
 * rules but no set elements, so this costs the same with 0 or 1M bans (listing the chain would fetch them all).
 */
export function ruleCountProbe(layout: Layout): string {
  const probes = [`add rule inet ${layout.table} ${BASE_CHAIN} index ${baseRules(layout).length - 1} counter`];
  const guard = guardRules(layout);
  if (guard.length > 0) probes.push(`add rule inet ${layout.table} ${GUARD_CHAIN} index ${guard.length - 1} counter`);
  return `${probes.join('\n')}\n`;
}
