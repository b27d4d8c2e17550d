import { SIP_HEADER_LIMIT } from './types.js';

/** RFC 3261 §7.3.3 compact forms, plus the ones later RFCs registered (RFC 3265, 3515, 3892, 4028, 3841, 4474). */
const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type', f: 'from',
  s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', u: 'allow-events', r: 'refer-to', b: 'referred-by',
  x: 'session-expires', a: 'accept-contact', j: 'reject-contact', d: 'request-disposition', y: 'identity',
  n: 'identity-info',
};

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/**
 * Header lines (after the start line) into a map by lower-cased full name. Continuation lines (leading space or
 * tab) join the previous field with one space. Lines without a colon or with a bad name are skipped, as lenient
 * servers do. Returns null past SIP_HEADER_LIMIT fields.
 */
export function readHeaders(lines: readonly string[]): Map<string, string[]> | null {
  const fields: { name: string; value: string }[] = [];
  for (const line of lines) {
    const last = fields[fields.length - 1];
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last !== undefined) last.value = `${last.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trimEnd().toLowerCase();
    if (!TOKEN.test(name)) continue;
    if (fields.length >= SIP_HEADER_LIMIT) return null;
    fields.push({ name: COMPACT[name] ?? name, value: line.slice(colon + 1) });
  }
  const headers = new Map<string, string[]>();
  for (const { name, value } of fields) {
    const values = headers.get(name);
    if (values === undefined) headers.set(name, [value.trim()]);
    else values.push(value.trim());
  }
  return headers;
}

/**
 * A quoted-string starting at `start` (which holds the opening quote): its unescaped text and the index after
 * the closing quote. An unterminated string runs to the end.
 */
export function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\\' && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    value += ch;
    i += 1;
  }
  return { value, end: i };
}

/** Split on `separator` outside quoted strings and angle brackets (a comma inside `"Doe, John"` or a URI stays). */
export function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let angle = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      const { end } = readQuoted(text, i);
      current += text.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '<') angle = true;
    else if (ch === '>') angle = false;
    if (ch === separator && !angle) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
    i += 1;
  }
  parts.push(current);
  return parts;
}

/** The comma-separated values of every line of a header (Via, Contact), trimmed, empties dropped. */
export function listValues(values: readonly string[] | undefined): string[] {
  if (values === undefined) return [];
  return values.flatMap((value) => splitOutside(value, ',')).map((v) => v.trim()).filter((v) => v !== '');
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
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  return Number(value);
}

export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}
