import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import { createLogger } from './logger.js';

it('logs JSON lines for journald and redacts keys that can hold secrets, at the top and one level down', () => {
  let out = '';
  const sink = new Writable({ write(chunk, _enc, done) { out += String(chunk); done(); } });
  const logger = createLogger('info', 'pbx1', sink);
  logger.info({ secret: 's1', source: { password: 'p1', authKey: 'k1' }, authorization: 'Bearer swt_x', headers: { cookie: 'sipwarden_session=abc' }, token: 't1' }, 'hello');
  const line = JSON.parse(out.trim()) as Record<string, unknown>;
  assert.equal(line.msg, 'hello');
  assert.equal(line.node, 'pbx1');
  for (const secret of ['s1', 'p1', 'k1', 'swt_x', 'abc', 't1']) assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
});
