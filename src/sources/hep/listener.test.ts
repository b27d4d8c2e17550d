import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { isSipwardenError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { createHepListener, type HepListenerOptions, type HepReceived } from './listener.js';
import { encodeHep3, encodeHepLegacy, type HepSample } from './testing.js';

const LOOPBACK = [{ host: '127.0.0.1', port: 0 }];
const INVITE = 'INVITE sip:+88216@192.0.2.1 SIP/2.0\r\nCall-ID: c1\r\n\r\n';

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A listener whose batches are collected in the background until `stop()`. */
async function start(options: Partial<HepListenerOptions> = {}) {
  const controller = new AbortController();
  const listener = createHepListener({ udp: LOOPBACK, tcp: LOOPBACK, maxConnections: 8, ...options });
  const received: HepReceived[] = [];
  const done = (async () => {
    for await (const batch of listener.frames(controller.signal)) received.push(...batch);
  })();
  const ports = await listener.listening();
  return {
    listener,
    received,
    udpPort: ports.udp[0] as number,
    tcpPort: ports.tcp[0] as number,
    /** Resolves once `count` frames arrived in all. */
    async frames(count: number): Promise<HepReceived[]> {
      await until(() => received.length >= count, `${count} frames (have ${received.length})`);
      return received;
    },
    async stop(): Promise<void> {
      controller.abort();
      await done;
    },
  };
}

async function sendUdp(port: number, ...datagrams: Buffer[]): Promise<void> {
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

async function write(socket: Socket, bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => socket.write(bytes, (e) => (e ? reject(e) : resolve())));
}

const frame = (srcIp: string, extra: Partial<HepSample> = {}): Buffer =>
  encodeHep3({ srcIp, dstIp: '192.0.2.1', srcPort: 5070, payload: INVITE, ...extra });

describe('HEP listener', () => {
  it('receives HEPv3 over UDP, stamped with the clock, the peer and the HEP transport', async () => {
    const clock = new ManualClock(1_750_000_000_000);
    const hep = await start({ clock });
    await sendUdp(hep.udpPort, frame('198.51.100.7', { seconds: 1_700_000_000, micros: 250_000, correlationId: 'c1' }));
    const [got] = await hep.frames(1);
    assert.equal(got?.transport, 'udp');
    assert.equal(got?.receivedAt, 1_750_000_000_000);
    assert.match(got?.peer ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(got?.frame.version, 3);
    assert.equal(got?.frame.srcIp, '198.51.100.7');
    assert.equal(got?.frame.srcPort, 5070);
    assert.equal(got?.frame.timestampMs, 1_700_000_000_250);
    assert.equal(got?.frame.correlationId, 'c1');
    assert.equal(got?.frame.payload.toString(), INVITE);
    assert.equal(hep.listener.stats().received, 1);
    await hep.stop();
  });

  it('receives HEPv1 and HEPv2 (Kamailio siptrace hep_version 1/2) over UDP', async () => {
    const hep = await start();
    await sendUdp(
      hep.udpPort,
      encodeHepLegacy(2, { srcIp: '203.0.113.9', dstIp: '192.0.2.1', srcPort: 5071, payload: INVITE }),
      encodeHepLegacy(1, { srcIp: '2001:db8::9', dstIp: '2001:db8::1', payload: INVITE }),
    );
    const got = await hep.frames(2);
    assert.deepEqual(got.map((r) => [r.frame.version, r.frame.srcIp, r.frame.protoType]), [[2, '203.0.113.9', 1], [1, '2001:db8::9', 1]]);
    await hep.stop();
  });

  it('cuts a HEPv3 TCP stream split at every byte, and several frames in one write', async () => {
    const hep = await start();
    const socket = await connectTcp(hep.tcpPort);
    const first = frame('198.51.100.1', { compressedPayload: gzipSync(INVITE) });
    for (const byte of first) await write(socket, Buffer.from([byte]));
    await hep.frames(1);
    await write(socket, Buffer.concat([frame('198.51.100.2'), frame('198.51.100.3'), frame('198.51.100.4')]));
    const got = await hep.frames(4);
    assert.deepEqual(got.map((r) => r.frame.srcIp), ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']);
    assert.ok(got.every((r) => r.transport === 'tcp'));
    assert.equal(got[0]?.frame.payload.toString(), INVITE, 'the gzip payload is inflated');
    socket.destroy();
    await hep.stop();
  });

  it('accepts frames with the auth key, drops and counts those without it or with another one', async () => {
    const hep = await start({ authKey: 'k3y-of-the-lab' });
    await sendUdp(
      hep.udpPort,
      frame('198.51.100.1', { authKey: 'wrong' }),
      frame('198.51.100.2'),
      encodeHepLegacy(2, { srcIp: '198.51.100.3', dstIp: '192.0.2.1' }),
      frame('198.51.100.4', { authKey: 'k3y-of-the-lab' }),
    );
    const got = await hep.frames(1);
    await until(() => hep.listener.stats().dropped.unauthorized === 3, 'three unauthorized drops');
    assert.deepEqual(got.map((r) => r.frame.srcIp), ['198.51.100.4']);
    assert.equal(JSON.stringify(got[0]?.frame).includes('k3y'), false, 'the key does not travel with the frame');
    await hep.stop();
  });

  it('counts garbage, truncated and oversized datagrams by reason and still delivers the good frames after them', async () => {
    const hep = await start({ maxBytes: 1000 });
    const truncated = frame('198.51.100.1').subarray(0, 40);
    const big = frame('198.51.100.2', { payload: `${INVITE}${'x'.repeat(2000)}` });
    const bomb = frame('198.51.100.3', { compressedPayload: gzipSync(Buffer.alloc(50_000)) });
    await sendUdp(hep.udpPort, Buffer.from('GET / HTTP/1.0\r\n\r\n'), truncated, Buffer.alloc(0), big, bomb, frame('198.51.100.9'));
    const [got] = await hep.frames(1);
    assert.equal(got?.frame.srcIp, '198.51.100.9');
    await until(() => hep.listener.stats().dropped.oversized === 2, 'two oversized drops');
    assert.deepEqual(hep.listener.stats().dropped, { malformed: 3, oversized: 2, unauthorized: 0, overflow: 0 });
    await hep.stop();
  });

  it('closes only the TCP connection whose stream breaks HEPv3 framing; the others carry on', async () => {
    const hep = await start({ maxBytes: 1000 });
    const good = await connectTcp(hep.tcpPort);
    const bad = await connectTcp(hep.tcpPort);
    const closed = once(bad, 'close');
    await write(bad, Buffer.from('REGISTER sip:x SIP/2.0\r\n\r\n'));
    await closed;
    const tooLong = await connectTcp(hep.tcpPort);
    const closedToo = once(tooLong, 'close');
    // A header announcing a 64 KiB frame to a listener limited to 1000 bytes: nothing is buffered for it.
    await write(tooLong, Buffer.from([0x48, 0x45, 0x50, 0x33, 0xff, 0xff]));
    await closedToo;
    await write(good, frame('198.51.100.5'));
    const [got] = await hep.frames(1);
    assert.equal(got?.frame.srcIp, '198.51.100.5');
    const stats = hep.listener.stats();
    assert.equal(stats.connectionsBroken, 2);
    assert.deepEqual([stats.dropped.malformed, stats.dropped.oversized], [1, 1]);
    good.destroy();
    await hep.stop();
  });

  it('refuses connections past maxConnections, counts them, and keeps serving the open ones', async () => {
    const hep = await start({ maxConnections: 2 });
    const open = [await connectTcp(hep.tcpPort), await connectTcp(hep.tcpPort)];
    const third = await connectTcp(hep.tcpPort);
    await once(third, 'close');
    assert.equal(hep.listener.stats().connectionsRefused, 1);
    await write(open[1] as Socket, frame('198.51.100.6'));
    const [got] = await hep.frames(1);
    assert.equal(got?.frame.srcIp, '198.51.100.6');
    // A closed connection frees its slot.
    (open[0] as Socket).destroy();
    let fourth = await connectTcp(hep.tcpPort);
    for (const deadline = Date.now() + 3000; Date.now() < deadline; fourth = await connectTcp(hep.tcpPort)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (!fourth.destroyed) break;
    }
    await write(fourth, frame('198.51.100.7'));
    await hep.frames(2);
    for (const socket of [...open, fourth]) socket.destroy();
    await hep.stop();
  });

  it('logs drops at most every 10 s per reason, with the count, and never the auth key', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, callback) => (lines.push(chunk.toString()), callback()) });
    const clock = new ManualClock(1_750_000_000_000);
    const hep = await start({ clock, authKey: 'sekrit-hep-key', logger: createLogger('info', 't', sink) });
    const wrong = frame('198.51.100.1', { authKey: 'sekrit-hep-kez' });
    await sendUdp(hep.udpPort, wrong, wrong, wrong, Buffer.from('junk'));
    await until(() => hep.listener.stats().dropped.unauthorized === 3 && hep.listener.stats().dropped.malformed === 1, 'the drops');
    clock.advance(10_000);
    await sendUdp(hep.udpPort, wrong);
    await until(() => hep.listener.stats().dropped.unauthorized === 4, 'the fourth drop');
    await until(() => lines.length === 3, 'three log lines');
    const logged = lines.map((l) => JSON.parse(l) as { reason: string; dropped: number; peer: string; msg: string });
    assert.deepEqual(logged.map((l) => [l.reason, l.dropped]), [['unauthorized', 1], ['malformed', 1], ['unauthorized', 3]]);
    assert.match(logged[0]?.msg ?? '', /auth key does not match/);
    assert.equal(lines.some((l) => l.includes('sekrit')), false, 'neither key appears in the log');
    await hep.stop();
  });

  it('ends a pending iteration on abort and frees its ports', async () => {
    const controller = new AbortController();
    const listener = createHepListener({ udp: LOOPBACK, tcp: LOOPBACK, maxConnections: 1 });
    const iteration = (async () => {
      let batches = 0;
      for await (const _ of listener.frames(controller.signal)) batches++;
      return batches;
    })();
    const ports = await listener.listening();
    controller.abort();
    assert.equal(await iteration, 0);
    const again = createHepListener({ udp: [{ host: '127.0.0.1', port: ports.udp[0] as number }], tcp: [{ host: '127.0.0.1', port: ports.tcp[0] as number }], maxConnections: 1 });
    const second = new AbortController();
    const rebound = (async () => {
      for await (const _ of again.frames(second.signal)) break;
    })();
    assert.deepEqual(await again.listening(), ports);
    second.abort();
    await rebound;
  });

  it('fails with SW_ERR_SOURCE naming the address when a port is taken (EADDRINUSE)', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as { port: number }).port;
    const listener = createHepListener({ udp: LOOPBACK, tcp: [{ host: '127.0.0.1', port }], maxConnections: 1 });
    await assert.rejects(
      (async () => {
        for await (const _ of listener.frames(new AbortController().signal)) break;
      })(),
      (error: unknown) => isSipwardenError(error, 'SW_ERR_SOURCE') && error.message.includes(`tcp://127.0.0.1:${port}`) && error.message.includes('EADDRINUSE'),
    );
    taken.close();
  });
});
