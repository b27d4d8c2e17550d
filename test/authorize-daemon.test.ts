import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cdrLine, type RunningDaemon, startDaemon, tempDir } from './helpers.js';

/**
 * The call-authorisation endpoint in the real daemon: the dialplan's question over HTTP, answered from the same
 * state the CDRs build. A long call to a satellite number opens a critical incident; from then on the account's
 * risky calls are denied (enforce mode), its domestic calls are not. The token comes from the environment and
 * never reaches the log.
 */
const TOKEN = 'daemon-token-5f0c1e9a7b3d';


describe('call authorisation in the daemon: HTTP -> fraud state -> allow or deny', () => {
  const dir = tempDir('sw-authz-');
  const csv = join(dir, 'Master.csv');
  const config = join(dir, 'sipwarden.yaml');
  writeFileSync(csv, '');
  writeFileSync(config, [
    'node: pbx',
    'timezone: UTC',
    `store: { sqlite: ${join(dir, 'sw.db')} }`,
    `sources: [{ id: cdr, type: file, path: ${csv}, format: asterisk-cdr, startAt: start }]`,
    'fraud:',
    '  homeCountry: GB',
    '  allowedCountries: [IE]',
    '  actions: { mode: enforce, deny: 1h }',
    // Port 0: the daemon logs the port it got.
    '  authorize: { listen: "127.0.0.1:0", token: "${AUTHZ_TOKEN}", failMode: closed }',
    'enforce: { backend: dry-run }',
    '',
  ].join('\n'));
  let daemon: RunningDaemon | undefined;
  let base = '';
  after(async () => {
    await daemon?.stop();
  });
  const ask = async (params: Record<string, string>, token = TOKEN): Promise<Response> =>
    fetch(`${base}/v1/authorize?${new URLSearchParams(params).toString()}`, { headers: { authorization: `Bearer ${token}` } });

  it('listens where the config says, and says where', async () => {
    process.env.AUTHZ_TOKEN = TOKEN;
    daemon = startDaemon(config);
    const line = (await daemon.waitForLog(/call authorisation listening/)) as { msg: string; port?: number };
    assert.ok(line.port && line.port > 0);
    base = `http://127.0.0.1:${line.port}`;
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.equal((await ask({ account: '1001', destination: '02079460000' }, 'not-the-token-at-all')).status, 401);
  });

  it('allows a domestic call and a T3 call while the account is clean', async () => {
    assert.deepEqual(await (await ask({ account: '1002', destination: '02079460000', ip: '192.0.2.20:5060' })).json(), {
      decision: 'allow', reason: 'domestic', tier: 'T1', e164: '+442079460000',
    });
    assert.equal(await (await ask({ format: 'text', account: '1002', destination: '0037167000123' })).text(), 'ALLOW');
  });

  it('after a critical incident from the CDRs, denies the account\'s risky calls, naming the incident', async () => {
    appendFileSync(csv, cdrLine('1002', '00882161234567', 10_000, '1795230600.2'));
    await daemon!.waitForLog(/toll-fraud incident opened/);
    const body = (await (await ask({ account: '1002', destination: '0037167000999' })).json()) as Record<string, string>;
    assert.equal(body.decision, 'deny');
    assert.match(body.reason!, /account under toll-fraud incident fraud-1002-/);
    assert.match(body.incident!, /^fraud-1002-/);
    assert.match(await (await ask({ format: 'text', account: '1002', destination: '0037167000999' })).text(), /^DENY account under toll-fraud incident/);
    assert.equal(((await (await ask({ account: '1002', destination: '02079460000' })).json()) as { decision: string }).decision, 'allow', 'domestic calls go on');
    await daemon!.waitForLog(/call denied/);
    assert.ok(daemon!.logs.every((l) => !JSON.stringify(l).includes(TOKEN)), 'the token is never logged');
  });
});
