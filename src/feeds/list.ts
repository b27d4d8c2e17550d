import { readFile, stat } from 'node:fs/promises';
import type { ListFeedConfig } from '../config/schema.js';
import { isSipwardenError, swError } from '../core/errors.js';
import { feedEntry } from './entry.js';
import { fetchFailure, readCapped, redactUrl, requestSignal } from './http.js';

/**
 * Plain list feeds in VoIPBL's format: one IPv4/IPv6 address or prefix per line, `#` starts a comment (a whole
 * line or the end of one), blank lines are skipped. A bad line is counted and skipped, never fatal: one typo
 * must not keep the other 10,000 entries out of the kernel.
 */

export interface BadLine {
  line: number;
  text: string;
  problem: string;
}

export interface ParsedList {
  /** Canonical addresses and prefixes, without duplicates, in file order. */
  entries: string[];
  /** How many lines were refused. */
  bad: number;
  /** The first few refused lines, to show the operator where to look. */
  badLines: BadLine[];
}

const SHOWN_BAD_LINES = 5;
/** The longest line worth quoting back in a status or log. */
const QUOTE_CHARS = 60;

export function parseList(text: string): ParsedList {
  const entries: string[] = [];
  const seen = new Set<string>();
  const badLines: BadLine[] = [];
  let bad = 0;
  let lineNumber = 0;
  for (const raw of text.split('\n')) {
    lineNumber++;
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line === '') continue;
    const verdict = feedEntry(line);
    if ('problem' in verdict) {
      bad++;
      if (badLines.length < SHOWN_BAD_LINES) badLines.push({ line: lineNumber, text: line.slice(0, QUOTE_CHARS), problem: verdict.problem });
      continue;
    }
    if (seen.has(verdict.entry)) continue;
    seen.add(verdict.entry);
    entries.push(verdict.entry);
  }
  return { entries, bad, badLines };
}

export interface ListReadOptions {
  timeoutMs?: number;
  /** VoIPBL is about 200 KB; FireHOL's largest lists are a few MB. */
  maxBytes?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BYTES = 32 << 20;

/** Reads the feed's URL or file and parses it. Throws SW_ERR_FEED naming the feed and the origin (never the path of a URL). */
export async function readListFeed(feed: Pick<ListFeedConfig, 'id' | 'url' | 'path'>, options: ListReadOptions = {}): Promise<ParsedList> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (feed.path !== undefined) return parseList(await readListFile(feed.id, feed.path, maxBytes));
  const url = feed.url as string;
  const where = `feed ${feed.id} (${redactUrl(url)})`;
  let response: Response;
  try {
    response = await fetch(url, { signal: requestSignal(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal), headers: { accept: 'text/plain' } });
  } catch (error) {
    throw swError('SW_ERR_FEED', `${where}: request failed: ${fetchFailure(error)}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw swError('SW_ERR_FEED', `${where}: HTTP ${response.status}`);
  }
  try {
    return parseList(await readCapped(response, maxBytes, where));
  } catch (error) {
    if (isSipwardenError(error)) throw error;
    throw swError('SW_ERR_FEED', `${where}: reading the list failed: ${fetchFailure(error)}`);
  }
}

async function readListFile(id: string, path: string, maxBytes: number): Promise<string> {
  try {
    const info = await stat(path);
    if (info.size > maxBytes) throw swError('SW_ERR_FEED', `feed ${id}: ${path} is ${info.size} bytes, more than the limit of ${maxBytes}`);
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isSipwardenError(error)) throw error;
    throw swError('SW_ERR_FEED', `feed ${id}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, error);
  }
}
