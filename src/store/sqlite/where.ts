import { swError } from '../../core/errors.js';
import type { EventQuery } from '../types.js';
import { cidrRange, containingStarts, ipKey } from './keys.js';

/** WHERE clauses for the queries whose filters are optional; values are always bound, never spliced. */
export interface Where {
  sql: string;
  params: unknown[];
}

export function eventWhere(query: EventQuery): Where {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (query.ip !== undefined) {
    const key = ipKey(query.ip);
    if (key === null) throw swError('SW_ERR_IP', 'events query: ip is not an IPv4 or IPv6 address');
    clauses.push('ip_key = ?');
    params.push(key);
  }
  if (query.cidr !== undefined) {
    const range = cidrRange(query.cidr);
    clauses.push('ip_key BETWEEN ? AND ?');
    params.push(range.start, range.end);
  }
  if (query.account !== undefined) {
    clauses.push('account = ?');
    params.push(query.account);
  }
  if (query.kinds !== undefined && query.kinds.length > 0) {
    clauses.push(`kind IN (${query.kinds.map(() => '?').join(',')})`);
    params.push(...query.kinds);
  }
  if (query.since !== undefined) {
    clauses.push('at >= ?');
    params.push(query.since);
  }
  if (query.until !== undefined) {
    clauses.push('at < ?');
    params.push(query.until);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/**
 * Decisions about an address or prefix: those inside it (their start key lies in its range; CIDR blocks never
 * partly overlap) and those containing it (their start is one of its masked starts and their end reaches past it).
 * Both halves are index lookups on (net_start, net_end). An account matches its exact target.
 */
export function decisionWhere(target: { ip?: string; cidr?: string; account?: string }): Where {
  const clauses: string[] = [];
  const params: unknown[] = [];
  for (const text of [target.ip, target.cidr]) {
    if (text === undefined) continue;
    const range = cidrRange(text);
    const starts = containingStarts(range);
    clauses.push(`net_start BETWEEN ? AND ?`, `(net_start IN (${starts.map(() => '?').join(',')}) AND net_end >= ?)`);
    params.push(range.start, range.end, ...starts, range.end);
  }
  if (target.account !== undefined) {
    clauses.push(`(target = ? AND target_type = 'account')`);
    params.push(target.account);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' OR ')}` : '', params };
}
