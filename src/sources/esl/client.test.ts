import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { isSipwardenError } from '../../core/errors.js';
import { createEslClient, type EslClientOptions } from './client.js';
import { RUDE_REJECTION, startEslTestServer, type EslTestServer, type EslTestServerOptions, type EventHeaders } from './testing/server.js';

const PASSWORD = 'Cl0veCon-s3cret';
const WRONG_PASSWORD = 'Wr0ng-s3cret';

const failure: EventHeaders = [
  ['Event-Subclass', 'sofia::register_failure'],
  ['Event-Name', 'CUSTOM'],
  ['profile-name', 'internal'],
  ['to-user', '1000'],
  ['network-ip', '198.51.100.7'],
  ['user-agent', 'friendly scanner'],
  ['network-port', '5062'],
];

function event(sequence: number, ip = '198.51.100.7'): EventHeaders {
  return [...failure.filter(([name]) => name !== 'network-ip'), ['network-ip', ip], ['Event-Sequence', String(sequence)]];
}

async function withServer(options: Partial<EslTestServerOptions>, run: (server: EslTestServer) => Promise<void>): Promise<void> {
  const server = await startEslTestServer({ password: PASSWORD, ...options });
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

function clientFor(server: EslTestServer, options: Partial<EslClientOptions> = {}) {
  return createEslClient({ host: server.host, port: server.port, password: PASSWORD, ...options });
}

/** Drains the iterator; returns what was yielded and what it threw. */
async function drain(iterable: AsyncIterable<Map<string, string>>): Promise<{ events: Map<string, string>[]; error: unknown }> {
  const events: Map<string, string>[] = [];
  try {
    for await (const item of iterable) events.push(item);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

function assertSourceError(error: unknown, message: RegExp): void {
  assert.ok(isSipwardenError(error, 'SW_ERR_SOURCE'), `expected SW_ERR_SOURCE, got ${inspect(error)}`);
  assert.match(error.message, message);
  const everything = inspect(error, { depth: null, showHidden: true });
  assert.ok(!everything.includes(PASSWORD) && !everything.includes(WRONG_PASSWORD), `password leaked: ${everything}`);
}

describe('ESL client: events', () => {
  it('authenticates, subscribes and yields events in order with URL-decoded values', async () => {
    await withServer({}, async (server) => {
      const sessionReady = server.nextSession();
      const iterator = clientFor(server).events(new AbortController().signal)[Symbol.asyncIterator]();
      const first = iterator.next();
      const session = await sessionReady;
      await session.subscribed;
      for (const sequence of [1, 2, 3]) session.sendEvent(event(sequence, `198.51.100.${sequence}`));
      const received = [(await first).value, (await iterator.next()).value, (await iterator.next()).value];
      await iterator.return?.();
      assert.deepEqual(
        received.map((e) => [e?.get('Event-Sequence'), e?.get('network-ip')]),
        [['1', '198.51.100.1'], ['2', '198.51.100.2'], ['3', '198.51.100.3']],
      );
      assert.equal(received[0]?.get('Event-Subclass'), 'sofia::register_failure');
      assert.equal(received[0]?.get('user-agent'), 'friendly scanner');
      assert.deepEqual(session.commands, [
        `auth ${PASSWORD}`,
        'event plain CUSTOM sofia::register_failure sofia::register_attempt sofia::pre_register sofia::register',
      ]);
      await session.closed;
    });
  });

  it('subscribes to extra event names before CUSTOM and extra subclasses after it', async () => {
    await withServer({}, async (server) => {
      const sessionReady = server.nextSession();
      const controller = new AbortController();
      const client = clientFor(server, { events: ['CHANNEL_CREATE', 'CHANNEL_HANGUP_COMPLETE', 'sofia::expire'] });
      const running = drain(client.events(controller.signal));
      const command = await (await sessionReady).subscribed;
      controller.abort();
      assert.deepEqual(await running, { events: [], error: undefined });
      assert.equal(
        command,
        'event plain CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE CUSTOM sofia::register_failure sofia::register_attempt sofia::pre_register sofia::register sofia::expire',
      );
    });
  });

  it('rejects an event name that would break the command line', () => {
    assert.throws(
      () => createEslClient({ host: '127.0.0.1', port: 8021, password: PASSWORD, events: ['CHANNEL_CREATE\n\napi x'] }),
      (error: unknown) => isSipwardenError(error, 'SW_ERR_CONFIG'),
    );
  });

  it('fails with SW_ERR_SOURCE on a wrong password, without the password in the error', async () => {
    await withServer({}, async (server) => {
      const sessionReady = server.nextSession();
      const { events, error } = await drain(clientFor(server, { password: WRONG_PASSWORD }).events(new AbortController().signal));
      assert.deepEqual(events, []);
      assertSourceError(error, /authentication failed at 127\.0\.0\.1:\d+/);
      assert.deepEqual((await sessionReady).commands, [`auth ${WRONG_PASSWORD}`]);
    });
  });

  it('fails naming host:port when the server does not greet with auth/request', async () => {
    await withServer({ greeting: RUDE_REJECTION }, async (server) => {
      const { error } = await drain(clientFor(server).events(new AbortController().signal));
      assertSourceError(error, new RegExp(`127\\.0\\.0\\.1:${server.port}.*text/rude-rejection`));
    });
  });

  it('fails naming host:port when the connection is refused', async () => {
    const server = await startEslTestServer({ password: PASSWORD });
    const { host, port } = server;
    await server.close();
    const { error } = await drain(createEslClient({ host, port, password: PASSWORD }).events(new AbortController().signal));
    assertSourceError(error, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('yields the complete events, then fails, when the connection drops in the middle of a frame', async () => {
    await withServer({}, async (server) => {
      const sessionReady = server.nextSession();
      const running = drain(clientFor(server).events(new AbortController().signal));
      const session = await sessionReady;
      await session.subscribed;
      session.sendEvent(event(1));
      session.sendEvent(event(2));
      session.sendEventThenDrop(event(3), 20);
      const { events, error } = await running;
      assert.deepEqual(events.map((e) => e.get('Event-Sequence')), ['1', '2']);
      assertSourceError(error, /closed by the server/);
    });
  });

  it('fails on a disconnect notice, after the events sent before it', async () => {
    await withServer({}, async (server) => {
      const sessionReady = server.nextSession();
      const running = drain(clientFor(server).events(new AbortController().signal));
      const session = await sessionReady;
      await session.subscribed;
      session.sendEvent(event(1));
      session.sendDisconnectNotice();
      const { events, error } = await running;
      assert.deepEqual(events.map((e) => e.get('Event-Sequence')), ['1']);
      assertSourceError(error, /disconnect notice/);
    });
  });

  it('fails when the framing breaks, after the events before the fault', async () => {
    await withServer({}, async (server) => {
      const sessionReady = server.nextSession();
      const running = drain(clientFor(server).events(new AbortController().signal));
      const session = await sessionReady;
      await session.subscribed;
      session.sendEvent(event(1));
      session.sendRaw('Content-Length: 99999999999\nContent-Type: text/event-plain\n\n');
      const { events, error } = await running;
      assert.deepEqual(events.map((e) => e.get('Event-Sequence')), ['1']);
      assertSourceError(error, /broken.*Content-Length/);
    });
  });

  it('counts Content-Length in bytes and decodes multi-byte UTF-8 split across reads', async () => {
    await withServer({}, async (server) => {
      const sessionReady = server.nextSession();
      const iterator = clientFor(server).events(new AbortController().signal)[Symbol.asyncIterator]();
      const first = iterator.next();
      const session = await sessionReady;
      await session.subscribed;
      const unicode: EventHeaders = [['Event-Subclass', 'sofia%3A%3Aregister_attempt'], ['from-user', 'Jürgen☎📞'], ['user-agent', 'Zoïper%20📞'], ['Event-Sequence', '1']];
      session.sendEvent(unicode, { raw: true, chunkBytes: 1 });
      session.sendEvent(event(2), { chunkBytes: 3 });
      const received = [(await first).value, (await iterator.next()).value];
      await iterator.return?.();
      assert.equal(received[0]?.get('from-user'), 'Jürgen☎📞');
      assert.equal(received[0]?.get('user-agent'), 'Zoïper 📞');
      assert.equal(received[0]?.get('Event-Subclass'), 'sofia::register_attempt');
      assert.equal(received[1]?.get('Event-Sequence'), '2');
    });
  });

  it('ends without error when the signal aborts, and closes the socket', async () => {
    await withServer({}, async (server) => {
      const sessionReady = server.nextSession();
      const controller = new AbortController();
      const iterator = clientFor(server).events(controller.signal)[Symbol.asyncIterator]();
      const first = iterator.next();
      const session = await sessionReady;
      await session.subscribed;
      session.sendEvent(event(1));
      assert.equal((await first).value?.get('Event-Sequence'), '1');
      const waiting = iterator.next();
      controller.abort();
      assert.deepEqual(await waiting, { done: true, value: undefined });
      await session.closed;
    });
  });

  it('does not connect when the signal is already aborted', async () => {
    await withServer({}, async (server) => {
      const controller = new AbortController();
      controller.abort();
      assert.deepEqual(await drain(clientFor(server).events(controller.signal)), { events: [], error: undefined });
    });
  });
});

describe('ESL client: api', () => {
  const uuid = '5e1f4a3c-8b2d-4d7e-9a61-0c2b3d4e5f60';
  const api = (command: string): string | undefined => {
    if (command === `uuid_kill ${uuid}`) return '+OK\n';
    if (command.startsWith('uuid_kill ')) return '-ERR No such channel!\n';
    return undefined;
  };

  /** Runs `test` once the client's events() connection is up (its first event has been yielded). */
  async function connected(server: EslTestServer, options: Partial<EslClientOptions>, test: (client: ReturnType<typeof createEslClient>) => Promise<void>) {
    const sessionReady = server.nextSession();
    const client = clientFor(server, options);
    const iterator = client.events(new AbortController().signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    const session = await sessionReady;
    await session.subscribed;
    session.sendEvent(event(1));
    await first;
    try {
      await test(client);
    } finally {
      await iterator.return?.();
    }
    return session;
  }

  it('runs uuid_kill on the event connection and resolves with the api/response body', async () => {
    await withServer({ api }, async (server) => {
      const session = await connected(server, {}, async (client) => {
        assert.equal(await client.api(`uuid_kill ${uuid}`), '+OK\n');
        const [killed, unknown] = await Promise.all([client.api(`uuid_kill ${uuid}`), client.api('uuid_kill 00000000')]);
        assert.deepEqual([killed, unknown], ['+OK\n', '-ERR No such channel!\n']);
      });
      assert.deepEqual(session.commands.slice(2), [`api uuid_kill ${uuid}`, `api uuid_kill ${uuid}`, 'api uuid_kill 00000000']);
    });
  });

  it('rejects when not connected', async () => {
    await withServer({ api }, async (server) => {
      await assert.rejects(clientFor(server).api(`uuid_kill ${uuid}`), (error: unknown) => {
        assertSourceError(error, /not connected to 127\.0\.0\.1:\d+/);
        return true;
      });
    });
  });

  it('rejects when no reply comes in time', async () => {
    await withServer({ api }, async (server) => {
      await connected(server, { timeoutMs: 50 }, async (client) => {
        await assert.rejects(client.api('status'), (error: unknown) => {
          assertSourceError(error, /api status .*no reply within 50 ms/);
          return true;
        });
      });
    });
  });

  it('refuses a command with a line break, which would inject a second command', async () => {
    await withServer({ api }, async (server) => {
      const session = await connected(server, {}, async (client) => {
        await assert.rejects(client.api(`uuid_kill ${uuid}\n\napi shutdown`), (error: unknown) => {
          assertSourceError(error, /line break/);
          return true;
        });
      });
      assert.equal(session.commands.filter((c) => c.startsWith('api')).length, 0);
    });
  });
});
