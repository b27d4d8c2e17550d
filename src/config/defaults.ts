import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Config } from './schema.js';

/**
 * The configuration of an empty file, read from the snapshot the build writes (scripts/snapshot-defaults.mjs)
 * so that `parse` and `test` without a config skip loading the schema library. Null when there is no snapshot
 * (a build that skipped the step); callers then validate `{}` through the schema.
 */
export function defaultConfigSnapshot(): Config | null {
  let text: string;
  try {
    text = readFileSync(new URL('../../default-config.json', import.meta.url), 'utf8');
  } catch {
    return null;
  }
  const config = JSON.parse(text) as Config;
  config.node = hostname().split('.')[0] ?? 'sipwarden';
  return config;
}
