import { formatDuration } from '../core/duration.js';
import { swError } from '../core/errors.js';
import type { Decision, Store } from '../store/types.js';

/**
 * Bans and unbans by a person (CLI, API, console): stored and audited the same way wherever they come from.
 * The daemon enforces what is stored here within a second (it polls the store), or at once when told.
 */

export async function manualBan(
  store: Store,
  ban: { target: string; durationMs: number | null; reason: string; actor: string; now: number },
): Promise<Decision> {
  const { target, durationMs, reason, actor, now } = ban;
  const decision = await store.addDecision({
    at: now, target, targetType: 'ip', action: 'ban', origin: 'manual', reason, actor, durationMs,
    expiresAt: durationMs === null ? null : now + durationMs, level: 0, evidence: 'verified', eventCount: 0,
    policy: [{ check: 'manual', result: 'info', detail: `banned by ${actor}` }], dryRun: false,
  });
  await store.audit({ at: now, actor, action: 'ban', target, reason, detail: `decision ${decision.id}${durationMs ? ` for ${formatDuration(durationMs)}` : ' (permanent)'}` });
  return decision;
}

/** Lifts one ban; throws SW_ERR_NOT_FOUND for an unknown id, SW_ERR_ARGUMENT when it is not in force. */
export async function revokeBan(store: Store, id: number, revoke: { reason: string; actor: string; now: number }): Promise<Decision> {
  const decision = await store.decision(id);
  if (!decision) throw swError('SW_ERR_NOT_FOUND', `decision ${id} does not exist`);
  if (!isInForce(decision, revoke.now)) throw swError('SW_ERR_ARGUMENT', `decision ${id} is not a ban in force`);
  return revokeOne(store, decision, revoke);
}

/** Lifts every given ban that is still in force; returns those it lifted. */
export async function revokeBans(store: Store, decisions: readonly Decision[], revoke: { reason: string; actor: string; now: number }): Promise<Decision[]> {
  const lifted: Decision[] = [];
  for (const d of decisions) if (isInForce(d, revoke.now)) lifted.push(await revokeOne(store, d, revoke));
  return lifted;
}

async function revokeOne(store: Store, d: Decision, { reason, actor, now }: { reason: string; actor: string; now: number }): Promise<Decision> {
  const revoked = await store.revokeDecision(d.id, actor, reason, now);
  await store.audit({ at: now, actor, action: 'unban', target: d.target, reason, detail: `decision ${d.id}` });
  return revoked;
}

export function isInForce(d: Decision, now: number): boolean {
  return d.action === 'ban' && !d.dryRun && d.revokedAt === undefined && (d.expiresAt == null || d.expiresAt > now);
}
