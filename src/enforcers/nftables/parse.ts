/**
 * Readers for nft 1.0.6's text output. They do no I/O, so they are tested on captured output.
 */

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** `1d2h3m4s5ms` (how nft prints timeouts and expiries) in milliseconds, or null if it is not one. */
export function parseNftDuration(text: string): number | null {
  const re = /(\d+)(ms|d|h|m|s)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return null;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    at = re.lastIndex;
  }
  return at > 0 ? total : null;
}

export interface ListedElement {
  /** Address or prefix as nft prints it. */
  key: string;
  packets?: number;
  /** Milliseconds left, when the element has a timeout. */
  expiresIn?: number;
}

/** One element's text: `10.0.0.0/8 counter packets 3 bytes 180 timeout 1h expires 59m58s`. */
export function parseElement(text: string): ListedElement | null {
  const words = text.trim().split(/\s+/);
  const key = words[0];
  if (!key || !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(key)) return null;
  const element: ListedElement = { key };
  for (let i = 1; i < words.length - 1; i++) {
    const word = words[i];
    const next = words[i + 1] as string;
    if (word === 'packets' && /^\d+$/.test(next)) element.packets = Number(next);
    else if (word === 'expires') {
      const ms = parseNftDuration(next);
      if (ms !== null) element.expiresIn = ms;
    }
  }
  return element;
}

/** The elements of a `list set` or `get element` answer (`elements = { a, b ... }`, possibly over many lines). */
export function parseElements(listing: string): ListedElement[] {
  const start = listing.indexOf('elements = {');
  if (start < 0) return [];
  const end = listing.indexOf('}', start + 12);
  const body = listing.slice(start + 12, end < 0 ? undefined : end);
  const out: ListedElement[] = [];
  for (const part of body.split(',')) {
    const element = parseElement(part);
    if (element) out.push(element);
  }
  return out;
}

export interface ListedChain {
  name: string;
  /** The `type ... hook ... priority ...; policy ...;` line, if it is a base chain. */
  hook?: string;
  comment?: string;
}

/** The chains of one table from `nft list chains inet` (which fetches no rules and no set elements). */
export function parseChains(listing: string, table: string): ListedChain[] | null {
  const header = `table inet ${table} {`;
  const lines = listing.split('\n');
  const first = lines.findIndex((line) => line.trim() === header);
  if (first < 0) return null;
  const chains: ListedChain[] = [];
  let current: ListedChain | null = null;
  for (const raw of lines.slice(first + 1)) {
    const line = raw.trim();
    if (line.startsWith('table ')) break;
    const chain = /^chain (\S+) \{$/.exec(line);
    if (chain) {
      current = { name: chain[1] as string };
      chains.push(current);
    } else if (current && line.startsWith('type ')) current.hook = line;
    else if (current && line.startsWith('comment "')) current.comment = line.slice(9, -1);
  }
  return chains;
}
