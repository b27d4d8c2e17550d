import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { describeError, swError } from '../core/errors.js';
import { splitHostPort } from '../core/listen.js';
import { ApiError, validate } from './errors.js';
import { FailureLimiter, SESSION_COOKIE, Sessions, findToken, parseCookies, roleAtLeast, sameSecret, type Principal } from './auth.js';
import type { ApiDeps, ApiState, Route, RouteContext } from './context.js';
import { decisionRoutes } from './routes/decisions.js';
import { readRoutes } from './routes/reads.js';
import { sessionRoutes } from './routes/session.js';
import { tokenRoutes } from './routes/tokens.js';
import { streamRoutes, DecisionWatch } from './routes/stream.js';
import { publishRoutes } from './routes/publish.js';
import { openapiRoute } from './openapi.js';
import { consolePath, loadConsole, type ConsoleFiles } from './static.js';

export interface ApiServer {
  readonly address: { host: string; port: number };
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Security headers on every answer: the console runs only its own scripts and is never framed. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const SAFE_METHODS = new Set(['GET', 'HEAD']);
/** Tokens are touched at most this often, so a busy dashboard does not write on every request. */
const TOUCH_MS = 60_000;

/** Every route; `watch` is absent when only the table is wanted (the OpenAPI document of `sipwarden api openapi`). */
export function allRoutes(watch?: DecisionWatch): Route[] {
  return [...sessionRoutes(), ...decisionRoutes(), ...readRoutes(), ...tokenRoutes(), ...streamRoutes(watch), ...publishRoutes(), openapiRoute(() => allRoutes(watch))];
}

/** Starts the HTTP API (and the console, when built and enabled). Throws SW_ERR_CONFIG when it cannot listen. */
export async function startApiServer(deps: ApiDeps): Promise<ApiServer> {
  const api = deps.config.api;
  if (!api) throw swError('SW_ERR_CONFIG', 'api: the config has no api block');
  const app = Fastify({
    logger: false, bodyLimit: 64 * 1024, trustProxy: api.trustProxy, return503OnClosing: true,
    // The route schemas set the real limits (an account name is up to 128 characters); the router's own limit
    // only stops absurd paths, and it and an undecodable URL answer in the API's error format, not fastify's.
    // These answers skip the hooks, so they set the security headers themselves.
    routerOptions: { maxParamLength: 1024 },
    frameworkErrors: (error: Error, _request: unknown, reply: FastifyReply) => {
      void reply.status(400).headers({ ...SECURITY_HEADERS, 'cache-control': 'no-store' })
        .send({ error: 'bad-request', message: `params: ${error.message}`, path: 'params' });
    },
  });
  const state: ApiState = { sessions: new Sessions(api.sessionTtl), limiter: new FailureLimiter(api.failedAuth.max, api.failedAuth.per) };
  const watch = new DecisionWatch(deps.store, deps.logger, deps.clock);
  const touched = new Map<number, number>();
  const files: ConsoleFiles | undefined = api.console && deps.webRoot ? loadConsole(deps.webRoot, deps.logger) : undefined;

  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (request.url.startsWith('/api/') || request.url === '/metrics') reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
      return reply.status(error.status).send(error.body());
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) return reply.status(413).send({ error: 'too-large', message: 'request body is larger than 64 KiB' });
    if (status === 415) return reply.status(415).send({ error: 'bad-request', message: 'send JSON (content-type: application/json)', path: 'body' });
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.status(400).send({ error: 'bad-request', message: `body: ${(error as Error).message}`, path: 'body' });
    }
    deps.logger.error({ err: describeError(error), method: request.method, url: request.routeOptions.url }, 'API request failed');
    return reply.status(500).send({ error: 'internal', message: 'internal error; see the daemon log' });
  });

  app.setNotFoundHandler((request, reply) => {
    if (files && (request.method === 'GET' || request.method === 'HEAD') && !request.url.startsWith('/api/')) {
      const file = files.get(consolePath(request.url));
      if (file) return reply.type(file.type).header('cache-control', file.cache).send(file.body);
    }
    return reply.status(404).send({ error: 'not-found', message: `no ${request.method} ${request.url.split('?')[0]}` });
  });

  async function authenticate(request: FastifyRequest, now: number): Promise<Principal> {
    const wait = state.limiter.retryAfter(request.ip, now);
    if (wait > 0) {
      throw new ApiError(429, 'rate-limited', 'too many failed token attempts from this address; try later', undefined, { 'retry-after': String(Math.ceil(wait / 1000)) });
    }
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const token = match ? await findToken(deps.store, match[1]!) : undefined;
      if (!token) {
        state.limiter.fail(request.ip, now);
        deps.logger.warn({ ip: request.ip, url: request.routeOptions.url }, 'API request with an invalid token');
        throw new ApiError(401, 'unauthorized', 'invalid or revoked token');
      }
      return { token, actor: `token:${token.name}`, via: 'bearer' };
    }
    const sessionId = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    const session = sessionId ? state.sessions.get(sessionId, now) : undefined;
    const token = session ? (await deps.store.tokens()).find((t) => t.id === session.tokenId && t.revokedAt === undefined) : undefined;
    if (!session || !token) throw new ApiError(401, 'unauthorized', 'send Authorization: Bearer <token>, or log in to the console');
    if (!SAFE_METHODS.has(request.method)) {
      const csrf = request.headers['x-csrf-token'];
      if (typeof csrf !== 'string' || !sameSecret(csrf, session.csrf)) throw new ApiError(403, 'csrf', 'missing or wrong X-CSRF-Token header');
    }
    return { token, actor: `token:${token.name}`, via: 'session', session };
  }

  function register(route: Route): void {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const now = deps.clock.now();
        const ctx: RouteContext = { request, reply, now, deps, state };
        if (route.role !== null) {
          const principal = await authenticate(request, now);
          if (!roleAtLeast(principal.token.role, route.role)) {
            throw new ApiError(403, 'forbidden', `this needs the ${route.role} role; token ${principal.token.name} is ${principal.token.role}`);
          }
          ctx.principal = principal;
          if ((touched.get(principal.token.id) ?? 0) + TOUCH_MS <= now) {
            touched.set(principal.token.id, now);
            await deps.store.touchToken(principal.token.id, now);
          }
        }
        const input = {
          query: route.query ? validate(route.query, request.query, 'query') : undefined,
          body: route.body ? validate(route.body, request.body, 'body') : undefined,
          params: route.params ? validate(route.params, request.params, 'params') : undefined,
        };
        const result = await route.handle(input, ctx);
        if (route.raw) return reply;
        return reply.status(route.status ?? 200).send(result);
      },
    });
  }

  for (const r of allRoutes(watch)) register(r);
  const { host, port } = splitHostPort(api.listen);
  try {
    await app.listen({ host, port });
  } catch (error) {
    throw swError('SW_ERR_CONFIG', `api.listen: cannot listen on ${api.listen}: ${describeError(error)}`, error);
  }
  const bound = app.server.address();
  const address = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : { host, port };
  return {
    address,
    app,
    async close() {
      watch.close();
      await app.close();
    },
  };
}
