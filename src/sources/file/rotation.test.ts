import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { appendFile, copyFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tailing, lines, withTempDir } from './testkit.js';

test('rename rotation: the old file is read to its end, even what its writer adds late, then the new one', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1'));
    const tailing = Tailing.start({ path, startAt: 'start' });
    await tailing.untilLast('a-1');
    await appendFile(path, lines('a-2'));
    await rename(path, `${path}.1`);
    // The writer has not reopened yet: it appends to the renamed file, and logrotate creates an empty one.
    await appendFile(`${path}.1`, 'a-3\na-4 without newline');
    await writeFile(path, '');
    await appendFile(path, lines('b-1', 'b-2'));
    assert.deepEqual(await tailing.untilLast('b-2'), ['a-1', 'a-2', 'a-3', 'a-4 without newline', 'b-1', 'b-2']);
    const { position } = tailing.lastBatch ?? {};
    assert.equal(position?.offset, 8);
    await tailing.stop();
  }));

test('rename rotation with no writer behind it: the old unfinished line is emitted after a grace period', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1'));
    const tailing = Tailing.start({ path, startAt: 'start' });
    await tailing.untilLast('a-1');
    await appendFile(path, 'a-2 unfinished');
    await rename(path, `${path}.1`);
    await writeFile(path, '');
    assert.deepEqual(await tailing.untilLast('a-2 unfinished'), ['a-1', 'a-2 unfinished']);
    await appendFile(path, lines('b-1'));
    assert.deepEqual(await tailing.untilLast('b-1'), ['a-1', 'a-2 unfinished', 'b-1']);
    await tailing.stop();
  }));

test('copytruncate: the file is copied, cut to 0 in place, and read again from byte 0', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1', 'a-2'));
    const tailing = Tailing.start({ path, startAt: 'start' });
    await tailing.untilLast('a-2');
    await copyFile(path, `${path}.1`);
    await truncate(path, 0);
    await appendFile(path, lines('b-1'));
    assert.deepEqual(await tailing.untilLast('b-1'), ['a-1', 'a-2', 'b-1']);
    assert.equal(tailing.lastBatch?.position?.offset, 4);
    await tailing.stop();
  }));

test('truncation followed at once by more bytes than were read is still seen, by the head', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1'));
    const tailing = Tailing.start({ path, startAt: 'start' });
    await tailing.untilLast('a-1');
    // O_TRUNC and a rewrite in one go: the size never drops below our offset for long enough to be seen.
    await writeFile(path, lines('b-1 is longer', 'b-2'));
    assert.deepEqual(await tailing.untilLast('b-2'), ['a-1', 'b-1 is longer', 'b-2']);
    await tailing.stop();
  }));

test('truncation drops a held-back partial line of the old content', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, 'a-1\na-2 partial');
    const tailing = Tailing.start({ path, startAt: 'start' });
    await tailing.untilLast('a-1');
    await truncate(path, 0);
    await appendFile(path, lines('b-1'));
    assert.deepEqual(await tailing.untilLast('b-1'), ['a-1', 'b-1']);
    await tailing.stop();
  }));

test('a writer that keeps writing across five renames: every line exactly once, in order', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, '');
    const tailing = Tailing.start({ path, startAt: 'start', batchLines: 7 });
    const written: string[] = [];
    let fd = openSync(path, 'a');
    let firstInFile = 'line-0';
    for (let n = 0; n < 3000; n++) {
      if (n > 0 && n % 500 === 0) {
        // One rotation at a time: two renames before the source looks again would hide the file between them.
        const first = firstInFile;
        await tailing.until((seen) => seen.includes(first));
        await rename(path, `${path}.${n / 500}`);
        for (let late = 0; late < 5; late++) written.push(writeLine(fd, n++));
        closeSync(fd);
        fd = openSync(path, 'a');
        firstInFile = `line-${n}`;
      }
      written.push(writeLine(fd, n));
      if (n % 10 === 0) await new Promise(setImmediate);
    }
    closeSync(fd);
    assert.deepEqual(await tailing.untilLast(written.at(-1) ?? ''), written);
    await tailing.stop();
  }));

function writeLine(fd: number, n: number): string {
  writeSync(fd, `line-${n}\n`);
  return `line-${n}`;
}
