import type { Session } from './types.js';

/**
 * The console's only way to the daemon. The session lives in an HttpOnly cookie the page cannot read; the CSRF
 * token that goes with it is held here, in memory only, and sent back on every mutation. Nothing goes into
 * browser storage or the URL, so a token cannot outlive the tab or leak through history.
 */

/** An error answer of the API (`{error, message, path?}`), or a network failure (`status` 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrf: string | undefined;
let onUnauthorized: () => void = () => undefined;

/** Called when any request answers 401: the session expired or was revoked, so the console shows the login. */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (cause) {
    throw new ApiError(0, 'network', `the daemon cannot be reached (${String(cause)})`);
  }
  const text = await response.text();
  const parsed: unknown = text === '' ? undefined : safeJson(text);
  if (!response.ok) {
    const error = (parsed ?? {}) as { error?: string; message?: string; path?: string };
    if (response.status === 401 && path !== '/session') onUnauthorized();
    throw new ApiError(response.status, error.error ?? 'http', error.message ?? `HTTP ${response.status}`, error.path);
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const api = {
  get: <T>(path: string): Promise<T> => request<T>('GET', path),
  post: <T>(path: string, body: unknown): Promise<T> => request<T>('POST', path, body),
};

/** Exchanges a token for the session cookie; the token itself is forgotten as soon as this returns. */
export async function logIn(token: string): Promise<Session> {
  const session = await request<Session>('POST', '/session', { token });
  csrf = session.csrf;
  return session;
}

/** The session of the cookie this browser holds, or null when there is none (401). */
export async function restoreSession(): Promise<Session | null> {
  try {
    const session = await request<Session>('GET', '/session');
    csrf = session.csrf;
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function logOut(): Promise<void> {
  try {
    await request<unknown>('DELETE', '/session');
  } finally {
    csrf = undefined;
  }
}

/** Path segment or query value, encoded so attacker-chosen text cannot add segments or parameters. */
export const enc = encodeURIComponent;

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
