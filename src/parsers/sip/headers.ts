import { SIP_HEADER_LIMIT } from './types.js';

/** RFC 3261 §7.3.3 compact forms, plus the ones later RFCs registered (RFC 3265, 3515, 3892, 4028, 3841, 4474). */
const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type', f: 'from',
  s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', u: 'allow-events', r: 'refer-to', b: 'referred-by',
  x: 'session-expires', a: 'accept-contact', j: 'reject-contact', d: 'request-disposition', y: 'identity',
  n: 'identity-info',
};

/** RFC 3261 token characters, by char code. */
const TOKEN_CHAR = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!%*_+`'~-") TOKEN_CHAR[ch.charCodeAt(0)] = 1;

/** Field names as UAs usually spell them -> canonical name, so the common case skips lower-casing. */
const SPELLED = new Map<string, string>();
for (const name of [
  'Via', 'From', 'To', 'Call-ID', 'Call-Id', 'CSeq', 'Contact', 'Max-Forwards', 'User-Agent', 'Server', 'Content-Length',
  'Content-Type', 'Authorization', 'Proxy-Authorization', 'WWW-Authenticate', 'Www-Authenticate', 'Proxy-Authenticate',
  'Expires', 'Allow', 'Supported', 'Accept', 'Record-Route', 'Route', 'Allow-Events', 'Date', 'Subject', 'Event',
]) SPELLED.set(name, name.toLowerCase());
for (const [short, full] of Object.entries(COMPACT)) {
  SPELLED.set(short, full);
  SPELLED.set(short.toUpperCase(), full);
}

/** The canonical name of a field name as written, or null if it is not a token. */
export function fieldName(raw: string): string | null {
  const known = SPELLED.get(raw);
  if (known !== undefined) return known;
  if (raw === '') return null;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code >= 128 || TOKEN_CHAR[code] === 0) return null;
  }
  const lower = raw.toLowerCase();
  return COMPACT[lower] ?? lower;
}

/**
 * Header lines (after the start line) into a map by lower-cased full name. Continuation lines (leading space or
 * tab) join the previous field with one space. Lines without a colon or with a bad name are skipped, as lenient
 * servers do. Returns null past SIP_HEADER_LIMIT fields.
 */
export function readHeaders(lines: readonly string[], from = 0): Map<string, string[]> | null {
  const headers = new Map<string, string[]>();
  let count = 0;
  let lastValues: string[] | undefined;
  for (let n = from; n < lines.length; n++) {
    const line = lines[n]!;
    const head = line.charCodeAt(0);
    if (head === 0x20 || head === 0x09) {
      if (lastValues !== undefined) {
        const at = lastValues.length - 1;
        const joined = `${lastValues[at]!} ${line.trim()}`;
        lastValues[at] = joined.trim();
      }
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let nameEnd = colon;
    while (nameEnd > 0 && (line.charCodeAt(nameEnd - 1) === 0x20 || line.charCodeAt(nameEnd - 1) === 0x09)) nameEnd--;
    const name = fieldName(line.slice(0, nameEnd));
    if (name === null) continue;
    if (++count > SIP_HEADER_LIMIT) return null;
    const value = line.slice(colon + 1).trim();
    lastValues = headers.get(name);
    if (lastValues === undefined) headers.set(name, (lastValues = [value]));
    else lastValues.push(value);
  }
  return headers;
}

/**
 * A quoted-string starting at `start` (which holds the opening quote): its unescaped text and the index after
 * the closing quote. An unterminated string runs to the end.
 */
export function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let from = start + 1;
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return { value: value + text.slice(from, i), end: i + 1 };
    if (code === 0x5c && i + 1 < text.length) {
      value += text.slice(from, i) + text[i + 1];
      i += 1;
      from = i + 1;
    }
  }
  return { value: value + text.slice(from), end: text.length };
}

/** Split on `separator` outside quoted strings and angle brackets (a comma inside `"Doe, John"` or a URI stays). */
export function splitOutside(text: string, separator: string): string[] {
  const sep = separator.charCodeAt(0);
  // Most values have no quote and no separator at all: one slice-free answer.
  if (text.indexOf(separator) < 0) return [text];
  const parts: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      i = readQuoted(text, i).end - 1;
      continue;
    }
    if (code === 0x3c) angle = true;
    else if (code === 0x3e) angle = false;
    else if (code === sep && !angle) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** The comma-separated values of every line of a header (Via, Contact), trimmed, empties dropped. */
export function listValues(values: readonly string[] | undefined): string[] {
  if (values === undefined) return [];
  const out: string[] = [];
  for (const value of values) {
    for (const part of splitOutside(value, ',')) {
      const trimmed = part.trim();
      if (trimmed !== '') out.push(trimmed);
    }
  }
  return out;
}

/** `;name=value;flag` parameters: names lower-cased, quoted values unescaped, a bare flag maps to ''. */
export function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const part of splitOutside(text, ';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    // First occurrence wins; `__proto__` would reach the prototype setter, never a field.
    if (name === '' || name === '__proto__' || Object.hasOwn(params, name)) continue;
    const raw = eq < 0 ? '' : part.slice(eq + 1).trim();
    params[name] = raw.startsWith('"') ? readQuoted(raw, 0).value : raw;
  }
  return params;
}

/** A decimal header value (Content-Length, Expires, Max-Forwards); anything else is absent, not NaN. */
export function parseCount(value: string | undefined): number | undefined {
  return value === undefined ? undefined : digits(value, 10);
}

export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = digits(text, 5);
  return port !== undefined && port <= 65535 ? port : undefined;
}

/** A run of 1..max ASCII digits and nothing else, as a number. */
function digits(text: string, max: number): number | undefined {
  if (text.length === 0 || text.length > max) return undefined;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i) - 0x30;
    if (code < 0 || code > 9) return undefined;
    n = n * 10 + code;
  }
  return n;
}
