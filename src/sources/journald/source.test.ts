import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSipwardenError } from '../../core/errors.js';
import { createParser } from '../../parsers/index.js';
import { lineFor, routeFormat } from '../syslog/route.js';
import type { JournalRecord } from './entry.js';
import { createJournaldSource, journalctlArgv } from './source.js';
import { CAPTURE } from './testing/capture.js';

/**
 * A stand-in for journalctl: records the argv it got, prints the capture, then either follows forever (as
 * `journalctl -f` does) or exits with a code and a complaint on stderr.
 */
function fakeJournalctl(then: 'follow' | { exit: number }): { command: string[]; argvFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sw-journald-'));
  const script = join(dir, 'journalctl');
  const argvFile = join(dir, 'argv');
  const tail = then === 'follow' ? 'exec sleep 30' : `echo "Failed to open journal: Permission denied" >&2; exit ${then.exit}`;
  writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argvFile}'\ncat '${CAPTURE}'\n${tail}\n`);
  chmodSync(script, 0o755);
  return { command: [script], argvFile };
}

async function collect(iterable: AsyncIterable<JournalRecord[]>, until: (records: JournalRecord[]) => boolean, abort?: AbortController): Promise<JournalRecord[]> {
  const records: JournalRecord[] = [];
  for await (const batch of iterable) {
    records.push(...batch);
    if (until(records)) abort?.abort();
  }
  return records;
}

const ROUTES = [{ app: 'asterisk', format: 'asterisk' }, { app: 'kamailio', format: 'kamailio' }];

describe('journald source', () => {
  it('builds the journalctl argv: follow, JSON, from now, one -u per unit', () => {
    assert.deepEqual(journalctlArgv(['journalctl', '--directory', '/j'], ['asterisk.service', 'kamailio.service']), [
      'journalctl', '--directory', '/j', '-f', '-o', 'json', '--no-pager', '-n', '0', '-u', 'asterisk.service', '-u', 'kamailio.service',
    ]);
  });

  it('follows the capture: the routed entries yield the wrong-password brute force and the pike block; the truncated line is counted', async () => {
    const fake = fakeJournalctl('follow');
    const source = createJournaldSource({ units: ['asterisk.service', 'kamailio.service'], command: fake.command, timezone: 'UTC' });
    const abort = new AbortController();
    const records = await collect(source.messages(abort.signal), (r) => r.length >= 7, abort);
    assert.equal(records.length, 7);
    assert.deepEqual(source.counters(), { received: 7, malformed: 1, oversized: 0 });
    assert.deepEqual(readFileSync(fake.argvFile, 'utf8').trim().split('\n'), ['-f', '-o', 'json', '--no-pager', '-n', '0', '-u', 'asterisk.service', '-u', 'kamailio.service']);

    const parsers = new Map([['asterisk', createParser('asterisk')], ['kamailio', createParser('kamailio')]]);
    const events = records.flatMap(({ message, receivedAt }) => {
      const format = routeFormat(message, ROUTES);
      assert.ok(format);
      return parsers.get(format)?.parse(lineFor(message, format), { timezone: 'UTC', referenceTime: receivedAt }) ?? [];
    });
    const failures = events.filter((e) => e.kind === 'auth-failure');
    assert.equal(failures.length, 5);
    assert.ok(failures.every((e) => e.ip === '203.0.113.50' && e.server === 'asterisk'));
    assert.deepEqual(failures.map((e) => e.at - Date.UTC(2025, 10, 21, 10, 0, 0)), [1000, 2000, 3000, 4000, 5000]);
    assert.equal(failures[4]?.account, 'm\uFFFDller', 'the byte-array MESSAGE was decoded');
    const pike = events.filter((e) => e.server === 'kamailio');
    assert.deepEqual(pike.map((e) => [e.ip, e.at]), [['198.51.100.77', Date.UTC(2025, 10, 21, 10, 0, 6)]]);
  });

  it('throws SW_ERR_SOURCE with the exit code and stderr when journalctl exits, after yielding what it read', async () => {
    const source = createJournaldSource({ units: ['asterisk.service'], command: fakeJournalctl({ exit: 3 }).command, timezone: 'UTC' });
    await assert.rejects(collect(source.messages(new AbortController().signal), () => false), (error: unknown) => {
      assert.ok(isSipwardenError(error, 'SW_ERR_SOURCE'), String(error));
      assert.match(error.message, /exit code 3/);
      assert.match(error.message, /Permission denied/);
      return true;
    });
    assert.equal(source.counters().received, 7, 'every entry before the exit was read');
  });

  it('throws SW_ERR_SOURCE when the program cannot be run', async () => {
    const source = createJournaldSource({ units: ['x.service'], command: ['/nonexistent/journalctl'], timezone: 'UTC' });
    await assert.rejects(collect(source.messages(new AbortController().signal), () => false), (error: unknown) => isSipwardenError(error, 'SW_ERR_SOURCE') && /ENOENT/.test(error.message));
  });

  it('abort kills journalctl and ends the iteration without throwing', async () => {
    const source = createJournaldSource({ units: ['asterisk.service'], command: fakeJournalctl('follow').command, timezone: 'UTC' });
    const abort = new AbortController();
    const started = Date.now();
    const records = await collect(source.messages(abort.signal), () => true, abort);
    assert.ok(records.length > 0);
    assert.ok(Date.now() - started < 5000, 'ended without waiting for the follower to finish');
  });

  it('an aborted signal yields nothing and starts nothing', async () => {
    const abort = new AbortController();
    abort.abort();
    const source = createJournaldSource({ units: ['x.service'], command: ['/nonexistent/journalctl'], timezone: 'UTC' });
    assert.deepEqual(await collect(source.messages(abort.signal), () => false), []);
  });
});
