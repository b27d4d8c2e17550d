import { parseDuration } from '../../core/duration.js';
import { isSipwardenError } from '../../core/errors.js';
import { manualBan, revokeBan, revokeBans } from '../../policy/manual.js';
import type { Decision } from '../../store/types.js';
import { ApiError, notFound } from '../errors.js';
import { route, type Route, type RouteContext } from '../context.js';
import { banBody, bulkUnbanBody, decisionListQuery, idParams, resolveTime, revokeBody } from '../schemas.js';

const BULK_MAX = 100_000;

function changed(ctx: RouteContext): void {
  ctx.deps.onDecisionsChanged?.();
}

/** Decisions: list, read, ban by hand, lift one, lift many (a prefix or a rule). */
export function decisionRoutes(): Route[] {
  return [
    route({
      method: 'GET', url: '/api/v1/decisions', role: 'viewer', tag: 'decisions', query: decisionListQuery,
      summary: 'List decisions, newest first, with filters and paging (next is the `before` of the next page)',
      async handle({ query }, { deps, now }) {
        const { before, since, until, ...rest } = query;
        const decisions = await deps.store.listDecisions({
          ...rest, now, ...(before !== undefined ? { beforeId: before } : {}),
          ...(since !== undefined ? { since: resolveTime(since, now) } : {}), ...(until !== undefined ? { until: resolveTime(until, now) } : {}),
        });
        const last = decisions.at(-1);
        return { decisions, next: decisions.length === query.limit && last ? last.id : null };
      },
    }),
    route({
      method: 'GET', url: '/api/v1/decisions/:id', role: 'viewer', tag: 'decisions', params: idParams, summary: 'One decision with its audit records',
      async handle({ params }, { deps }) {
        const decision = await deps.store.decision(params.id);
        if (!decision) throw notFound(`decision ${params.id}`);
        // `decision 1` is a prefix of `decision 12`'s records: the id must end where the number does.
        const own = new RegExp(`^decision ${decision.id}\\b`);
        const audit = (await deps.store.auditFor(decision.target, 100)).filter((a) => a.detail !== undefined && own.test(a.detail));
        return { decision, audit };
      },
    }),
    route({
      method: 'POST', url: '/api/v1/decisions', role: 'operator', tag: 'decisions', body: banBody, status: 201,
      summary: 'Ban an address or prefix by hand (audited); duration absent or null is permanent',
      async handle({ body }, ctx) {
        const { deps, principal, now } = ctx;
        const durationMs = body.duration == null ? null : parseDuration(body.duration);
        const decision = await manualBan(deps.store, { target: body.target, durationMs, reason: body.reason, actor: principal!.actor, now });
        changed(ctx);
        return { decision };
      },
    }),
    route({
      method: 'POST', url: '/api/v1/decisions/:id/revoke', role: 'operator', tag: 'decisions', params: idParams, body: revokeBody,
      summary: 'Lift one ban (audited); 409 when it is not in force',
      async handle({ params, body }, ctx) {
        try {
          const decision = await revokeBan(ctx.deps.store, params.id, { reason: body.reason, actor: ctx.principal!.actor, now: ctx.now });
          changed(ctx);
          return { decision };
        } catch (error) {
          if (isSipwardenError(error, 'SW_ERR_NOT_FOUND')) throw notFound(`decision ${params.id}`);
          if (isSipwardenError(error, 'SW_ERR_ARGUMENT')) throw new ApiError(409, 'conflict', error.message);
          throw error;
        }
      },
    }),
    route({
      method: 'POST', url: '/api/v1/unban', role: 'operator', tag: 'decisions', body: bulkUnbanBody,
      summary: 'Lift every active ban inside or covering a prefix, and/or made by a rule (audited, one record per ban)',
      async handle({ body }, ctx) {
        const { deps, principal, now } = ctx;
        const active: Decision[] = [];
        let before: number | undefined;
        // Pages of active bans, so a bulk unban of a big rule never loads every decision ever made.
        for (;;) {
          const page = await deps.store.listDecisions({
            active: true, now, limit: 1000, ...(body.target ? { target: body.target } : {}), ...(body.rule ? { rule: body.rule } : {}),
            ...(before !== undefined ? { beforeId: before } : {}),
          });
          active.push(...page);
          if (page.length < 1000 || active.length >= BULK_MAX) break;
          before = page.at(-1)!.id;
        }
        const revoked = await revokeBans(deps.store, active, { reason: body.reason, actor: principal!.actor, now });
        if (revoked.length > 0) changed(ctx);
        return { revoked };
      },
    }),
  ];
}
