import { count, shellQuote } from '../cli/format.js';
import { formatDuration } from '../core/duration.js';
import type { FraudChange } from '../fraud/monitor.js';
import type { Decision, PolicyStep } from '../store/types.js';
import { alertTime } from './render.js';
import type { Alert } from './types.js';
import { unbanCommand } from './undo.js';

/**
 * Pure builders from domain objects to alerts: the daemon decides when, these say what. Each returns an alert
 * that names what happened, the evidence, and the command that undoes it (or the next step, when there is
 * nothing to undo). Links to the console are added by the Alerter from `alerts.consoleUrl`.
 */

export interface BanContext {
  /** Accounts that recently authenticated successfully from the banned address (known-good pairs). */
  knownGood: readonly string[];
  /** The trunk/customer list entry the address matches, if any. */
  trunk?: string;
}

/** A ban of a customer (trunk list) or known-good address; undefined for any other decision. */
export function alertForBan(decision: Decision, context: BanContext): Alert | undefined {
  // A manual ban was meant; a dry-run ban blocks nobody and has nothing to undo.
  if (decision.action !== 'ban' || decision.origin === 'manual' || decision.dryRun) return undefined;
  if (context.trunk === undefined && context.knownGood.length === 0) return undefined;
  const customer = context.trunk !== undefined;
  const who = customer ? `on the customer/trunk list (${context.trunk})` : `known-good (recent logins for ${context.knownGood.join(', ')})`;
  const length = decision.durationMs === null || decision.durationMs === undefined ? 'permanently' : `for ${formatDuration(decision.durationMs)}`;
  const by = decision.rule !== undefined ? `rule ${decision.rule}` : `the ${decision.origin}`;
  const evidence = [
    ...(decision.rule !== undefined ? [`rule: ${decision.rule}`] : []),
    `origin: ${decision.origin}`,
    `reason: ${decision.reason}`,
    `evidence: ${decision.evidence}`,
    `events: ${count(decision.eventCount)}${eventSpan(decision)}`,
    ...(customer ? [`customer/trunk list entry: ${context.trunk}`] : []),
    ...(context.knownGood.length > 0 ? [`known-good accounts: ${context.knownGood.join(', ')}`] : []),
    ...(decision.expiresAt ? [`expires: ${alertTime(decision.expiresAt)}`] : []),
    ...policyLines(decision.policy),
  ];
  return {
    kind: customer ? 'customer-ban' : 'known-good-ban',
    severity: customer ? 'critical' : 'warning',
    at: decision.at,
    subject: `banned ${customer ? 'customer' : 'known-good'} address ${decision.target}`,
    what: `${by} banned ${decision.target} ${length}. The address is ${who}, so phones behind it cannot reach the PBX until the ban is lifted. Check the evidence; if the ban is wrong, undo it.`,
    evidence,
    undo: unbanCommand(decision.target),
    target: decision.target,
  };
}

/** A `report` decision for failures from a known-good pair (policy.decideKnownGood); undefined otherwise. */
export function alertForMisconfiguredDevice(decision: Decision): Alert | undefined {
  if (decision.action !== 'report' || !decision.reason.startsWith('misconfigured device')) return undefined;
  const account = decision.policy.find((p) => p.check === 'known-good')?.subjects?.[0];
  const named = account === undefined ? 'an account' : `account ${account}`;
  return {
    kind: 'misconfigured-device',
    severity: 'warning',
    at: decision.at,
    subject: `misconfigured device at ${decision.target}${account === undefined ? '' : ` (account ${account})`}`,
    what: `${decision.target} keeps failing to authenticate for ${named}, which logged in from there recently: most likely a phone with an old password, or one of several phones behind a NAT. It was not banned; fix the device.`,
    evidence: [
      `reason: ${decision.reason}`,
      ...(decision.rule !== undefined ? [`rule: ${decision.rule}`] : []),
      `evidence: ${decision.evidence}`,
      `events: ${count(decision.eventCount)}${eventSpan(decision)}`,
      ...policyLines(decision.policy),
    ],
    undo: `# nothing was banned; the failures: sipwarden why ${shellQuote(decision.target)}`,
    target: decision.target,
  };
}

/** The ban budget for spoofable evidence ran out (policy onBudgetExhausted). */
export function alertForBudget(at: number, used: number, perMs: number): Alert {
  return {
    kind: 'ban-budget',
    severity: 'critical',
    at,
    subject: `ban budget tripped: ${count(used)} bans on spoofable evidence in ${formatDuration(perMs)}`,
    what: `sipwarden made ${count(used)} bans on spoofable evidence (single UDP requests) within ${formatDuration(perMs)} and stops there: further findings of that kind are reported, not banned, until the period passes. A flood of forged sources may be trying to make sipwarden ban innocent addresses.`,
    evidence: [`bans on spoofable evidence: ${count(used)}`, `period: ${formatDuration(perMs)}`, `tripped at: ${alertTime(at)}`],
    undo: '# review the bans: sipwarden list; lift a wrong one: sipwarden unban <ip> --reason ...; raise budget.spoofable in the config',
  };
}

/** The enforcer failed its check, or repaired itself after a failure. */
export function alertForEnforcer(kind: 'failed' | 'healed', detail: string, at: number): Alert {
  const failed = kind === 'failed';
  return {
    kind: failed ? 'enforcer-failed' : 'enforcer-healed',
    severity: failed ? 'critical' : 'info',
    at,
    subject: failed ? 'enforcer failed: bans may not be enforced' : 'enforcer healed: bans are enforced again',
    what: failed
      ? 'The firewall enforcer failed; bans made now may not reach the kernel. sipwarden keeps retrying.'
      : 'The firewall enforcer passes its check again; bans reach the kernel.',
    evidence: [`detail: ${detail}`, `at: ${alertTime(at)}`],
    undo: failed ? 'sipwarden doctor' : '# nothing to undo',
  };
}

/** A log/event source or an intelligence feed stopped working. */
export function alertForSource(kind: 'source' | 'feed', id: string, error: string, at: number): Alert {
  const source = kind === 'source';
  return {
    kind: source ? 'source-down' : 'feed-down',
    severity: 'warning',
    at,
    subject: `${kind} ${id} down`,
    what: source
      ? `Source ${id} stopped delivering; attacks it would show go unseen until it is back. sipwarden restarts it with backoff.`
      : `Feed ${id} could not be fetched; its last good list stays in force.`,
    evidence: [`${kind}: ${id}`, `error: ${error}`, `at: ${alertTime(at)}`],
    undo: source ? 'sipwarden doctor' : 'sipwarden feeds sync',
  };
}

/** A toll-fraud incident that opened or turned critical; undefined for later findings on the same incident. */
export function alertForFraud(change: FraudChange): Alert | undefined {
  if (!change.opened && !change.escalated) return undefined;
  const { incident, finding } = change;
  // Commands stay pasteable; the notes that are not commands (a hangup cannot be undone) become shell comments.
  const undos = incident.actions.flatMap((action) =>
    action.undo === undefined ? [] : [action.undo.startsWith('sipwarden ') ? action.undo : `# ${action.action} ${action.target}: ${action.undo}`]);
  const cost = incident.estimatedCost !== undefined ? `, estimated cost ${incident.estimatedCost.toFixed(2)}${incident.currency ? ` ${incident.currency}` : ''}` : '';
  return {
    kind: 'fraud-incident',
    severity: incident.severity === 'critical' ? 'critical' : 'warning',
    at: finding.at,
    subject: `toll fraud ${change.opened ? 'suspected' : 'now critical'} on account ${incident.account} (${incident.severity})`,
    what: `Account ${incident.account} ${change.opened ? 'shows signs of toll fraud' : 'is now a critical toll-fraud incident'}: ${finding.detail}. Incident ${incident.id}: ${count(incident.calls)} calls, ${count(incident.answered)} answered, ${incident.minutes} billable minutes${cost}.`,
    evidence: [
      ...incident.rules.map((r) => `rule ${r.rule} (${r.severity}): ${r.metric} ${r.value} against ${r.threshold}${r.windowMs > 0 ? ` in ${formatDuration(r.windowMs)}` : ''}: ${r.detail}`),
      ...(incident.sources.length > 0 ? [`from: ${incident.sources.join(', ')}`] : []),
      ...incident.destinations.slice(0, 10).map((d) => `dialled: ${d.raw}${d.e164 && d.e164 !== d.raw ? ` (${d.e164})` : ''}${d.country ? ` ${d.country}` : ''} tier ${d.tier}`),
      ...incident.actions.map((a) => `action: ${a.action} ${a.target}${a.dryRun ? ' (monitor-only: not done)' : ''}`),
    ],
    undo: undos.length > 0 ? undos.join('\n') : `# no action taken; the incident: sipwarden why ${shellQuote(incident.account)}`,
    target: incident.account,
  };
}

function eventSpan(decision: Decision): string {
  const { firstEventAt: first, lastEventAt: last } = decision;
  return first !== undefined && last !== undefined && last > first ? ` between ${alertTime(first)} and ${alertTime(last)}` : '';
}

function policyLines(policy: readonly PolicyStep[]): string[] {
  return policy.map((step) => `policy ${step.check} ${step.result}: ${step.detail}`);
}
