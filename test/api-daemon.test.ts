import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from './console/daemon.js';
import { cli, startDaemon, tempDir, waitFor, type RunningDaemon } from './helpers.js';

/**
 * The API through the real CLI and daemon: a token from `sipwarden token create`, a ban and an unban over HTTP,
 * enforced by the running daemon at once (the API wakes it instead of waiting for its poll), and the story
 * `sipwarden why` then tells.
 */

describe('API through the daemon', () => {
  const dir = tempDir('sw-api-daemon-');
  const config = join(dir, 'sipwarden.yaml');
  const journal = join(dir, 'enforcer.ndjson');
  const target = '203.0.113.77';
  let daemon: RunningDaemon;
  let base: string;
  let token: string;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const log = join(dir, 'asterisk.log');
    writeFileSync(log, '');
    writeFileSync(config, [
      'node: apitest',
      `store: { sqlite: ${join(dir, 'sw.db')} }`,
      `sources: [{ id: ast, type: file, path: ${log}, format: asterisk }]`,
      `enforce: { backend: dry-run, journal: ${journal} }`,
      `api: { listen: "127.0.0.1:${port}", console: false }`,
      '',
    ].join('\n'));
    const created = cli(['token', 'create', '--role', 'operator', '--name', 't', '-c', config]);
    assert.equal(created.status, 0, created.stderr);
    token = created.stdout.trim().split('\n').pop()!.trim();
    assert.match(token, /^swt_/);
    daemon = startDaemon(config);
    await daemon.waitForLog(/API and console listening/, 15_000);
  });

  after(async () => {
    await daemon?.stop();
  });

  const call = async (method: string, path: string, body?: unknown, auth = token) => {
    const response = await fetch(`${base}${path}`, {
      method, headers: { authorization: `Bearer ${auth}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, json: (await response.json()) as any };
  };

  const journalHas = (op: string) => existsSync(journal) && readFileSync(journal, 'utf8').split('\n').some((line) => line.includes(`"${op}"`) && line.includes(target));

  it('bans through the API, enforced at once; unbans, lifted at once; why and the audit show both', async () => {
    const health = await fetch(`${base}/healthz`);
    assert.deepEqual([health.status, await health.json()], [200, { status: 'ok', node: 'apitest' }]);
    assert.equal((await call('GET', '/api/v1/decisions', undefined, 'swt_not-a-token')).status, 401);

    const banned = await call('POST', '/api/v1/decisions', { target, duration: '1h', reason: 'ticket 7: scanning' });
    assert.equal(banned.status, 201, JSON.stringify(banned.json));
    const id = banned.json.decision.id;
    // The daemon also polls the store once a second; half a second (typically a few ms) means the API woke it.
    await daemon.waitForLog(new RegExp(`^banned ${target.replace(/\./g, '\\.')} \\(manual\\): ticket 7`), 500);
    await waitFor(() => journalHas('ban'), 1000, 'the dry-run enforcer journal to show the ban');

    const lifted = await call('POST', `/api/v1/decisions/${id}/revoke`, { reason: 'customer verified' });
    assert.equal(lifted.status, 200, JSON.stringify(lifted.json));
    await daemon.waitForLog(new RegExp(`^unbanned ${target.replace(/\./g, '\\.')}: customer verified`), 500);
    await waitFor(() => journalHas('unban'), 1000, 'the dry-run enforcer journal to show the unban');

    const why = cli(['why', target, '--json', '-c', config]);
    assert.equal(why.status, 0, why.stderr);
    const story = JSON.parse(why.stdout);
    assert.equal(story.banned, false);
    assert.deepEqual([story.decisions[0].id, story.decisions[0].actor, story.decisions[0].revokedBy], [id, 'token:t', 'token:t']);
    assert.deepEqual(story.audit.map((a: { actor: string; action: string; reason: string }) => [a.actor, a.action, a.reason]).sort(), [
      ['token:t', 'ban', 'ticket 7: scanning'],
      ['token:t', 'unban', 'customer verified'],
    ]);
    assert.ok(story.timeline.some((e: { type: string; title: string }) => e.type === 'revoke' && e.title === `ban ${id} lifted by token:t`));

    const audit = await call('GET', `/api/v1/audit?target=${target}`);
    assert.deepEqual(audit.json.audit.map((a: { action: string }) => a.action), ['unban', 'ban']);
    const list = cli(['list', '--json', '-c', config]);
    assert.deepEqual(JSON.parse(list.stdout), [], 'no active ban left');
  });
});
