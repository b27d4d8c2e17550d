import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { ManualClock } from '../core/clock.js';
import { isSipwardenError } from '../core/errors.js';
import { validateConfig } from '../config/load.js';
import { bindHoneypotSource } from '../daemon/honeypot-source.js';
import { parseSipMessage } from '../parsers/sip/message.js';
import { SVMAP_OPTIONS } from '../parsers/sip/samples.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { HoneypotCore } from './core.js';
import { HoneypotServer, parseListen, type HoneypotBatch } from './server.js';
import { requestText } from './testing.js';

const T0 = 1_700_000_000_000;
const core = () => new HoneypotCore({ clock: new ManualClock(T0), userAgent: 'PBX', realm: 'asterisk', reject: 503, accounts: [{ user: '100', password: '100' }] });

interface Running {
  server: HoneypotServer;
  udp: number;
  tcp: number;
  batches: HoneypotBatch[];
  next(): Promise<HoneypotBatch>;
  stop(): Promise<void>;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function start(options: { maxConnections?: number; idleTimeoutMs?: number } = {}): Promise<Running> {
  const server = new HoneypotServer({
    listen: [parseListen('udp://127.0.0.1:0'), parseListen('tcp://127.0.0.1:0')], core: core(), maxConnections: options.maxConnections ?? 8,
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
  });
  const controller = new AbortController();
  const batches: HoneypotBatch[] = [];
  let waiting: ((batch: HoneypotBatch) => void) | undefined;
  const done = (async () => {
    for await (const batch of server.batches(controller.signal)) {
      batches.push(batch);
      waiting?.(batch);
      waiting = undefined;
    }
  })();
  const [udp, tcp] = await server.listening();
  const r: Running = {
    server, udp: udp!.port, tcp: tcp!.port, batches,
    next: () => new Promise((resolve) => (waiting = resolve)),
    stop: async () => {
      controller.abort();
      await done;
    },
  };
  running.push(r);
  return r;
}

async function udpClient(): Promise<{ socket: UdpSocket; port: number; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port, received };
}

const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

describe('honeypot server', () => {
  it('parses listen addresses, IPv6 in brackets', () => {
    assert.deepEqual(parseListen('udp://0.0.0.0:5060'), { transport: 'udp', host: '0.0.0.0', port: 5060 });
    assert.deepEqual(parseListen('tcp://[::]:5080'), { transport: 'tcp', host: '::', port: 5080 });
    assert.throws(() => parseListen('tls://0.0.0.0:5061'), (e) => isSipwardenError(e, 'SW_ERR_CONFIG'));
  });

  it('UDP: answers the datagram\'s source, and nobody its Via, Contact or URI names', async () => {
    const hp = await start();
    const attacker = await udpClient();
    const victim = await udpClient();
    const aimed = requestText({
      method: 'INVITE', uri: `sip:0046812345678@127.0.0.1:${victim.port}`, contact: `<sip:x@127.0.0.1:${victim.port}>`,
      via: `SIP/2.0/UDP 127.0.0.1:${victim.port};branch=z9hG4bK-aim`, headers: [`Record-Route: <sip:127.0.0.1:${victim.port};lr>`],
    });
    const batch = hp.next();
    attacker.socket.send(aimed, hp.udp, '127.0.0.1');
    const { events, hits, dialled } = await batch;
    await settle();
    assert.equal(attacker.received.length, 1);
    assert.equal(parseSipMessage(attacker.received[0]!)?.kind === 'response' && parseSipMessage(attacker.received[0]!)?.method, 'INVITE');
    assert.equal(victim.received.length, 0, 'nothing went to the address the request named');
    assert.deepEqual(events.map((e) => [e.kind, e.ip, e.port]), [
      ['request', '127.0.0.1', attacker.port], ['challenge', '127.0.0.1', attacker.port], ['dialplan-miss', '127.0.0.1', attacker.port],
    ]);
    assert.deepEqual([hits.length, dialled[0]?.number], [1, '46812345678']);
    attacker.socket.close();
    victim.socket.close();
  });

  it('TCP: frames a request sent byte by byte, answers on the connection, and the source counts as verified', async () => {
    const hp = await start();
    const socket = connect(hp.tcp, '127.0.0.1');
    await once(socket, 'connect');
    const batch = hp.next();
    const answer = once(socket, 'data');
    for (const byte of Buffer.from(SVMAP_OPTIONS)) socket.write(Buffer.from([byte]));
    const [data] = (await answer) as [Buffer];
    assert.match(data.toString(), /^SIP\/2\.0 200 OK\r\n/);
    const { events, hits } = await batch;
    assert.deepEqual(events.map((e) => [e.kind, e.transport, e.evidence]), [['request', 'tcp', 'verified'], ['scanner', 'tcp', 'verified']]);
    assert.deepEqual([hits[0]?.verified, hits[0]?.tool], [true, 'svmap']);
    socket.destroy();
  });

  it('TCP: refuses connections past maxConnections and cuts a stream that is not SIP', async () => {
    const hp = await start({ maxConnections: 1 });
    const first = connect(hp.tcp, '127.0.0.1');
    await once(first, 'connect');
    await settle(50);
    const second = connect(hp.tcp, '127.0.0.1');
    await once(second, 'close');
    assert.equal(hp.server.counters.connectionsRefused, 1);
    first.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(first, 'close');
    assert.equal(hp.server.counters.invalid, 1);
  });

  it('TCP: closes a silent connection after the idle timeout', async () => {
    const hp = await start({ idleTimeoutMs: 50 });
    const socket: Socket = connect(hp.tcp, '127.0.0.1');
    const started = Date.now();
    await once(socket, 'close');
    assert.ok(Date.now() - started < 2000);
  });

  it('counts datagrams that are not SIP and answers none of them', async () => {
    const hp = await start();
    const client = await udpClient();
    client.socket.send('\x16\x03\x01 not sip', hp.udp, '127.0.0.1');
    await settle();
    assert.deepEqual([hp.server.counters.invalid, client.received.length, hp.batches.length], [1, 0, 0]);
    client.socket.close();
  });

  it('a port in use fails with SW_ERR_SOURCE; an abort frees the ports', async () => {
    const hp = await start();
    const clash = new HoneypotServer({ listen: [parseListen(`tcp://127.0.0.1:${hp.tcp}`)], core: core(), maxConnections: 1 });
    await assert.rejects(async () => {
      for await (const _ of clash.batches(new AbortController().signal)) break;
    }, (e) => isSipwardenError(e, 'SW_ERR_SOURCE') && /cannot bind/.test(e.message));
    await hp.stop();
    running.length = 0;
    const again = new HoneypotServer({ listen: [parseListen(`udp://127.0.0.1:${hp.udp}`), parseListen(`tcp://127.0.0.1:${hp.tcp}`)], core: core(), maxConnections: 1 });
    const controller = new AbortController();
    const loop = (async () => {
      for await (const _ of again.batches(controller.signal)) break;
    })();
    assert.equal((await again.listening()).length, 2);
    controller.abort();
    await loop;
  });
});

describe('honeypot source in the daemon', () => {
  const store = openSqliteStore(':memory:');
  after(() => store.close());

  it('stores hits and dialled numbers stamped with the sensor before it yields the events', async () => {
    const config = validateConfig({
      node: 'pbx1',
      sources: [{ id: 'hp', type: 'honeypot', listen: ['udp://127.0.0.1:0'] }],
    });
    const spec = config.sources[0];
    assert.equal(spec?.type, 'honeypot');
    if (spec?.type !== 'honeypot') return;
    // A free port for the honeypot: bind one, note it, release it.
    const free = await udpClient();
    const port = free.port;
    free.socket.close();
    const source = bindHoneypotSource({ ...spec, listen: [`udp://127.0.0.1:${port}`] }, config, store, 'pbx1/hp', new ManualClock(T0));
    const stop = new AbortController();
    const iterator = source.events(stop.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    const client = await udpClient();
    await settle(50);
    client.socket.send(requestText({ method: 'INVITE', uri: 'sip:011442079460123@127.0.0.1' }), port, '127.0.0.1');
    const { value } = await first;
    assert.ok(Array.isArray(value));
    assert.ok(value.every((e) => e.sensor === 'pbx1/hp' && e.server === 'honeypot'));
    const [hit] = await store.honeypotHits({});
    assert.deepEqual([hit?.sensor, hit?.destination, hit?.number, hit?.at], ['pbx1/hp', '011442079460123', '442079460123', T0]);
    assert.deepEqual((await store.hotlist({})).map((e) => [e.number, e.hits, e.sources]), [['442079460123', 1, 1]]);
    stop.abort();
    await iterator.return?.();
    client.socket.close();
  });
});
