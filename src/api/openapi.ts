import { z } from 'zod';
import { VERSION } from '../core/version.js';
import { route, type Route } from './context.js';
import { emptyQuery } from './schemas.js';


const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' }, path: { type: 'string' } },
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** The OpenAPI 3.1 document of the routes the server registers (the same table). */
export function openapiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [['query', r.query], ['path', r.params]] as const) {
      if (!schema) continue;
      const s = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, prop] of Object.entries(s.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name) && !(prop as { default?: unknown }).hasOwnProperty('default'), schema: prop });
      }
    }
    const status = String(r.status ?? 200);
    const errors = {
      ...(r.body || r.query || r.params ? { 400: { description: 'bad request: the path of the first problem', content: { 'application/json': { schema: errorSchema } } } } : {}),
      ...(r.role ? {
        401: { description: 'no valid token', content: { 'application/json': { schema: errorSchema } } },
        403: { description: 'role too low, or a console mutation without its CSRF token', content: { 'application/json': { schema: errorSchema } } },
        429: { description: 'too many failed token attempts from this address', content: { 'application/json': { schema: errorSchema } } },
      } : {}),
    };
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.role ? { security: [{ bearer: [] }, { session: [] }], 'x-sipwarden-role': r.role } : { security: [] }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } } : {}),
      responses: { [status]: { description: 'success' }, ...errors },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'sipwarden API', version: VERSION, description: 'Decisions, explain, events, stats, incidents, audit and tokens of a sipwarden node. Roles: viewer < operator < admin.' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a token from `sipwarden token create --role R --name N`' },
        session: { type: 'apiKey', in: 'cookie', name: 'sipwarden_session', description: 'console session; mutations also need the X-CSRF-Token header' },
      },
    },
    paths,
  };
}

export function openapiRoute(routes: () => Route[]): Route {
  return route({
    method: 'GET', url: '/api/v1/openapi.json', role: 'viewer', tag: 'meta', query: emptyQuery, summary: 'This API as OpenAPI 3.1',
    async handle() {
      return openapiDocument(routes());
    },
  });
}
