/**
 * What an alert is, independent of how it travels. Builders (build.ts) make these from domain objects; the
 * Alerter rate-limits them per kind and hands them to the channels (email, webhooks), which only format them.
 */

export const ALERT_KINDS = [
  'known-good-ban', // a ban of an address that recently authenticated successfully: a customer's ticket is coming
  'customer-ban', // a ban of an address on the trunk/customer list
  'misconfigured-device', // failures from a known-good pair: a phone with an old password, reported, not banned
  'ban-budget', // the ban budget for spoofable evidence ran out
  'enforcer-failed',
  'enforcer-healed',
  'source-down',
  'feed-down',
  'fraud-incident', // a toll-fraud incident opened or turned critical
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Kinds whose alerts each lift with `sipwarden unban <target>`, so a digest of them can offer one bulk command. */
export const BAN_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>(['known-good-ban', 'customer-ban']);

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof SEVERITIES)[number];

/**
 * One alert. Every string may carry attacker text (user names, User-Agents, dialled numbers, reasons that quote
 * a log line): channels escape it for their markup and never interpret it.
 */
export interface Alert {
  kind: AlertKind;
  severity: AlertSeverity;
  /** When it happened, epoch ms. */
  at: number;
  /** One line: the mail subject, the chat message's title. */
  subject: string;
  /** What happened and what it means for the operator, in a sentence or two. */
  what: string;
  /** The facts behind it, one per line: rule, reason, counts, policy steps. */
  evidence: string[];
  /** The shell command that undoes it (several lines when several things were done). */
  undo?: string;
  /** The console page that explains it; the Alerter fills it in from `consoleUrl` and `target` when absent. */
  link?: string;
  /** The address, prefix or account it is about. */
  target?: string;
  /** Present on the one message that stands for alerts held back by the rate limit. */
  digest?: DigestSummary;
}

export interface DigestSummary {
  /** Alerts held back in the window (the ones sent at once are not counted). */
  count: number;
  since: number;
  until: number;
  /** The first targets seen, each with how many held alerts named it. */
  targets: { target: string; count: number }[];
  /** Held alerts about targets beyond that list (or without a target). */
  otherAlerts: number;
}
