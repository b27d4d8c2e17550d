import { humanDuration } from '../core/duration.js';

/** Local time as `2026-11-21 09:14:03`, the way operators read their logs. */
export function when(at: number): string {
  const d = new Date(at);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function expiry(expiresAt: number | null | undefined, now: number): string {
  if (expiresAt === null || expiresAt === undefined) return 'never (permanent)';
  if (expiresAt <= now) return `${when(expiresAt)} (expired ${humanDuration(now - expiresAt)} ago)`;
  return `${when(expiresAt)} (in ${humanDuration(expiresAt - now)})`;
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Quotes an argument for a shell command line we print (never run). */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
