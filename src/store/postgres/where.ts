import { swError } from '../../core/errors.js';
import { normalizeIp } from '../../core/ip.js';
import type { DecisionQuery, EventQuery } from '../types.js';
import type { Params } from './db.js';
import { cidrParam } from './rows.js';

/** WHERE clauses for the queries whose filters are optional; values are always bound, never spliced. */

const where = (clauses: string[]): string => (clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '');

/** An address as an `inet` parameter, folded like stored ones (IPv4-mapped IPv6 is IPv4); throws SW_ERR_IP. */
export function inetParam(ip: string, what: string): string {
  const canonical = normalizeIp(ip);
  if (canonical === null) throw swError('SW_ERR_IP', `${what}: ip is not an IPv4 or IPv6 address`);
  return canonical;
}

export function eventWhere(query: EventQuery, params: Params): string {
  const clauses: string[] = [];
  if (query.ip !== undefined) clauses.push(`ip_net = ${params.add(inetParam(query.ip, 'events query'), 'inet')}`);
  if (query.cidr !== undefined) clauses.push(`ip_net <<= ${params.add(cidrParam(query.cidr), 'cidr')}`);
  if (query.account !== undefined) clauses.push(`account = ${params.add(query.account)}`);
  if (query.kinds !== undefined && query.kinds.length > 0) clauses.push(`kind = ANY(${params.add(query.kinds, 'text[]')})`);
  if (query.since !== undefined) clauses.push(`at >= ${params.add(query.since)}`);
  if (query.until !== undefined) clauses.push(`at < ${params.add(query.until)}`);
  return where(clauses);
}

/**
 * Decisions about an address or prefix: those whose network lies inside it or contains it (`&&`, answered by
 * the GiST index; CIDR blocks never partly overlap). An account matches its exact target. Alternatives are
 * joined with OR, so the result is one parenthesised condition.
 */
export function decisionTargetCondition(target: { ip?: string; cidr?: string; account?: string }, params: Params): string {
  const alternatives: string[] = [];
  for (const value of [target.ip, target.cidr]) {
    if (value !== undefined) alternatives.push(`net && ${params.add(cidrParam(value), 'cidr')}`);
  }
  if (target.account !== undefined) alternatives.push(`(target = ${params.add(target.account)} AND target_type = 'account')`);
  return alternatives.length > 0 ? `(${alternatives.join(' OR ')})` : 'true';
}

const ACTIVE = (now: string): string => `(action = 'ban' AND NOT dry_run AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${now}))`;

/** Bans in force at `now`: not revoked, not dry-run, not expired (matches the decisions_active index). */
export function activeCondition(now: number, params: Params): string {
  return ACTIVE(params.add(now));
}

/** The filters of the decision list (API and console). `now` defaults to the store's clock. */
export function decisionListWhere(query: DecisionQuery, now: number, params: Params): string {
  const clauses: string[] = [];
  if (query.target !== undefined) {
    clauses.push(decisionTargetCondition(query.target.includes('/') ? { cidr: query.target } : { ip: query.target }, params));
  }
  if (query.account !== undefined) clauses.push(`target = ${params.add(query.account)} AND target_type = 'account'`);
  if (query.active !== undefined) {
    const active = activeCondition(query.now ?? now, params);
    // An active ban's fields are all non-null but expires_at, which the condition handles, so NOT is exact.
    clauses.push(query.active ? active : `NOT ${active}`);
  }
  if (query.rule !== undefined) clauses.push(`rule = ${params.add(query.rule)}`);
  if (query.origin !== undefined) clauses.push(`origin = ${params.add(query.origin)}`);
  if (query.action !== undefined) clauses.push(`action = ${params.add(query.action)}`);
  if (query.since !== undefined) clauses.push(`at >= ${params.add(query.since)}`);
  if (query.until !== undefined) clauses.push(`at < ${params.add(query.until)}`);
  if (query.beforeId !== undefined) clauses.push(`id < ${params.add(query.beforeId)}`);
  return where(clauses);
}
