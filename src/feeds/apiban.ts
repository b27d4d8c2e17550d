import type { ApibanFeedConfig } from '../config/schema.js';
import { feedEntry } from './entry.js';
import { fetchFailure, readCapped, requestSignal, scrub } from './http.js';

/**
 * An APIBAN client (apiban.org, or any compatible server such as sipwarden's own publisher) for both
 * protocol versions:
 * - v1: `GET {url}/{key}/banned[/{id}]`, the key in the path;
 * - v2: `POST {url}/get` with `Authorization: Bearer {key}` and `{"set","id"}`.
 * Both answer `{"ipaddress": [...], "ID": "..."}`; `ipaddress` is a string in error answers and an array
 * elsewhere, so both are read. The end of the list is a 400 `{"ipaddress":["no new bans"],"ID":"none"}`.
 *
 * `fetchPage` never throws: every outcome (rate limit, bad key, outage, network failure) is a typed page the
 * caller decides on. No outcome, log line or message carries the key: v1 URLs are never printed.
 */

export type ApibanEndpoint = Pick<ApibanFeedConfig, 'version' | 'url' | 'key' | 'set'>;

export type ApibanPage =
  /** Entries after the cursor; `next` is the cursor for the following page. */
  | { kind: 'page'; entries: string[]; next: string; garbage: number }
  /** "no new bans": the cursor is at the end of the list. */
  | { kind: 'end' }
  /** HTTP 429: back off, at least `retryAfterMs` when the server said so. */
  | { kind: 'rate-limited'; retryAfterMs?: number }
  /** HTTP 403: the key is wrong or revoked. */
  | { kind: 'unauthorized' }
  | { kind: 'error'; message: string };

/** The cursor APIBAN clients send for "from the start" (v2 needs an id; v1 reads `/banned` without one). */
export const APIBAN_START = '100';

/** A page is at most 250 entries of at most 43 characters; anything near a megabyte is not APIBAN. */
const MAX_BODY_BYTES = 1 << 20;

export class ApibanClient {
  constructor(
    private readonly endpoint: ApibanEndpoint,
    private readonly timeoutMs = 30_000,
  ) {}

  async fetchPage(cursor: string | undefined, signal?: AbortSignal): Promise<ApibanPage> {
    const { version, url, key, set } = this.endpoint;
    const base = url.replace(/\/+$/, '');
    let response: Response;
    try {
      const init: RequestInit = { signal: requestSignal(this.timeoutMs, signal), headers: { accept: 'application/json' } };
      response =
        version === 1
          ? await fetch(`${base}/${encodeURIComponent(key)}/banned${cursor === undefined ? '' : `/${encodeURIComponent(cursor)}`}`, init)
          : await fetch(`${base}/get`, {
              ...init,
              method: 'POST',
              headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${key}` },
              body: JSON.stringify({ set, id: cursor ?? APIBAN_START }),
            });
    } catch (error) {
      return { kind: 'error', message: this.safe(`request failed: ${fetchFailure(error)}`) };
    }
    let body: unknown;
    try {
      const text = await readCapped(response, MAX_BODY_BYTES, 'APIBAN answer');
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch (error) {
      if (response.status >= 500) return { kind: 'error', message: `HTTP ${response.status} from the server` };
      return { kind: 'error', message: this.safe(`HTTP ${response.status} with an unreadable body: ${fetchFailure(error)}`) };
    }
    return this.interpret(response, body, cursor);
  }

  private interpret(response: Response, body: unknown, cursor: string | undefined): ApibanPage {
    const { status } = response;
    const answer = readAnswer(body);
    if (status === 429) {
      const retryAfter = Number(response.headers.get('retry-after') ?? NaN);
      return Number.isFinite(retryAfter) && retryAfter >= 0 ? { kind: 'rate-limited', retryAfterMs: retryAfter * 1000 } : { kind: 'rate-limited' };
    }
    if (status === 403) return { kind: 'unauthorized' };
    if (answer && isEndOfList(answer)) return { kind: 'end' };
    if (status >= 500) return { kind: 'error', message: `HTTP ${status} from the server` };
    if (status !== 200 || !answer || answer.id === undefined) {
      const said = answer ? `: ${answer.addresses.slice(0, 1).join('')} ${answer.id ?? ''}`.trimEnd() : '';
      return { kind: 'error', message: this.safe(`HTTP ${status}, not an APIBAN page${said.slice(0, 120)}`) };
    }
    // A server that answers with the cursor it was given would make the client ask forever.
    if (answer.id === cursor && answer.addresses.length === 0) return { kind: 'end' };
    const entries: string[] = [];
    let garbage = 0;
    for (const text of answer.addresses) {
      const verdict = feedEntry(text.trim());
      if ('entry' in verdict) entries.push(verdict.entry);
      else garbage++;
    }
    return { kind: 'page', entries, next: answer.id, garbage };
  }

  private safe(message: string): string {
    return scrub(message, [this.endpoint.key, encodeURIComponent(this.endpoint.key)]);
  }
}

interface Answer {
  addresses: string[];
  id: string | undefined;
}

/** `ipaddress` as an array or a string, `ID` as a string or a number; anything else is no answer. */
function readAnswer(body: unknown): Answer | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { ipaddress, ID } = body as { ipaddress?: unknown; ID?: unknown };
  let addresses: string[];
  if (Array.isArray(ipaddress)) addresses = ipaddress.filter((a): a is string => typeof a === 'string');
  else if (typeof ipaddress === 'string') addresses = [ipaddress];
  else return undefined;
  const id = typeof ID === 'string' ? ID : typeof ID === 'number' && Number.isFinite(ID) ? String(ID) : undefined;
  return { addresses, id };
}

function isEndOfList(answer: Answer): boolean {
  return answer.addresses.length === 1 && answer.addresses[0]?.toLowerCase() === 'no new bans';
}

export interface ApibanSync {
  /** New entries, canonical and without duplicates, in the order served. */
  entries: string[];
  /** Where the next sync starts (unchanged when no page arrived). */
  cursor: string | undefined;
  pages: number;
  /** Items that were not addresses or prefixes, dropped. */
  garbage: number;
  /** True when the server said "no new bans"; false when the page limit or a failure ended the sync. */
  complete: boolean;
  /** What ended the sync early, if anything: the entries before it are still valid and applied. */
  failure?: Exclude<ApibanPage, { kind: 'page' } | { kind: 'end' }>;
}

/**
 * Pages from `cursor` until "no new bans", at most `maxPages` requests (APIBAN allows 11 requests per
 * 2 minutes per key, so a long backlog is spread over several syncs). A failure mid-way keeps what came before.
 */
export async function syncApiban(client: ApibanClient, cursor: string | undefined, options: { maxPages: number; signal?: AbortSignal }): Promise<ApibanSync> {
  const seen = new Set<string>();
  const result: ApibanSync = { entries: [], cursor, pages: 0, garbage: 0, complete: false };
  while (result.pages < options.maxPages) {
    if (options.signal?.aborted) break;
    const page = await client.fetchPage(result.cursor, options.signal);
    if (page.kind === 'end') {
      result.complete = true;
      break;
    }
    if (page.kind !== 'page') {
      result.failure = page;
      break;
    }
    result.pages++;
    result.garbage += page.garbage;
    for (const entry of page.entries) {
      if (seen.has(entry)) continue;
      seen.add(entry);
      result.entries.push(entry);
    }
    result.cursor = page.next;
  }
  return result;
}
