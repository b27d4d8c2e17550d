import { parseDuration } from '../../core/duration.js';
import { buildStory } from '../../explain/story.js';
import { AddressList } from '../../policy/address-list.js';
import type { Decision } from '../../store/types.js';
import { route, type Route, type RouteContext } from '../context.js';
import { auditQuery, emptyQuery, eventQuery, explainParams, incidentQuery, resolveTime, statsQuery } from '../schemas.js';

const MINUTE = 60_000;
/** Bucket sizes the dashboard chart uses: the smallest that gives at most 96 buckets. */
const BUCKETS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 3 * 60 * MINUTE, 6 * 60 * MINUTE, 24 * 60 * MINUTE];
/** Addresses the country tally looks at: the busiest ones carry the picture. */
const COUNTRY_SOURCES = 1000;
const KNOWN_GOOD_CHECK = 5000;
const STATS_CACHE_MS = 5000;

/** Reads: health, explain, events, stats, incidents, audit, metrics. */
export function readRoutes(): Route[] {
  const statsCache = new Map<string, { at: number; value: unknown }>();
  return [
    route({
      method: 'GET', url: '/healthz', role: null, tag: 'health', raw: true, summary: 'Liveness: ok, or degraded (503) when the enforcer is failing; no token needed',
      async handle(_input, { deps, reply }) {
        const health = deps.health();
        const ok = health.enforcer.ok;
        reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', node: health.node });
      },
    }),
    route({
      method: 'GET', url: '/api/v1/health', role: 'viewer', tag: 'health', query: emptyQuery, summary: 'Enforcer, sources and feeds, and the active ban count',
      async handle(_input, { deps }) {
        return deps.health();
      },
    }),
    route({
      method: 'GET', url: '/metrics', role: 'viewer', tag: 'health', raw: true, summary: 'Prometheus metrics (text exposition format)',
      async handle(_input, { deps, reply }) {
        if (!deps.metrics) return reply.status(404).send({ error: 'not-found', message: 'metrics are not enabled' });
        return reply.type(deps.metrics.contentType).send(await deps.metrics.render());
      },
    }),
    route({
      method: 'GET', url: '/api/v1/explain/:target', role: 'viewer', tag: 'explain', params: explainParams,
      summary: 'The story of an address, prefix or account: what `sipwarden why` tells, as JSON with a timeline',
      async handle({ params }, { deps, now }) {
        return buildStory(deps.store, deps.config, params.target, now, deps.geo);
      },
    }),
    route({
      method: 'GET', url: '/api/v1/events', role: 'viewer', tag: 'events', query: eventQuery, summary: 'Events by address, prefix, account, kind and time, newest first',
      async handle({ query }, { deps, now }) {
        const kinds = query.kind === undefined ? undefined : Array.isArray(query.kind) ? query.kind : [query.kind];
        const cidr = query.cidr ?? (query.ip?.includes('/') ? query.ip : undefined);
        const ip = query.ip !== undefined && !query.ip.includes('/') ? query.ip : undefined;
        const events = await deps.store.events({
          ...(ip ? { ip } : {}), ...(cidr ? { cidr } : {}), ...(query.account ? { account: query.account } : {}), ...(kinds ? { kinds } : {}),
          since: resolveTime(query.since, now), until: resolveTime(query.until, now), limit: query.limit,
        });
        return { events };
      },
    }),
    route({
      method: 'GET', url: '/api/v1/stats', role: 'viewer', tag: 'stats', query: statsQuery,
      summary: 'Dashboard counts: events over time by kind, by source, rule and country, top sources and accounts, bans of known-good addresses',
      async handle({ query }, ctx) {
        // A day of a flood is a million events and takes the store a second or two to count: dashboards open on
        // several screens share one answer for a few seconds instead of each asking again.
        const key = `${query.since}|${query.bucket ?? ''}`;
        const cached = statsCache.get(key);
        if (cached && ctx.now - cached.at < STATS_CACHE_MS) return cached.value;
        const value = await stats(ctx, parseDuration(query.since), query.bucket === undefined ? undefined : parseDuration(query.bucket));
        if (statsCache.size > 20) statsCache.clear();
        statsCache.set(key, { at: ctx.now, value });
        return value;
      },
    }),
    route({
      method: 'GET', url: '/api/v1/incidents', role: 'viewer', tag: 'fraud', query: incidentQuery, summary: 'Toll-fraud incidents, most recently updated first',
      async handle({ query }, { deps, now }) {
        const since = resolveTime(query.since, now);
        return { incidents: await deps.store.incidents({ ...(query.account ? { account: query.account } : {}), ...(since !== undefined ? { since } : {}), limit: query.limit }) };
      },
    }),
    route({
      method: 'GET', url: '/api/v1/audit', role: 'viewer', tag: 'audit', query: auditQuery, summary: 'The audit trail, newest first',
      async handle({ query }, { deps, now }) {
        const since = resolveTime(query.since, now);
        return { audit: await deps.store.auditLog({ ...(query.target ? { target: query.target } : {}), ...(since !== undefined ? { since } : {}), limit: query.limit }) };
      },
    }),
  ];
}

async function stats({ deps, now }: RouteContext, periodMs: number, bucketOption: number | undefined) {
  const { store, config, geo } = deps;
  const since = now - periodMs;
  const bucketMs = bucketOption ?? BUCKETS.find((b) => periodMs / b <= 96) ?? BUCKETS.at(-1)!;
  const events = await store.eventStats({ since, until: now + 1, bucketMs, top: COUNTRY_SOURCES });
  const byCountry: Record<string, number> = {};
  const countryOf = (ip: string) => geo?.lookup(ip).country;
  for (const s of events.topSources) {
    const country = countryOf(s.ip) ?? '??';
    byCountry[country] = (byCountry[country] ?? 0) + s.events;
  }
  const topSources = [];
  for (const s of events.topSources.slice(0, 10)) {
    const banned = (await store.listDecisions({ active: true, now, target: s.ip, limit: 1 })).length > 0;
    const country = countryOf(s.ip);
    topSources.push({ ...s, banned, ...(country ? { country } : {}) });
  }
  return {
    since, until: now, bucketMs, series: events.series, byKind: events.byKind, bySource: events.bySource, byRule: await store.countDecisions(since), byCountry,
    topSources, topAccounts: events.topAccounts, activeBans: deps.health().activeBans, knownGoodBans: await knownGoodBans(deps, now),
  };
}

/** Active bans of addresses that logged in recently or are on the trunk/customer list: the tickets about to arrive. */
async function knownGoodBans(deps: RouteContext['deps'], now: number): Promise<(Decision & { why: string })[]> {
  const { store, config } = deps;
  const found = new Map<number, Decision & { why: string }>();
  const pairs = await store.knownGood({ since: now - config['known-good'].remember });
  const accounts = new Map<string, string[]>();
  for (const p of pairs.slice(0, KNOWN_GOOD_CHECK)) accounts.set(p.ip, [...(accounts.get(p.ip) ?? []), p.account]);
  for (const [ip, names] of accounts) {
    for (const d of await store.listDecisions({ active: true, now, target: ip, limit: 5 })) found.set(d.id, { ...d, why: `known-good: ${names.slice(0, 5).join(', ')} authenticated from ${ip}` });
  }
  for (const entry of new AddressList('trunks', config.trunks).entries().slice(0, KNOWN_GOOD_CHECK)) {
    for (const d of await store.listDecisions({ active: true, now, target: entry, limit: 20 })) if (!found.has(d.id)) found.set(d.id, { ...d, why: `on the trunk/customer list (${entry})` });
  }
  return [...found.values()].sort((a, b) => b.id - a.id);
}
