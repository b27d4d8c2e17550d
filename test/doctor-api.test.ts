import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { freePort } from '../src/core/testing/ports.js';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSmtp, type SmtpSink } from '../src/alerts/testing.js';
import { CLI, cli, tempDir } from './helpers.js';

/** Async, because the SMTP server the doctor talks to runs in this process. */
function doctor(config: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'doctor', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('exit', (status) => resolve({ status, out }));
  });
}


describe('sipwarden doctor: API and alerts', () => {
  const dir = tempDir('sw-doctor-api-');
  let smtp: SmtpSink;
  before(async () => {
    smtp = await startSmtp({ user: 'sw', password: 'pw-not-logged' });
  });
  after(() => smtp.close());

  const write = (name: string, lines: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, [`store: { sqlite: ${join(dir, 'sw.db')} }`, 'enforce: { backend: dry-run }', ...lines].join('\n'));
    return path;
  };

  it('says when nobody can log in, then counts the tokens; checks the SMTP login', async () => {
    const config = write('a.yaml', [
      'api: { listen: "127.0.0.1:0" }',
      `alerts: { email: { smtp: { host: 127.0.0.1, port: ${smtp.port}, user: sw, password: pw-not-logged }, from: a@example.net, to: [b@example.net] } }`,
    ]);
    let r = await doctor(config);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /warn {2}no API token: nobody can log in to the console\n {6}fix: sipwarden token create --role admin/);
    assert.match(r.out, /ok {4}alerts: SMTP server 127\.0\.0\.1 accepts a connection and the login/);
    assert.doesNotMatch(r.out, /pw-not-logged/);
    assert.equal(cli(['token', 'create', '--role', 'admin', '--name', 'me', '--config', config]).status, 0);
    r = await doctor(config);
    assert.match(r.out, /ok {4}API tokens: 1 \(admin\)/);
  });

  it('a dead SMTP server is a failure with the fix', async () => {
    const config = write('b.yaml', [`alerts: { email: { smtp: { host: 127.0.0.1, port: ${await freePort()} }, from: a@example.net, to: [b@example.net] } }`]);
    const r = await doctor(config);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /FAIL {2}alerts: SMTP server 127\.0\.0\.1: .*\n {6}fix: check alerts\.email\.smtp/);
  });
});
