import { newToken, tokenHash } from '../auth.js';
import { ApiError, notFound } from '../errors.js';
import { route, type Route } from '../context.js';
import { emptyQuery, idParams, tokenBody } from '../schemas.js';

/** Token management, for admins. The secret is shown once, at creation; only its hash is kept. */
export function tokenRoutes(): Route[] {
  return [
    route({
      method: 'GET', url: '/api/v1/tokens', role: 'admin', tag: 'tokens', summary: 'List tokens (never their secrets)', query: emptyQuery,
      async handle(_input, { deps }) {
        return { tokens: await deps.store.tokens() };
      },
    }),
    route({
      method: 'POST', url: '/api/v1/tokens', role: 'admin', tag: 'tokens', summary: 'Create a token; the response is the only time it is shown', body: tokenBody, status: 201,
      async handle({ body }, { deps, principal, now }) {
        const secret = newToken();
        let created;
        try {
          created = await deps.store.addToken({ name: body.name, role: body.role, hash: tokenHash(secret), createdAt: now, createdBy: principal!.actor });
        } catch (error) {
          if (error instanceof Error && /already exists/.test(error.message)) throw new ApiError(409, 'conflict', error.message, 'body.name');
          throw error;
        }
        await deps.store.audit({ at: now, actor: principal!.actor, action: 'token-create', target: `token:${created.name}`, reason: `role ${created.role}`, detail: `token ${created.id}` });
        return { token: secret, id: created.id, name: created.name, role: created.role };
      },
    }),
    route({
      method: 'DELETE', url: '/api/v1/tokens/:id', role: 'admin', tag: 'tokens', summary: 'Revoke a token (its console sessions end too)', params: idParams,
      async handle({ params }, { deps, principal, now, state }) {
        const revoked = await deps.store.revokeToken(params.id, now);
        if (!revoked) throw notFound(`token ${params.id}`);
        // The store keeps the first revocation; a second one changed nothing and is not audited again.
        if (revoked.revokedAt !== now) throw new ApiError(409, 'conflict', `token ${params.id} was already revoked`);
        state.sessions.closeToken(revoked.id);
        await deps.store.audit({ at: now, actor: principal!.actor, action: 'token-revoke', target: `token:${revoked.name}`, reason: 'revoked through the API', detail: `token ${revoked.id}` });
        return { token: revoked };
      },
    }),
  ];
}
