import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ManualClock } from '../../core/clock.js';
import { createParser } from '../../parsers/index.js';
import { createSyslogListener, MAX_BATCH, type ReceivedSyslog, type SyslogListenerOptions } from './listener.js';
import { lineFor } from './route.js';

const run = promisify(execFile);
const LOOPBACK = { host: '127.0.0.1', port: 0 };
const PIKE = 'WARNING: pike [pike_funcs.c:135]: pike_check_ipaddr(): PIKE - BLOCKing ip 198.51.100.7, node=0x1';

function hasLogger(): boolean {
  try {
    execFileSync('logger', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Waits, a few ms at a time, for a condition the listener reaches asynchronously. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A listener whose batches are collected in the background until `stop()`. */
async function start(options: SyslogListenerOptions = { udp: LOOPBACK, tcp: LOOPBACK }) {
  const controller = new AbortController();
  const listener = createSyslogListener(options);
  const received: ReceivedSyslog[] = [];
  const batches: number[] = [];
  const done = (async () => {
    for await (const batch of listener.messages(controller.signal)) {
      batches.push(batch.length);
      received.push(...batch);
    }
  })();
  const ports = await listener.listening();
  return {
    listener,
    ports,
    received,
    batches,
    /** Resolves with the first message whose text includes `text`. */
    async next(text: string): Promise<ReceivedSyslog> {
      await until(() => received.some((r) => r.message.message.includes(text)), `"${text}"`);
      return received.find((r) => r.message.message.includes(text)) as ReceivedSyslog;
    },
    async stop(): Promise<void> {
      controller.abort();
      await done;
    },
  };
}

async function sendUdp(port: number, ...datagrams: (string | Buffer)[]): Promise<void> {
  const socket = createSocket('udp4');
  for (const datagram of datagrams) {
    await new Promise<void>((resolve, reject) => socket.send(datagram, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }
  socket.close();
}

async function connectTcp(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // a refused or reset peer is what some tests expect
  await once(socket, 'connect');
  return socket;
}

function octetCounted(text: string): string {
  return `${Buffer.byteLength(text)} ${text}`;
}

describe('syslog listener: a real sender (util-linux logger)', { skip: !hasLogger() && 'logger is not installed' }, () => {
  for (const transport of ['udp', 'tcp'] as const) {
    for (const format of ['--rfc3164', '--rfc5424'] as const) {
      it(`receives kamailio's pike block over ${transport} ${format} and parses it to a flood event`, async () => {
        const syslog = await start();
        try {
          const port = transport === 'udp' ? syslog.ports.udp : syslog.ports.tcp;
          await run('logger', ['--server', '127.0.0.1', '--port', String(port), `--${transport}`, format, '-t', 'kamailio', PIKE]);
          const got = await syslog.next('PIKE - BLOCKing');
          assert.equal(got.message.app, 'kamailio');
          assert.equal(got.transport, transport);
          assert.match(got.peer, /^127\.0\.0\.1:\d+$/);
          const events = createParser('kamailio').parse(lineFor(got.message, 'kamailio'), {
            timezone: 'local',
            referenceTime: got.receivedAt,
          });
          assert.deepEqual(events.map((e) => [e.kind, e.ip]), [['flood', '198.51.100.7']]);
        } finally {
          await syslog.stop();
        }
      });
    }
  }
});

describe('syslog listener', () => {
  it('reads octet-counted TCP frames split anywhere, counting bytes not characters', async () => {
    const syslog = await start({ tcp: LOOPBACK });
    try {
      const texts = ['<13>Jan  1 00:00:00 h app: first', '<13>Jan  1 00:00:00 h app: zweite Größe', '<13>1 - h app - - - third'];
      const stream = Buffer.from(texts.map(octetCounted).join(''));
      const socket = await connectTcp(syslog.ports.tcp ?? 0);
      for (let i = 0; i < stream.length; i += 7) {
        socket.write(stream.subarray(i, i + 7));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await syslog.next('third');
      assert.deepEqual(syslog.received.map((r) => [r.message.message, r.transport]), [
        ['first', 'tcp'],
        ['zweite Größe', 'tcp'],
        ['third', 'tcp'],
      ]);
      socket.destroy();
    } finally {
      await syslog.stop();
    }
  });

  it('drops a garbage or oversize datagram, counts it, and still delivers the next one', async () => {
    const syslog = await start({ udp: LOOPBACK, maxMessageBytes: 256 });
    try {
      const oversize = `<13>app: ${'x'.repeat(300)}`;
      await sendUdp(syslog.ports.udp ?? 0, Buffer.from([0xff, 0x00, 0x3c]), 'no pri here', oversize, '<13>app: good one\n');
      const got = await syslog.next('good one');
      assert.equal(got.message.app, 'app');
      assert.equal(got.transport, 'udp');
      assert.deepEqual(syslog.listener.counters(), { received: 1, dropped: 3, connectionsRefused: 0 });
    } finally {
      await syslog.stop();
    }
  });

  it('stamps receivedAt from the clock and leaves a missing timestamp missing', async () => {
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    const syslog = await start({ udp: LOOPBACK, clock });
    try {
      await sendUdp(syslog.ports.udp ?? 0, '<13>kamailio[7]: no date');
      const got = await syslog.next('no date');
      assert.equal(got.receivedAt, Date.UTC(2024, 0, 1));
      assert.equal(got.message.timestamp, undefined);
    } finally {
      await syslog.stop();
    }
  });

  it('closes only the connection whose frame is over the limit', async () => {
    const syslog = await start({ tcp: LOOPBACK, maxMessageBytes: 1024 });
    try {
      const good = await connectTcp(syslog.ports.tcp ?? 0);
      const bad = await connectTcp(syslog.ports.tcp ?? 0);
      good.write('<13>app: before\n');
      await syslog.next('before');
      const closed = once(bad, 'close');
      bad.write(octetCounted(`<13>app: ${'y'.repeat(2000)}`));
      await closed;
      good.write('<13>app: after\n');
      await syslog.next('after');
      assert.equal(syslog.listener.counters().dropped, 1);
      assert.equal(syslog.received.length, 2);
      good.destroy();
    } finally {
      await syslog.stop();
    }
  });

  it('refuses connections past maxConnections, counts them, and keeps serving the open ones', async () => {
    const syslog = await start({ tcp: LOOPBACK, maxConnections: 1 });
    try {
      const first = await connectTcp(syslog.ports.tcp ?? 0);
      first.write('<13>app: one\n');
      await syslog.next('one');
      const second = connect(syslog.ports.tcp ?? 0, '127.0.0.1');
      second.on('error', () => undefined);
      await once(second, 'close');
      assert.equal(syslog.listener.counters().connectionsRefused, 1);
      first.write('<13>app: two\n');
      await syslog.next('two');
      first.destroy();
    } finally {
      await syslog.stop();
    }
  });

  it('closes a connection that stays silent past idleTimeoutMs', async () => {
    const syslog = await start({ tcp: LOOPBACK, idleTimeoutMs: 50 });
    try {
      const idle = await connectTcp(syslog.ports.tcp ?? 0);
      const started = Date.now();
      // A deadline, so a listener that never closes idle connections fails the test instead of hanging it.
      const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error('idle connection not closed within 3 s')), 3000).unref());
      await Promise.race([once(idle, 'close'), deadline]);
      assert.ok(Date.now() - started >= 40, 'closed for being idle, not at once');
    } finally {
      await syslog.stop();
    }
  });

  it('yields what arrived since the last batch, at most MAX_BATCH at a time', async () => {
    const controller = new AbortController();
    const listener = createSyslogListener({ tcp: LOOPBACK });
    const batches = listener.messages(controller.signal)[Symbol.asyncIterator]();
    const { tcp } = await listener.listening();
    const total = MAX_BATCH + 10;
    const socket = await connectTcp(tcp ?? 0);
    socket.write(Array.from({ length: total }, (_, i) => `<13>app: m${i}\n`).join(''));
    await until(() => listener.counters().received === total, `${total} messages`);
    const first = await batches.next();
    const second = await batches.next();
    assert.equal(first.value?.length, MAX_BATCH);
    assert.equal(second.value?.length, 10);
    assert.equal(second.value?.at(-1)?.message.message, `m${total - 1}`);
    socket.destroy();
    controller.abort();
    assert.equal((await batches.next()).done, true);
  });

  it('ends a pending iteration on abort and frees its ports', async () => {
    const controller = new AbortController();
    const listener = createSyslogListener({ udp: LOOPBACK, tcp: LOOPBACK });
    const batches = listener.messages(controller.signal)[Symbol.asyncIterator]();
    const pending = batches.next();
    const { tcp } = await listener.listening();
    controller.abort();
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.deepEqual(listener.address(), {});
    const server = createServer();
    server.listen(tcp, '127.0.0.1');
    await once(server, 'listening');
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails the iteration with SW_ERR_SOURCE when a port cannot be bound', async () => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const address = holder.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const listener = createSyslogListener({ tcp: { host: '127.0.0.1', port } });
      const batches = listener.messages(new AbortController().signal)[Symbol.asyncIterator]();
      await assert.rejects(batches.next(), { code: 'SW_ERR_SOURCE' });
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
