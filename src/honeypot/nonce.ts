import { createHmac, randomBytes } from 'node:crypto';

/**
 * The honeypot's own nonces: `<seconds>/<salt><mac>`, shaped like Asterisk's `<seconds>/<32 hex>`. The MAC binds
 * the nonce to the time it was issued and to the transport, address and port it was sent to, under a secret
 * that never leaves the process. So a nonce that comes back from that same address and port proves a round
 * trip (the sender received our response: its source address is real), and no per-source table is needed to
 * know it: nothing an attacker sends can grow the honeypot's memory here.
 */

export type NonceState = 'fresh' | 'stale' | 'foreign';

export interface NonceOptions {
  /** Default: 32 random bytes, new for each process. */
  secret?: Buffer;
  /** A nonce is fresh this long (Asterisk's default nonce lifetime is 32 s). */
  lifetimeMs?: number;
  /** Past its lifetime and within this age it is `stale`: ours, but too old to accept (RFC 2617 stale=true). */
  staleMs?: number;
}

export interface NonceSource {
  transport: string;
  ip: string;
  port: number;
}

const SALT_HEX = 8;
const MAC_HEX = 24;
const NONCE = /^(\d{1,12})\/([0-9a-f]{8})([0-9a-f]{24})$/;
/** A nonce dated this far ahead of our clock is not one we issued (allowing for a clock stepped back a little). */
const FUTURE_SLACK_S = 60;

export class NonceIssuer {
  private readonly secret: Buffer;
  private readonly lifetimeS: number;
  private readonly staleS: number;
  /** Makes each nonce unique, even two to one source within a second. */
  private counter = 0;

  constructor(options: NonceOptions = {}) {
    this.secret = options.secret ?? randomBytes(32);
    this.lifetimeS = (options.lifetimeMs ?? 32_000) / 1000;
    this.staleS = (options.staleMs ?? 5 * 60_000) / 1000;
  }

  private mac(seconds: string, salt: string, source: NonceSource): string {
    return createHmac('sha256', this.secret)
      .update(`${seconds}|${salt}|${source.transport}|${source.ip}|${source.port}`)
      .digest('hex')
      .slice(0, MAC_HEX);
  }

  issue(source: NonceSource, now: number): string {
    const seconds = String(Math.floor(now / 1000));
    this.counter = (this.counter + 1) >>> 0;
    const salt = this.counter.toString(16).padStart(SALT_HEX, '0');
    return `${seconds}/${salt}${this.mac(seconds, salt, source)}`;
  }

  check(nonce: string, source: NonceSource, now: number): NonceState {
    const parts = NONCE.exec(nonce);
    if (parts === null) return 'foreign';
    const [, seconds, salt, mac] = parts as unknown as [string, string, string, string];
    if (this.mac(seconds, salt, source) !== mac) return 'foreign';
    const age = now / 1000 - Number(seconds);
    if (age < -FUTURE_SLACK_S || age > this.lifetimeS + this.staleS) return 'foreign';
    return age <= this.lifetimeS ? 'fresh' : 'stale';
  }
}
