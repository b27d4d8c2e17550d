import type { z } from 'zod';

export type ApiErrorCode = 'bad-request' | 'unauthorized' | 'forbidden' | 'csrf' | 'not-found' | 'conflict' | 'rate-limited' | 'too-large' | 'internal';

/** An error the API answers with its own status and JSON body; anything else is a 500 that says nothing inside. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly path?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): { error: ApiErrorCode; message: string; path?: string } {
    return { error: this.code, message: this.message, ...(this.path !== undefined ? { path: this.path } : {}) };
  }
}

/** Validates a body or query; the first problem becomes a 400 naming its path (`body.reason`, `query.limit`). */
export function validate<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query' | 'params'): z.output<T> {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // An unknown field is reported on its object; name the field itself, so the caller sees which one to drop.
  const field = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
  const path = [where, ...issue.path.map(String), ...field].join('.');
  throw new ApiError(400, 'bad-request', `${path}: ${issue.message}`, path);
}

export const notFound = (what: string): ApiError => new ApiError(404, 'not-found', `${what} not found`);
