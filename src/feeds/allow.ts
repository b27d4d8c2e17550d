/** What the feeds need of the allowlist (the daemon's `AddressList`): the most specific entry covering an address. */
export interface AllowMatcher {
  match(ip: string): string | null;
}

/**
 * Splits feed entries into those to load and those the allowlist overrides. An entry is overridden when the
 * allowlist covers all of it (a listed customer address, a prefix inside an allowed network). A feed prefix that
 * only contains an allowed address is loaded: the kernel accepts allowed sources before any feed set is
 * consulted, so the customer still gets through and the rest of the prefix stays blocked.
 */
export function splitAllowed(entries: readonly string[], allow: AllowMatcher): { kept: string[]; overridden: number } {
  const kept: string[] = [];
  let overridden = 0;
  for (const entry of entries) {
    if (covered(entry, allow)) overridden++;
    else kept.push(entry);
  }
  return { kept, overridden };
}

function covered(entry: string, allow: AllowMatcher): boolean {
  const slash = entry.indexOf('/');
  if (slash < 0) return allow.match(entry) !== null;
  const hit = allow.match(entry.slice(0, slash));
  if (hit === null) return false;
  // The match is the most specific allow entry; a longer one than the feed prefix covers only part of it.
  const hitSlash = hit.indexOf('/');
  const hitPrefix = hitSlash < 0 ? (hit.includes(':') ? 128 : 32) : Number(hit.slice(hitSlash + 1));
  return hitPrefix <= Number(entry.slice(slash + 1));
}
