import { formatCidr, parseCidr } from '../../core/ip.js';
import { parseDuration } from '../../core/duration.js';
import { manualBan, revokeBans } from '../../policy/manual.js';
import { swError } from '../../core/errors.js';
import type { Decision } from '../../store/types.js';
import { actorName, openStore, requireConfig, requireReason } from '../context.js';
import { expiry, shellQuote, table, when } from '../format.js';

export interface ListOptions {
  config?: string;
  json?: boolean;
}

function targetOf(text: string): string {
  try {
    return formatCidr(parseCidr(text));
  } catch (error) {
    throw swError('SW_ERR_ARGUMENT', `"${text}" is not an IPv4/IPv6 address or prefix`, error);
  }
}

/** `sipwarden list`: the bans in force. */
export async function listCommand(options: ListOptions): Promise<void> {
  const store = await openStore(await requireConfig(options.config));
  try {
    const now = Date.now();
    const bans = await store.activeBans(now);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(bans)}\n`);
      return;
    }
    if (bans.length === 0) {
      process.stdout.write('No active bans.\n');
      return;
    }
    const rows = bans.map((d: Decision) => [
      d.target, d.rule ?? d.origin, when(d.at), expiry(d.expiresAt, now), String(d.level), d.evidence, String(d.eventCount),
      d.origin === 'manual' ? `${d.reason} (by ${d.actor ?? '?'})` : d.reason,
    ]);
    process.stdout.write(`${table([['TARGET', 'RULE', 'SINCE', 'EXPIRES', 'LEVEL', 'EVIDENCE', 'EVENTS', 'REASON'], ...rows])}\n`);
    process.stdout.write(`${bans.length} active ban(s). Explain one: sipwarden why <address>\n`);
  } finally {
    await store.close();
  }
}

export interface BanOptions {
  config?: string;
  for?: string;
  reason?: string;
  actor?: string;
}

/** `sipwarden ban`: a manual ban, recorded and audited; the daemon enforces it within a second. */
export async function banCommand(text: string, options: BanOptions): Promise<void> {
  const target = targetOf(text);
  const reason = requireReason(options.reason, 'ban');
  const durationMs = options.for ? parseDuration(options.for) : null;
  const actor = actorName(options.actor);
  const store = await openStore(await requireConfig(options.config));
  try {
    const now = Date.now();
    const decision = await manualBan(store, { target, durationMs, reason, actor, now });
    process.stdout.write(`Banned ${target} until ${expiry(decision.expiresAt, now)} (decision ${decision.id}).\n`);
    process.stdout.write(`Undo: sipwarden unban ${target} --reason ${shellQuote('...')}\n`);
  } finally {
    await store.close();
  }
}

/** `sipwarden unban`: revokes every active ban on the address or prefix, or covering it. */
export async function unbanCommand(text: string, options: BanOptions): Promise<void> {
  const target = targetOf(text);
  const reason = requireReason(options.reason, 'unban');
  const actor = actorName(options.actor);
  const store = await openStore(await requireConfig(options.config));
  try {
    const now = Date.now();
    const query = target.includes('/') ? { cidr: target } : { ip: target };
    const lifted = await revokeBans(store, await store.decisionsFor(query, 1000), { reason, actor, now });
    if (lifted.length === 0) {
      process.stdout.write(`${target} has no active ban.\n`);
      process.exitCode = 1;
      return;
    }
    for (const d of lifted) process.stdout.write(`Unbanned ${d.target} (decision ${d.id}, ${d.rule ?? d.origin}).\n`);
  } finally {
    await store.close();
  }
}
