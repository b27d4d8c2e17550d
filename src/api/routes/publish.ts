import { z } from 'zod';
import type { PublishKeyConfig } from '../../config/schema.js';
import { normalizeIp } from '../../core/ip.js';
import { PublishedFeed, formatFeedId, parseFeedId } from '../../publish/feed.js';
import { findPublishKey } from '../../publish/keys.js';
import { route, type Route, type RouteContext } from '../context.js';

/**
 * Our decisions as an APIBAN-compatible feed (shapes: docs/api.md, Publishing). APIBAN clients know only their
 * key, not our tokens, so these routes take no token (role null) and check the publish key themselves, and they
 * answer in APIBAN's shapes, not the API's error format. Never log a request path here: v1 carries the key in it.
 */

interface ApibanAnswer {
  status: number;
  body: { ipaddress: string[] | string; ID: string };
  headers?: Record<string, string>;
}

const NO_NEW_BANS: ApibanAnswer = { status: 400, body: { ipaddress: ['no new bans'], ID: 'none' } };
const NOT_BLOCKED: ApibanAnswer = { status: 404, body: { ipaddress: ['not blocked'], ID: 'none' } };
const UNAUTHORIZED: ApibanAnswer = { status: 403, body: { ipaddress: 'none', ID: 'unauthorized' } };
const badInput = (what: string): ApibanAnswer => ({ status: 400, body: { ipaddress: [what], ID: 'none' } });

/** v2 sets: every decision of ours is about SIP, so `http` is an empty set rather than an error. */
const SETS = ['sip', 'all', 'http'];

const keyParams = z.object({ key: z.string().max(256) });
const bannedParams = z.object({ key: z.string().max(256), id: z.string().max(64) });
const checkParams = z.object({ key: z.string().max(256), ip: z.string().max(64) });
// Strict, like every body of the API: APIBAN v2 clients send exactly these fields.
const v2Get = z.strictObject({ set: z.string().max(16).optional(), id: z.union([z.string().max(64), z.number().int().nonnegative()]) });
const v2Check = z.strictObject({ set: z.string().max(16).optional(), ipaddress: z.string().max(64) });

function send(ctx: RouteContext, answer: ApibanAnswer): void {
  void ctx.reply.status(answer.status).headers(answer.headers ?? {}).send(answer.body);
}

/**
 * The key the client presented, checked against publish.keys in constant time. A wrong key counts as a failed
 * attempt of the client address in the API's limiter (shared with token logins), and a locked-out address is
 * refused before its key is looked at, so keys cannot be guessed faster than tokens.
 */
function authorize(ctx: RouteContext, presented: string | undefined): PublishKeyConfig | ApibanAnswer {
  const { state, request, now, deps } = ctx;
  const wait = state.limiter.retryAfter(request.ip, now);
  if (wait > 0) {
    return { status: 429, body: { ipaddress: 'rate limit exceeded', ID: 'unauthorized' }, headers: { 'retry-after': String(Math.ceil(wait / 1000)) } };
  }
  const key = presented === undefined ? undefined : findPublishKey(deps.config.publish?.keys ?? [], presented);
  if (key) return key;
  state.limiter.fail(request.ip, now);
  deps.logger.warn({ ip: request.ip }, 'publish feed request with an unknown key');
  return UNAUTHORIZED;
}

function bearer(ctx: RouteContext): string | undefined {
  const header = ctx.request.headers.authorization;
  return header === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(header)?.[1];
}

function feedOf(ctx: RouteContext, key: PublishKeyConfig): PublishedFeed {
  return new PublishedFeed(ctx.deps.store, ctx.deps.config, key, ctx.now);
}

async function banned(ctx: RouteContext, presented: string | undefined, id: string | undefined, set = 'sip'): Promise<ApibanAnswer> {
  const key = authorize(ctx, presented);
  if ('status' in key) return key;
  if (!SETS.includes(set)) return badInput(`unknown set; expected ${SETS.join(', ')}`);
  const after = parseFeedId(id);
  if (after === null) return badInput('ID must be a number from an earlier answer, or 100 to start');
  if (set === 'http') return NO_NEW_BANS;
  const page = await feedOf(ctx, key).page(after);
  if (page.next === undefined) return NO_NEW_BANS;
  return { status: 200, body: { ipaddress: page.addresses, ID: formatFeedId(page.next) } };
}

async function check(ctx: RouteContext, presented: string | undefined, text: string, set = 'sip'): Promise<ApibanAnswer> {
  const key = authorize(ctx, presented);
  if ('status' in key) return key;
  if (!SETS.includes(set)) return badInput(`unknown set; expected ${SETS.join(', ')}`);
  const ip = normalizeIp(text.trim());
  if (!ip) return badInput('not an IPv4 or IPv6 address');
  if (set === 'http') return NOT_BLOCKED;
  const ban = await feedOf(ctx, key).check(ip);
  return ban ? { status: 200, body: { ipaddress: [ip], ID: formatFeedId(ban.id) } } : NOT_BLOCKED;
}

/**
 * `/api/v1/...` belongs to the token API. Its static routes win in the router anyway; a path under it that no
 * route serves must not turn into a publish request for a key named "v1" (which could never be valid: keys are at
 * least 16 characters), so it gets the API's 404 and costs the client no failed attempt.
 */
function tokenNamespace(ctx: RouteContext, key: string): boolean {
  if (key !== 'v1') return false;
  void ctx.reply.status(404).send({ error: 'not-found', message: `no ${ctx.request.method} ${ctx.request.url.split('?')[0]}` });
  return true;
}

export function publishRoutes(): Route[] {
  return [
    route({
      method: 'GET', url: '/api/:key/banned', role: null, tag: 'publish', params: keyParams, raw: true,
      summary: 'APIBAN v1: the first 250 published bans; ID is what to ask with next; 400 "no new bans" at the end',
      async handle({ params }, ctx) {
        if (!tokenNamespace(ctx, params.key)) send(ctx, await banned(ctx, params.key, undefined));
      },
    }),
    route({
      method: 'GET', url: '/api/:key/banned/:id', role: null, tag: 'publish', params: bannedParams, raw: true,
      summary: 'APIBAN v1: up to 250 published bans after ID (100 or 0: from the start)',
      async handle({ params }, ctx) {
        if (!tokenNamespace(ctx, params.key)) send(ctx, await banned(ctx, params.key, params.id));
      },
    }),
    route({
      method: 'GET', url: '/api/:key/check/:ip', role: null, tag: 'publish', params: checkParams, raw: true,
      summary: 'APIBAN v1: whether a published ban covers the address (200 with the decision id, else 404 "not blocked")',
      async handle({ params }, ctx) {
        if (!tokenNamespace(ctx, params.key)) send(ctx, await check(ctx, params.key, params.ip));
      },
    }),
    route({
      method: 'POST', url: '/api/get', role: null, tag: 'publish', body: v2Get, raw: true,
      summary: 'APIBAN v2: published bans after id (Authorization: Bearer KEY; set sip, all or http)',
      async handle({ body }, ctx) {
        send(ctx, await banned(ctx, bearer(ctx), String(body.id), body.set));
      },
    }),
    route({
      method: 'POST', url: '/api/check', role: null, tag: 'publish', body: v2Check, raw: true,
      summary: 'APIBAN v2: whether a published ban covers ipaddress (Authorization: Bearer KEY)',
      async handle({ body }, ctx) {
        send(ctx, await check(ctx, bearer(ctx), body.ipaddress, body.set));
      },
    }),
    route({
      method: 'GET', url: '/ipset/:key/list', role: null, tag: 'publish', params: keyParams, raw: true,
      summary: 'Every published address and prefix, one per line (text/plain), for ipset, pfSense/OPNsense URL tables',
      async handle({ params }, ctx) {
        const key = authorize(ctx, params.key);
        if ('status' in key) return send(ctx, key);
        const entries = await feedOf(ctx, key).list();
        void ctx.reply.status(200).type('text/plain; charset=utf-8').header('cache-control', 'no-store')
          .send(entries.length > 0 ? `${entries.join('\n')}\n` : '');
      },
    }),
  ];
}
