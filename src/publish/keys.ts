import { createHash, timingSafeEqual } from 'node:crypto';
import type { PublishKeyConfig } from '../config/schema.js';

/** Both sides are hashed first, so every comparison is 32 bytes: neither a key's bytes nor its length leak through timing. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The configured key a client presented, or undefined. Every key is compared, found or not, so the time taken
 * does not tell which position (or whether any) matched.
 */
export function findPublishKey(keys: readonly PublishKeyConfig[], presented: string): PublishKeyConfig | undefined {
  const given = digest(presented);
  let found: PublishKeyConfig | undefined;
  for (const key of keys) {
    const same = timingSafeEqual(given, digest(key.key));
    if (same && found === undefined) found = key;
  }
  return found;
}
