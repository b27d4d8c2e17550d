import { ApiError } from '../errors.js';
import { SESSION_COOKIE, findToken, parseCookies } from '../auth.js';
import { route, type Route, type RouteContext } from '../context.js';
import { sessionBody } from '../schemas.js';

/** `Secure` when the browser reached us over TLS (directly, or through a proxy we trust to say so). */
function secure(ctx: RouteContext): string {
  return ctx.request.protocol === 'https' ? '; Secure' : '';
}

/** The console's login: a token exchanged once for an HttpOnly cookie and a CSRF token kept in page memory. */
export function sessionRoutes(): Route[] {
  return [
    route({
      method: 'POST', url: '/api/v1/session', role: null, tag: 'session', body: sessionBody,
      summary: 'Log in to the console: exchange a token for an HttpOnly session cookie and a CSRF token',
      async handle({ body }, ctx) {
        const { state, deps, request, now } = ctx;
        const wait = state.limiter.retryAfter(request.ip, now);
        if (wait > 0) throw new ApiError(429, 'rate-limited', 'too many failed logins from this address; try later', undefined, { 'retry-after': String(Math.ceil(wait / 1000)) });
        const token = await findToken(deps.store, body.token);
        if (!token) {
          state.limiter.fail(request.ip, now);
          await deps.store.audit({ at: now, actor: `client:${request.ip}`, action: 'login-failed', target: 'console', reason: 'invalid or revoked token' });
          deps.logger.warn({ ip: request.ip }, 'console login with an invalid token');
          throw new ApiError(401, 'unauthorized', 'invalid or revoked token');
        }
        const session = state.sessions.open(token.id, now);
        await deps.store.audit({ at: now, actor: `token:${token.name}`, action: 'login', target: 'console', reason: `console session from ${request.ip}` });
        const maxAge = Math.floor((session.expiresAt - now) / 1000);
        ctx.reply.header('set-cookie', `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure(ctx)}`);
        return { name: token.name, role: token.role, csrf: session.csrf, expiresAt: session.expiresAt };
      },
    }),
    route({
      method: 'GET', url: '/api/v1/session', role: 'viewer', tag: 'session', summary: 'The current session or token: name, role, CSRF token',
      async handle(_input, { principal }) {
        const p = principal!;
        return { name: p.token.name, role: p.token.role, via: p.via, ...(p.session ? { csrf: p.session.csrf, expiresAt: p.session.expiresAt } : {}) };
      },
    }),
    route({
      method: 'DELETE', url: '/api/v1/session', role: 'viewer', tag: 'session', summary: 'Log out of the console',
      async handle(_input, ctx) {
        const id = parseCookies(ctx.request.headers.cookie).get(SESSION_COOKIE);
        if (id) ctx.state.sessions.close(id);
        ctx.reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure(ctx)}`);
        return { ok: true };
      },
    }),
  ];
}
