import { banUntil } from '../format.js';
import { useClock } from '../clock.js';
import type { Decision } from '../types.js';

/** active / expired / revoked / dry-run / report, from the decision alone. */
export function decisionState(decision: Decision, now: number): 'active' | 'expired' | 'revoked' | 'dry-run' | 'report' {
  if (decision.action === 'report') return 'report';
  if (decision.revokedAt !== undefined && decision.revokedAt !== null) return 'revoked';
  if (decision.dryRun) return 'dry-run';
  if (decision.expiresAt !== null && decision.expiresAt !== undefined && decision.expiresAt <= now) return 'expired';
  return 'active';
}

export function DecisionState({ decision }: { decision: Decision }) {
  const state = decisionState(decision, useClock().now());
  const label = state === 'active' ? `banned ${banUntil(decision.expiresAt)}` : state;
  return <span class={`badge ${state === 'active' ? 'bad' : ''}`} title={label}>{state === 'active' ? 'active' : state}</span>;
}
