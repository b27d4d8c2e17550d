import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiToken, Role, Store } from '../store/types.js';
import { ROLES } from '../store/types.js';

/** Tokens look like `swt_<43 base64url chars>`: 256 random bits, recognisable in a leaked paste. */
export const TOKEN_PREFIX = 'swt_';
export const SESSION_COOKIE = 'sipwarden_session';

export function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Only this is stored: a stolen database does not hand out working tokens. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Who made a request: a token, directly or through a console session. */
export interface Principal {
  token: ApiToken;
  /** `token:<name>`, the actor in the audit trail. */
  actor: string;
  via: 'bearer' | 'session';
  session?: Session;
}

export interface Session {
  id: string;
  tokenId: number;
  csrf: string;
  expiresAt: number;
}

/**
 * Console sessions, in memory: a restart logs everyone out, which is the safe failure. The session id is what
 * the HttpOnly cookie holds; the CSRF token is returned once in the login body and must come back in a header.
 */
export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(private readonly ttlMs: number) {}

  open(tokenId: number, now: number): Session {
    this.sweep(now);
    const session = { id: randomBytes(32).toString('base64url'), tokenId, csrf: randomBytes(24).toString('base64url'), expiresAt: now + this.ttlMs };
    this.byId.set(session.id, session);
    return session;
  }

  get(id: string, now: number): Session | undefined {
    const session = this.byId.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= now) {
      this.byId.delete(id);
      return undefined;
    }
    return session;
  }

  close(id: string): void {
    this.byId.delete(id);
  }

  /** A revoked token ends its sessions at once. */
  closeToken(tokenId: number): void {
    for (const [id, session] of this.byId) if (session.tokenId === tokenId) this.byId.delete(id);
  }

  private sweep(now: number): void {
    for (const [id, session] of this.byId) if (session.expiresAt <= now) this.byId.delete(id);
  }
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Failed token attempts per client address in a fixed window. Past `max`, the address is refused (429) until its
 * window ends, whatever it sends, so guessing costs a minute per ten tries. Bounded: at most `maxClients` addresses
 * are tracked; past that the oldest windows go first.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly max: number,
    private readonly perMs: number,
    private readonly maxClients = 10_000,
  ) {}

  /** Milliseconds until the address may try again; 0 when it may now. */
  retryAfter(ip: string, now: number): number {
    const window = this.windows.get(ip);
    if (!window || now - window.start >= this.perMs) return 0;
    return window.failures >= this.max ? window.start + this.perMs - now : 0;
  }

  fail(ip: string, now: number): void {
    let window = this.windows.get(ip);
    if (!window || now - window.start >= this.perMs) {
      this.windows.delete(ip);
      if (this.windows.size >= this.maxClients) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      window = { start: now, failures: 0 };
      this.windows.set(ip, window);
    }
    window.failures++;
  }
}

/** Looks a presented token up by its hash; revoked tokens do not authenticate. */
export async function findToken(store: Store, presented: string): Promise<ApiToken | undefined> {
  if (!presented.startsWith(TOKEN_PREFIX) || presented.length > 200) return undefined;
  const token = await store.tokenByHash(tokenHash(presented));
  return token && token.revokedAt === undefined ? token : undefined;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}
