import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { isSipwardenError } from '../../core/errors.js';
import { createAmiClient, type AmiClientOptions } from './client.js';
import type { AmiMessage } from './decoder.js';
import { startAmiTestServer, type AmiTestServer, type AmiTestServerOptions } from './testing/server.js';

const USER = 'ips';
const SECRET = 'Zq9-s3cret-Xw';
const INVALID_PASSWORD = 'Event: InvalidPassword\nPrivilege: security,all\nAccountID: 100\nRemoteAddress: IPV4/UDP/198.51.100.7/5062';
const CHALLENGE_FAILED = 'Event: ChallengeResponseFailed\nPrivilege: security,all\nAccountID: 101\nRemoteAddress: IPV4/UDP/198.51.100.8/5062';

let server: AmiTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setUp(serverOptions: Partial<AmiTestServerOptions>, clientOptions: Partial<AmiClientOptions> = {}) {
  server = await startAmiTestServer({ username: USER, secret: SECRET, ...serverOptions });
  const client = createAmiClient({ host: server.host, port: server.port, username: USER, secret: SECRET, ...clientOptions });
  return { server, client };
}

function names(events: AmiMessage[]): (string | undefined)[] {
  return events.map((event) => event.get('Event'));
}

/** Reads until `count` events came (then aborts) or the iteration throws; returns both. */
async function read(messages: (signal: AbortSignal) => AsyncIterable<AmiMessage>, count = Infinity) {
  const controller = new AbortController();
  const events: AmiMessage[] = [];
  let error: unknown;
  try {
    for await (const event of messages(controller.signal)) {
      events.push(event);
      if (events.length >= count) controller.abort();
    }
  } catch (caught) {
    error = caught;
  }
  return { events, error };
}

/** Every error the client produces is a SW_ERR_SOURCE, and none carries the secret, cause chain included. */
function assertSourceError(error: unknown, pattern: RegExp): void {
  assert.ok(isSipwardenError(error, 'SW_ERR_SOURCE'), `expected SW_ERR_SOURCE, got ${String(error)}`);
  assert.match(error.message, pattern);
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    assert.ok(!e.message.includes(SECRET), `secret leaked in: ${e.message}`);
    assert.ok(!String(e.stack).includes(SECRET), 'secret leaked in a stack');
  }
}

describe('AMI client: login and events', () => {
  it('logs in with a plain secret and yields the events in order', async () => {
    const { server, client } = await setUp({ events: [INVALID_PASSWORD, CHALLENGE_FAILED] });
    const { events, error } = await read(client.messages, 2);
    assert.equal(error, undefined);
    assert.deepEqual(names(events), ['InvalidPassword', 'ChallengeResponseFailed']);
    assert.equal(events[0]?.get('RemoteAddress'), 'IPV4/UDP/198.51.100.7/5062');
    assert.deepEqual(server.logins.map((l) => [l.username, l.authType, l.events, l.accepted]), [[USER, 'plain', 'security', true]]);
  });

  it('logs in with MD5: the key is md5hex(challenge + secret), as the server computed it', async () => {
    const { server, client } = await setUp({ events: [INVALID_PASSWORD] }, { auth: 'md5', events: 'security,call' });
    const { events, error } = await read(client.messages, 1);
    assert.equal(error, undefined);
    assert.deepEqual(names(events), ['InvalidPassword']);
    const [login] = server.logins;
    assert.ok(login?.accepted && login.challenge);
    assert.equal(login.authType, 'md5');
    assert.equal(login.events, 'security,call');
    assert.equal(login.key, login.expectedKey);
    assert.equal(login.key, createHash('md5').update(login.challenge + SECRET).digest('hex'));
  });

  it('reports a wrong secret as a failed login for the user, without the secret', async () => {
    server = await startAmiTestServer({ username: USER, secret: 'the-right-one' });
    for (const auth of ['plain', 'md5'] as const) {
      const client = createAmiClient({ host: server.host, port: server.port, username: USER, secret: SECRET, auth });
      const { events, error } = await read(client.messages);
      assert.deepEqual(events, []);
      assertSourceError(error, /login to 127\.0\.0\.1:\d+ failed for user "ips".*wrong secret or unknown user/);
    }
  });

  it('rejects a server that does not greet with the AMI banner, naming what came', async () => {
    const { client } = await setUp({ banner: 'HTTP/1.1 400 Bad Request' });
    const { error } = await read(client.messages);
    assertSourceError(error, /127\.0\.0\.1:\d+ sent "HTTP\/1\.1 400 Bad Request" instead of the banner/);
  });

  it('redacts the secret when the server echoes it back', async () => {
    const { client } = await setUp({ banner: `SSH-2.0 ${SECRET}` });
    const { error } = await read(client.messages);
    assertSourceError(error, /sent "SSH-2\.0 \[secret\]" instead of the banner/);
  });

  it('fails with SW_ERR_SOURCE when nothing listens', async () => {
    const { server, client } = await setUp({});
    await server.close();
    const { error } = await read(client.messages);
    assertSourceError(error, /AMI connection to 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
  });
});

describe('AMI client: faults and shutdown', () => {
  it('yields the complete events, then throws when the connection drops mid-frame', async () => {
    const { client } = await setUp({ events: [INVALID_PASSWORD, CHALLENGE_FAILED], cutWith: 'Event: InvalidAccountID\nPrivilege: secu' });
    const { events, error } = await read(client.messages);
    assert.deepEqual(names(events), ['InvalidPassword', 'ChallengeResponseFailed']);
    assertSourceError(error, /closed in the middle of a message/);
  });

  it('throws when the server closes between frames', async () => {
    const { client } = await setUp({ events: [INVALID_PASSWORD], cutWith: '' });
    const { events, error } = await read(client.messages);
    assert.deepEqual(names(events), ['InvalidPassword']);
    assertSourceError(error, /closed by the server/);
  });

  it('detects a dead connection when Ping gets no Pong', async () => {
    const { client } = await setUp({ silent: true }, { pingIntervalMs: 10, timeoutMs: 40 });
    const { error } = await read(client.messages);
    assertSourceError(error, /did not answer Ping within 40 ms/);
  });

  it('keeps a live connection while Pongs come back', async () => {
    const { server, client } = await setUp({ events: [INVALID_PASSWORD] }, { pingIntervalMs: 5, timeoutMs: 30 });
    const controller = new AbortController();
    const events: AmiMessage[] = [];
    setTimeout(() => controller.abort(), 80);
    for await (const event of client.messages(controller.signal)) events.push(event);
    assert.deepEqual(names(events), ['InvalidPassword']);
    assert.ok(server.pongs >= 3, `only ${server.pongs} Pongs in 80 ms`);
  });

  it('ends without error on abort and closes the socket', async () => {
    const { server, client } = await setUp({ events: [INVALID_PASSWORD, CHALLENGE_FAILED] });
    const { events, error } = await read(client.messages, 1);
    assert.equal(error, undefined);
    assert.deepEqual(names(events), ['InvalidPassword']);
    assert.equal(server.closed.length, 1);
    await server.closed[0];
  });

  it('ends without error when aborted while connecting or before starting', async () => {
    const { client } = await setUp({});
    const controller = new AbortController();
    const iteration = client.messages(controller.signal)[Symbol.asyncIterator]();
    const next = iteration.next();
    controller.abort();
    assert.deepEqual(await next, { done: true, value: undefined });
    const { events, error } = await read(() => client.messages(AbortSignal.abort()), 1);
    assert.deepEqual([events, error], [[], undefined]);
  });
});

describe('AMI client: actions', () => {
  it('sends an action with a fresh ActionID and resolves with its Response', async () => {
    const { server, client } = await setUp({ events: [INVALID_PASSWORD] });
    const controller = new AbortController();
    const replies: AmiMessage[] = [];
    for await (const _event of client.messages(controller.signal)) {
      replies.push(await client.action([['Action', 'Hangup'], ['Channel', 'PJSIP/100-00000001'], ['ActionID', 'stale']]));
      replies.push(await client.action([['Action', 'Hangup'], ['Channel', 'PJSIP/101-00000002']]));
      controller.abort();
    }
    const sent = server.actions.map((a) => a.get('ActionID'));
    assert.equal(new Set(sent).size, 2);
    assert.ok(!sent.includes('stale'));
    assert.deepEqual(replies.map((r) => [r.get('Response'), r.get('ActionID'), r.get('Message')]), [
      ['Success', sent[0], 'Hangup done'],
      ['Success', sent[1], 'Hangup done'],
    ]);
    assert.deepEqual(server.actions.map((a) => a.get('Channel')), ['PJSIP/100-00000001', 'PJSIP/101-00000002']);
  });

  it('rejects when not connected', async () => {
    const { client } = await setUp({});
    await assert.rejects(client.action([['Action', 'Ping']]), (error) => (assertSourceError(error, /not logged in to 127\.0\.0\.1/), true));
  });

  it('rejects on timeout and refuses line breaks that would inject a second action', async () => {
    const { client } = await setUp({ events: [INVALID_PASSWORD], silent: true }, { timeoutMs: 30 });
    const controller = new AbortController();
    for await (const _event of client.messages(controller.signal)) {
      await assert.rejects(client.action([['Action', 'Hangup']]), (error) => (assertSourceError(error, /no response to Hangup within 30 ms/), true));
      const injected: [string, string][] = [['Action', 'Hangup'], ['Channel', 'x\r\n\r\nAction: Originate']];
      await assert.rejects(client.action(injected), (error) => (assertSourceError(error, /refused: a field has a line break/), true));
      controller.abort();
    }
  });
});
