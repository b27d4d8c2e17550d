import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SourcePosition } from '../types.js';
import { statPath, TailedFile } from './tailed-file.js';

/** The file the tail loop reads now, and what it knows about it. */
export interface Cursor {
  file: TailedFile;
  /**
   * The file was rotated away while we were down: read it to its end, emit its unfinished last line, then go on
   * with the file at the path from byte 0. No waiting for a writer that may still append: it has moved on.
   */
  rotated: boolean;
  /** Reading starts in the middle of a line (start at the end of a file being written): skip that fragment. */
  midLine: boolean;
}

/**
 * Where to begin. Undefined means: nothing to read yet, open the path from byte 0 when it appears.
 *
 * With a saved position for this path:
 * - same dev+ino, the file still reaches the offset and its head matches: resume at the offset exactly;
 * - same inode but shorter (truncated while down) or another head (the inode was reused): the file is new, from 0;
 * - another inode at the path: the old file was rotated while down. Find it among its siblings by dev+ino
 *   (`messages.1`, `messages-20240101`; a compressed copy has another inode and is not found), read its
 *   remainder, then the current file from 0. If it is gone, the current file is new to us: from 0.
 */
export async function openAtStart(
  path: string,
  startAt: 'start' | 'end',
  position: SourcePosition | undefined,
): Promise<Cursor | undefined> {
  const current = await TailedFile.open(path);
  if (position === undefined || position.path !== path) {
    if (current === undefined || startAt === 'start') return current && fresh(current);
    const { size } = await current.stat();
    current.readOffset = size;
    return { file: current, rotated: false, midLine: size > 0 && !(await current.endsWithNewline(size)) };
  }
  if (current?.sameFileAs(position)) {
    if (await continues(current, position)) current.readOffset = position.offset;
    return fresh(current);
  }
  const old = await findRotated(path, position);
  if (old === undefined) return current && fresh(current);
  await current?.close();
  old.readOffset = position.offset;
  return { file: old, rotated: true, midLine: false };
}

function fresh(file: TailedFile): Cursor {
  return { file, rotated: false, midLine: false };
}

/** Is `file` the file the position was taken in, grown or not, but never cut or replaced? */
async function continues(file: TailedFile, position: SourcePosition): Promise<boolean> {
  const { size } = await file.stat();
  return size >= position.offset && (await file.headAt(position.offset)) === position.head;
}

async function findRotated(path: string, position: SourcePosition): Promise<TailedFile | undefined> {
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    // An unlistable directory hides the old file; the current one is still read in full, so nothing new is lost.
    return undefined;
  }
  for (const name of names) {
    if (name === base || !name.startsWith(base)) continue;
    const sibling = join(dirname(path), name);
    const stats = await statPath(sibling).catch(() => undefined);
    if (stats?.dev !== position.dev || stats.ino !== position.ino) continue;
    const candidate = await TailedFile.open(sibling).catch(() => undefined);
    if (candidate?.sameFileAs(position) && (await continues(candidate, position))) return candidate;
    await candidate?.close();
  }
  return undefined;
}
