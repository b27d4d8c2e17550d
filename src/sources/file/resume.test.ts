import assert from 'node:assert/strict';
import { appendFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SourcePosition } from '../types.js';
import { createFileSource } from './index.js';
import { openAtStart } from './start.js';
import { Tailing, lines, withTempDir } from './testkit.js';

/** Read `path` from the start up to the line `last`, stop, and return the position of the last batch. */
async function readUpTo(path: string, last: string): Promise<SourcePosition> {
  const tailing = Tailing.start({ path, startAt: 'start' });
  await tailing.untilLast(last);
  await tailing.stop();
  const position = tailing.lastBatch?.position;
  assert.ok(position);
  return position;
}

test('restart in the middle resumes at the saved offset exactly: the remaining lines, none twice', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1', 'a-2', 'a-3'));
    const position = await readUpTo(path, 'a-3');
    await appendFile(path, lines('a-4', 'a-5'));
    const resumed = Tailing.start({ path, position });
    assert.deepEqual(await resumed.untilLast('a-5'), ['a-4', 'a-5']);
    assert.equal(resumed.batches[0]?.firstLine, 1);
    await resumed.stop();
  }));

test('rotated while down: the rest of the old file, found by its inode, then all of the new one', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1', 'a-2'));
    const position = await readUpTo(path, 'a-2');
    await appendFile(path, 'a-3\na-4 unfinished');
    await rename(path, `${path}-20240101`);
    await writeFile(join(dir, 'messages.2'), lines('an older sibling'));
    await writeFile(path, lines('b-1', 'b-2'));
    const resumed = Tailing.start({ path, position });
    assert.deepEqual(await resumed.untilLast('b-2'), ['a-3', 'a-4 unfinished', 'b-1', 'b-2']);
    await resumed.stop();
  }));

test('rotated while down and the old file gone (compressed, deleted): the new file from 0', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1'));
    const position = await readUpTo(path, 'a-1');
    await rename(path, `${path}.1`);
    await writeFile(`${path}.1.gz`, 'not looked into');
    await rm(`${path}.1`);
    await writeFile(path, lines('b-1'));
    const resumed = Tailing.start({ path, position });
    assert.deepEqual(await resumed.untilLast('b-1'), ['b-1']);
    await resumed.stop();
  }));

test('truncated while down: from 0', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1', 'a-2'));
    const position = await readUpTo(path, 'a-2');
    await truncate(path, 0);
    await appendFile(path, lines('b-1'));
    const resumed = Tailing.start({ path, position });
    assert.deepEqual(await resumed.untilLast('b-1'), ['b-1']);
    await resumed.stop();
  }));

test('same inode, long enough, but other first bytes (inode reused, or rewritten while down): from 0', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1'));
    const position = await readUpTo(path, 'a-1');
    await writeFile(path, lines('b-1', 'b-2'));
    const resumed = Tailing.start({ path, position });
    assert.deepEqual(await resumed.untilLast('b-2'), ['b-1', 'b-2']);
    await resumed.stop();
  }));

test('a position saved for another path is ignored', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1', 'a-2'));
    const position = await readUpTo(path, 'a-2');
    const cursor = await openAtStart(join(dir, 'other'), 'start', position);
    assert.equal(cursor, undefined);
  }));

test('starting at the end of a file whose last line is unfinished skips that fragment', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, 'old-1\nhalf of a li');
    const cursor = await openAtStart(path, 'end', undefined);
    assert.equal(cursor?.file.readOffset, 18);
    assert.equal(cursor?.midLine, true);
    await cursor?.file.close();
    await writeFile(path, 'old-1\n');
    const atLineEnd = await openAtStart(path, 'end', undefined);
    assert.equal(atLineEnd?.midLine, false);
    await atLineEnd?.file.close();
  }));

test('a source restarted by the supervisor goes on after the last batch it yielded', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1'));
    const source = createFileSource({ id: 'test', path, startAt: 'start', pollIntervalMs: 50 });
    const first = new Tailing(source);
    await first.untilLast('a-1');
    await first.stop();
    await appendFile(path, lines('a-2'));
    const second = new Tailing(source);
    assert.deepEqual(await second.untilLast('a-2'), ['a-2']);
    await second.stop();
  }));
