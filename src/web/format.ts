/** Display helpers. They return plain strings that the views put into text nodes. */

const pad = (n: number): string => String(n).padStart(2, '0');

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return 'permanent';
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms));
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0 && parts.length < 2) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

/** "in 59m" / "3h ago", relative to `now` (the page's clock; only for display). */
export function relative(ms: number, now: number): string {
  const delta = ms - now;
  return delta >= 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

export function banUntil(expiresAt: number | null | undefined): string {
  return expiresAt === null || expiresAt === undefined ? 'permanently' : `until ${formatTime(expiresAt)}`;
}

export const formatCount = (n: number): string => n.toLocaleString('en-US');
