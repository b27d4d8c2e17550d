import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Geo } from '../geo/index.js';
import type { Role, Store } from '../store/types.js';
import type { HealthReport } from '../daemon/health.js';
import type { FailureLimiter, Principal, Sessions } from './auth.js';

export type { HealthReport };

export interface ApiDeps {
  config: Config;
  store: Store;
  logger: Logger;
  clock: Clock;
  health(): HealthReport;
  metrics?: { render(): Promise<string>; contentType: string };
  geo?: Geo;
  /** The built console (index.html and assets/); absent or missing: the console is not served. */
  webRoot?: string;
  /** Called after a ban or unban is stored, so the daemon enforces it now instead of at its next poll. */
  onDecisionsChanged?(): void;
}

export interface ApiState {
  sessions: Sessions;
  limiter: FailureLimiter;
}

export interface RouteContext {
  request: FastifyRequest;
  reply: FastifyReply;
  /** Absent only on routes that need no token. */
  principal?: Principal;
  now: number;
  deps: ApiDeps;
  state: ApiState;
}

/**
 * One endpoint: its role, its validated inputs and its handler. The same table builds the server and the
 * OpenAPI document, so the document cannot drift from what is served.
 */
export interface Route<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** The least role that may call it; null for none (health, login). */
  role: Role | null;
  summary: string;
  tag: string;
  query?: Q;
  body?: B;
  params?: P;
  /** Status of a success (default 200). */
  status?: number;
  /** Streams or writes its own reply (SSE, metrics, static). */
  raw?: boolean;
  handle(input: { query: z.output<Q>; body: z.output<B>; params: z.output<P> }, ctx: RouteContext): Promise<unknown>;
}

/** Keeps the generic parameters of a route literal while collecting routes of different shapes in one array. */
export function route<Q extends z.ZodType, B extends z.ZodType, P extends z.ZodType>(r: Route<Q, B, P>): Route {
  return r as unknown as Route;
}
