import { swError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** Parses `500ms`, `30s`, `5m`, `1h`, `7d`, `2w` (or a bare number of seconds) to milliseconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (Number.isFinite(text) && text >= 0) return Math.round(text * 1000);
    throw swError('SW_ERR_DURATION', `duration ${text} must be a non-negative number of seconds`);
  }
  const match = DURATION.exec(text.trim());
  if (!match) throw swError('SW_ERR_DURATION', `duration "${text}" is not of the form 30s, 5m, 1h, 7d, 2w`);
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] as string] as number));
}

/** The shortest exact form: 3600000 -> `1h`, 90000 -> `90s`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  // Days rather than weeks: operators write and read ban lengths as 7d, 30d.
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A rounded, human form for screens: `2h 5m`, `3d 4h`, `45s`. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return sec > 0 ? `${m}m ${sec}s` : `${m}m`;
  return `${sec}s`;
}
