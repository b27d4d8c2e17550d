import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isSipwardenError } from '../../core/errors.js';
import { createFileSource } from './index.js';
import { withTempDir } from './testkit.js';

async function firstFailure(path: string): Promise<unknown> {
  const source = createFileSource({ id: 'test', path, startAt: 'start' });
  try {
    for await (const batch of source.records(new AbortController().signal)) return batch;
  } catch (error) {
    return error;
  }
  return undefined;
}

test('a directory at the path is a source error naming the path', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await mkdir(path);
    const error = await firstFailure(path);
    assert.ok(isSipwardenError(error, 'SW_ERR_SOURCE'), String(error));
    assert.match(error.message, /messages: is a directory/);
  }));

test('a file it may not read is a source error naming the path, with the cause kept', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'messages');
    await writeFile(path, 'secret\n');
    await chmod(path, 0o000);
    const index = fileURLToPath(new URL('./index.js', import.meta.url));
    const script = `
      const { createFileSource } = await import(${JSON.stringify(index)});
      const source = createFileSource({ id: 'test', path: ${JSON.stringify(path)}, startAt: 'start' });
      try { for await (const batch of source.records(new AbortController().signal)) break; }
      catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message, cause: error.cause?.code })); }`;
    // root reads anything, so as root the file goes to nobody and the check runs as root without capabilities
    // (no CAP_DAC_OVERRIDE): the file is then unreadable, yet the code, wherever the checkout lives, is not.
    const root = process.getuid?.() === 0;
    if (root) await chown(path, 65534, 65534);
    const argv = [process.execPath, '--input-type=module', '-e', script];
    const [command, ...args] = root ? ['setpriv', '--bounding-set=-all', '--inh-caps=-all', ...argv] : argv;
    const { stdout } = await promisify(execFile)(command as string, args);
    const failure = JSON.parse(stdout) as { code: string; message: string; cause: string };
    assert.equal(failure.code, 'SW_ERR_SOURCE');
    assert.match(failure.message, /messages: permission denied/);
    assert.equal(failure.cause, 'EACCES');
  }));
