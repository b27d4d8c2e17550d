import { parseParams, parsePort, readQuoted, splitOutside } from './headers.js';
import type { SipAddress, SipDigest, SipVia } from './types.js';

const VIA = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9._-]+)\s+([^;\s]+)\s*(;.*)?$/i;

/** One Via value: `SIP/2.0/UDP host:port;branch=...;rport`. Null when the sent-protocol or sent-by is malformed. */
export function parseVia(value: string): SipVia | null {
  const match = VIA.exec(value);
  if (match === null) return null;
  const hostPort = splitHostPort(match[2]!);
  if (hostPort === null) return null;
  const via: SipVia = { transport: match[1]!.toUpperCase(), host: hostPort.host };
  if (hostPort.port !== undefined) via.port = hostPort.port;
  const params = parseParams(match[3] ?? '');
  if (params.branch !== undefined) via.branch = params.branch;
  if (params.received !== undefined) via.received = params.received;
  if (params.rport !== undefined) {
    const rport = params.rport === '' ? true : parsePort(params.rport);
    if (rport !== undefined) via.rport = rport;
  }
  return via;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`. Null for an empty host or a port that is not one. */
function splitHostPort(text: string): { host: string; port?: number } | null {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  if (host === '') return null;
  if (portText === undefined) return { host };
  const port = parsePort(portText);
  return port === undefined ? null : { host, port };
}

/**
 * From, To or one Contact value, as name-addr (`"Display" <sip:user@host;uri-params>;tag=x`) or addr-spec
 * (`sip:user@host;tag=x`, where RFC 3261 §20 makes every `;param` a header parameter). Null when there is no URI.
 */
export function parseAddress(value: string): SipAddress | null {
  let rest = value.trim();
  let display: string | undefined;
  if (rest.startsWith('"')) {
    const quoted = readQuoted(rest, 0);
    display = quoted.value;
    rest = rest.slice(quoted.end).trimStart();
    if (!rest.startsWith('<')) return null;
  }
  let uri: string;
  let paramText: string;
  const open = rest.indexOf('<');
  if (open >= 0) {
    const close = rest.indexOf('>', open);
    if (close < 0) return null;
    const tokens = rest.slice(0, open).trim();
    if (display === undefined && tokens !== '') display = tokens;
    uri = rest.slice(open + 1, close).trim();
    paramText = rest.slice(close + 1);
  } else {
    const semi = rest.indexOf(';');
    uri = (semi < 0 ? rest : rest.slice(0, semi)).trim();
    paramText = semi < 0 ? '' : rest.slice(semi);
  }
  if (uri === '') return null;
  const params = parseParams(paramText);
  const address: SipAddress = { uri, params, ...parseUri(uri) };
  if (display !== undefined) address.display = display;
  if (params.tag !== undefined) address.tag = params.tag;
  return address;
}

/** Scheme, user, host and port of a sip:/sips: URI; the number of a tel: URI as `user`. */
export function parseUri(uri: string): Pick<SipAddress, 'scheme' | 'user' | 'host' | 'port'> {
  const colon = uri.indexOf(':');
  if (colon <= 0) return {};
  const scheme = uri.slice(0, colon).toLowerCase();
  const rest = uri.slice(colon + 1);
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    return number === '' ? { scheme } : { scheme, user: number };
  }
  if (scheme !== 'sip' && scheme !== 'sips') return { scheme };
  // Parameters and headers start at the first ; or ? after the userinfo's @ (the userinfo may hold either).
  let at = rest.lastIndexOf('@', paramStart(rest, 0));
  const result: Pick<SipAddress, 'scheme' | 'user' | 'host' | 'port'> = { scheme };
  if (at >= 0) {
    // userinfo is `user[:password]`; a password in a URI is never kept.
    const colonAt = rest.indexOf(':');
    const user = colonAt >= 0 && colonAt < at ? rest.slice(0, colonAt) : rest.slice(0, at);
    if (user !== '') result.user = user;
  } else {
    at = -1;
  }
  const hostPart = rest.slice(at + 1, paramStart(rest, at + 1));
  const hostPort = splitHostPort(hostPart);
  if (hostPort !== null) {
    result.host = hostPort.host;
    if (hostPort.port !== undefined) result.port = hostPort.port;
  }
  return result;
}

/** Index of the first `;` or `?` at or after `from`, or the length. */
function paramStart(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x3b || code === 0x3f) return i;
  }
  return text.length;
}

const DIGEST_FIELDS = ['username', 'realm', 'nonce', 'response', 'uri', 'qop', 'cnonce', 'nc', 'algorithm', 'opaque', 'stale'] as const;

/**
 * `Digest username="100",realm="x",...`: parameters in any order, quoted values unescaped, names
 * case-insensitive; the first occurrence of a duplicated parameter wins. Null without a scheme.
 */
export function parseDigest(value: string): SipDigest | null {
  const match = /^([A-Za-z0-9._-]+)(?:\s+([\s\S]*))?$/.exec(value.trim());
  if (match === null) return null;
  const digest: SipDigest = { scheme: match[1]! };
  const params = new Map<string, string>();
  for (const part of splitOutside(match[2] ?? '', ',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const raw = part.slice(eq + 1).trim();
    if (!params.has(name)) params.set(name, raw.startsWith('"') ? readQuoted(raw, 0).value : raw);
  }
  for (const field of DIGEST_FIELDS) {
    const param = params.get(field);
    if (param !== undefined) digest[field] = param;
  }
  return digest;
}
