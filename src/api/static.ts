import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import type { Logger } from '../core/logger.js';

export interface ConsoleFile {
  body: Buffer;
  type: string;
  cache: string;
}

export type ConsoleFiles = Map<string, ConsoleFile>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2', '.map': 'application/json',
};
const MAX_FILES = 500;

/**
 * The built console, read once into memory: a fixed map of URL paths, so no request path ever reaches the file
 * system (no traversal to guard). Hashed assets are cached for a year; index.html never.
 */
export function loadConsole(root: string, logger: Logger): ConsoleFiles | undefined {
  const files: ConsoleFiles = new Map();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && files.size < MAX_FILES) {
        const url = `/${relative(root, path).split('\\').join('/')}`;
        const immutable = url.startsWith('/assets/');
        files.set(url, { body: readFileSync(path), type: TYPES[extname(path)] ?? 'application/octet-stream', cache: immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
      }
    }
  };
  try {
    if (!statSync(join(root, 'index.html')).isFile()) throw new Error('index.html is not a file');
    walk(root);
  } catch (error) {
    logger.warn({ root, err: (error as Error).message }, 'web console not built or unreadable; the API runs without it (npm run build builds it)');
    return undefined;
  }
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}

/** Strips the query, so `/assets/app.js?v=1` finds its file. */
export function consolePath(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
