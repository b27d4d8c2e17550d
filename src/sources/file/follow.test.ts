import assert from 'node:assert/strict';
import { appendFile, mkdir, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tailing, lines, withTempDir } from './testkit.js';

test('follows from the end by default: old lines are skipped, appended ones arrive', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('old-1', 'old-2'));
    const tailing = Tailing.start({ path });
    await tailing.synced(path);
    await appendFile(path, lines('new-1', 'new-2'));
    await appendFile(path, lines('new-3'));
    assert.deepEqual(await tailing.untilLast('new-3'), ['new-1', 'new-2', 'new-3']);
    await tailing.stop();
  }));

test('startAt start reads the whole file, numbers lines from 1 and positions after the last line', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('one', 'two', 'three'));
    const tailing = Tailing.start({ path, startAt: 'start', batchLines: 2 });
    assert.deepEqual(await tailing.untilLast('three'), ['one', 'two', 'three']);
    assert.deepEqual(
      tailing.batches.map((batch) => [batch.firstLine, batch.position?.offset]),
      [
        [1, 8],
        [3, 14],
      ],
    );
    const { dev, ino } = await stat(path);
    assert.deepEqual({ ...tailing.lastBatch?.position, head: undefined }, {
      sourceId: 'test',
      path,
      dev,
      ino,
      offset: 14,
      head: undefined,
    });
    assert.match(tailing.lastBatch?.position?.head ?? '', /^[0-9a-f]{16}$/);
    await tailing.stop();
  }));

test('a partial last line is held back until its newline arrives, and the position excludes it', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, 'complete\npart');
    const tailing = Tailing.start({ path, startAt: 'start' });
    assert.deepEqual(await tailing.untilLast('complete'), ['complete']);
    assert.equal(tailing.lastBatch?.position?.offset, 9);
    await appendFile(path, 'ial');
    await appendFile(path, ' line\nnext\n');
    assert.deepEqual(await tailing.untilLast('next'), ['complete', 'partial line', 'next']);
    assert.equal(tailing.lastBatch?.position?.offset, 27);
    await tailing.stop();
  }));

test('CRLF line ends lose their CR; a CR inside a line stays', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, 'dos\r\nin\rside\r\n\r\nunix\n');
    const tailing = Tailing.start({ path, startAt: 'start' });
    assert.deepEqual(await tailing.untilLast('unix'), ['dos', 'in\rside', '', 'unix']);
    await tailing.stop();
  }));

test('a missing file is waited for without spinning, and read from its first byte once it appears', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'not', 'yet', 'messages');
    const tailing = Tailing.start({ path });
    const cpuBefore = process.cpuUsage();
    const waited = await tailing.until(() => false, 300).catch(() => 'timed out');
    const cpu = process.cpuUsage(cpuBefore);
    assert.equal(waited, 'timed out');
    assert.ok(cpu.user + cpu.system < 150_000, `waiting used ${cpu.user + cpu.system} µs of CPU in 300 ms`);
    await mkdir(join(dir, 'not', 'yet'), { recursive: true });
    await writeFile(path, lines('first', 'second'));
    assert.deepEqual(await tailing.untilLast('second'), ['first', 'second']);
    await tailing.stop();
  }));

test('a deleted file is finished, then its successor is read from the start', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('a-1'));
    const tailing = Tailing.start({ path, startAt: 'start' });
    await tailing.untilLast('a-1');
    await appendFile(path, 'a-2 unfinished');
    await rm(path);
    await writeFile(path, lines('b-1', 'b-2'));
    assert.deepEqual(await tailing.untilLast('b-2'), ['a-1', 'a-2 unfinished', 'b-1', 'b-2']);
    await tailing.stop();
  }));

test('abort ends a waiting loop at once, without throwing, and closes the file', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, lines('only'));
    const tailing = Tailing.start({ path, startAt: 'start', pollIntervalMs: 60_000 });
    await tailing.untilLast('only');
    const started = Date.now();
    await tailing.stop();
    assert.ok(Date.now() - started < 200, `stop took ${Date.now() - started} ms`);
    assert.equal(await openDescriptorsTo(path), 0);
  }));

async function openDescriptorsTo(path: string): Promise<number> {
  const targets = await Promise.all(
    (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return targets.filter((target) => target === path).length;
}
