import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { parseConfigText } from '../config/load.js';
import type { HepSourceConfig } from '../config/schema.js';
import { ManualClock } from '../core/clock.js';
import type { SecurityEvent } from '../core/event.js';
import { createLogger } from '../core/logger.js';
import { encodeHep3, encodeHepLegacy, type HepSample } from '../sources/hep/testing.js';
import { bindHepSource, PacketTime, packetTime, parseListen, wireTransport } from './hep-source.js';

const SERVER = '192.0.2.10';
const T = 1_750_000_000_000;

describe('HEP source: packet time, transport, listen addresses', () => {
  it('takes the HEPv3 capture time unless it is more than 5 minutes off; v1/v2 always take the receive time', () => {
    assert.equal(packetTime({ version: 3, timestampMs: T - 299_000 }, T), T - 299_000);
    assert.equal(packetTime({ version: 3, timestampMs: T + 301_000 }, T), T);
    assert.equal(packetTime({ version: 3, timestampMs: 1000 }, T), T);
    assert.equal(packetTime({ version: 3 }, T), T);
    assert.equal(packetTime({ version: 2, timestampMs: T - 1000 }, T), T);
    assert.equal(packetTime({ version: 1 }, T), T);
  });

  it('maps the traced packet\'s IP protocol to the transport the detectors weigh as evidence', () => {
    assert.deepEqual([17, 6, 22, 132, 0, 99].map(wireTransport), ['udp', 'tcp', 'tls', 'tcp', 'udp', 'udp']);
  });

  it('reads listen URLs, IPv6 in brackets', () => {
    assert.deepEqual(parseListen('udp://0.0.0.0:9060'), { transport: 'udp', endpoint: { host: '0.0.0.0', port: 9060 } });
    assert.deepEqual(parseListen('tcp://[::1]:9061'), { transport: 'tcp', endpoint: { host: '::1', port: 9061 } });
  });

  it('runs packet time on from the newest packet at the wall clock\'s pace while traffic is quiet', () => {
    const time = new PacketTime();
    assert.equal(time.at(T), T, 'before any packet: the wall clock');
    time.seen(T - 120_000, T);
    assert.equal(time.at(T + 5000), T - 115_000);
    time.seen(T - 200_000, T + 6000); // an older packet does not move it back
    assert.equal(time.at(T + 6000), T - 114_000);
  });
});

function register(ip: string, callId: string, seq: number, options: { auth?: string; userAgent?: string } = {}): string {
  const lines = [
    `REGISTER sip:${SERVER} SIP/2.0`,
    `Via: SIP/2.0/UDP ${ip}:5070;branch=z9hG4bK${callId}${seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:1001@${SERVER}>;tag=f${callId}`,
    `To: <sip:1001@${SERVER}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${seq} REGISTER`,
    `Contact: <sip:1001@${ip}:5070>`,
    `User-Agent: ${options.userAgent ?? 'Yealink SIP-T46S'}`,
  ];
  if (options.auth) lines.push(`Authorization: Digest username="1001",realm="${SERVER}",nonce="${options.auth}",uri="sip:${SERVER}",response="0123456789abcdef0123456789abcdef"`);
  return [...lines, 'Content-Length: 0', '', ''].join('\r\n');
}

function challenge(ip: string, callId: string, seq: number, nonce: string): string {
  return [
    'SIP/2.0 401 Unauthorized',
    `Via: SIP/2.0/UDP ${ip}:5070;branch=z9hG4bK${callId}${seq};rport=5070;received=${ip}`,
    `From: <sip:1001@${SERVER}>;tag=f${callId}`,
    `To: <sip:1001@${SERVER}>;tag=srv`,
    `Call-ID: ${callId}`,
    `CSeq: ${seq} REGISTER`,
    `WWW-Authenticate: Digest realm="${SERVER}", nonce="${nonce}"`,
    'Content-Length: 0', '', '',
  ].join('\r\n');
}

async function startSource(yaml: string, clock: ManualClock) {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
  const config = parseConfigText(yaml, 'test.yaml', {});
  const spec = config.sources[0] as HepSourceConfig;
  const source = bindHepSource(spec, config, 'pbx/hep', createLogger('info', 'pbx', sink), clock);
  const controller = new AbortController();
  const events: SecurityEvent[] = [];
  const done = (async () => {
    for await (const batch of source.events(controller.signal)) events.push(...batch);
  })();
  const port = (await source.listener.listening()).udp[0] as number;
  const socket = createSocket('udp4');
  return {
    source, events, lines,
    async send(...frames: Buffer[]): Promise<void> {
      for (const frame of frames) await new Promise<void>((resolve, reject) => socket.send(frame, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    },
    async until(what: string, condition: () => boolean): Promise<void> {
      const deadline = Date.now() + 3000;
      while (!condition()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => e.kind))}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stop(): Promise<void> {
      socket.close();
      controller.abort();
      await done;
    },
  };
}

const hep = (sample: Partial<HepSample> & { payload: string }): Buffer =>
  encodeHep3({ srcIp: '198.51.100.7', dstIp: SERVER, srcPort: 5070, dstPort: 5060, seconds: Math.floor(T / 1000), ...sample });

describe('HEP source: frames to events', () => {
  const yaml = [
    'node: pbx',
    `sources: [{ id: hep, type: hep, listen: "udp://127.0.0.1:0", servers: [${SERVER}] }]`,
    'wire: { challengeTimeout: 8s }',
  ].join('\n');

  it('turns a scanner and a rejected password into events stamped with the sensor; non-SIP and broken SIP are counted', async () => {
    const clock = new ManualClock(T);
    const src = await startSource(yaml, clock);
    await src.send(
      hep({ payload: 'hlog: a Kamailio log line', protoType: 100 }),
      hep({ payload: 'not SIP at all' }),
      hep({ srcIp: '198.51.100.9', payload: register('198.51.100.9', 'svw1', 1, { userAgent: 'friendly-scanner' }) }),
      hep({ payload: register('198.51.100.7', 'c1', 1) }),
      hep({ srcIp: SERVER, dstIp: '198.51.100.7', srcPort: 5060, dstPort: 5070, payload: challenge('198.51.100.7', 'c1', 1, 'n1') }),
      hep({ payload: register('198.51.100.7', 'c1', 2, { auth: 'n1' }) }),
      hep({ srcIp: SERVER, dstIp: '198.51.100.7', srcPort: 5060, dstPort: 5070, payload: challenge('198.51.100.7', 'c1', 2, 'n2') }),
      encodeHepLegacy(2, { srcIp: '203.0.113.5', dstIp: SERVER, payload: register('203.0.113.5', 'v2', 1, { userAgent: 'sipcli/v1.8' }) }),
    );
    await src.until('scanner x2 and auth-failure', () => src.events.filter((e) => e.kind !== 'challenge').length >= 3);
    const byKind = src.events.filter((e) => e.kind !== 'challenge').map((e) => [e.kind, e.ip, e.evidence]);
    assert.deepEqual(byKind, [
      ['scanner', '198.51.100.9', 'spoofable'],
      // The credentials carried the nonce sent to that address: the round trip proves it.
      ['auth-failure', '198.51.100.7', 'verified'],
      ['scanner', '203.0.113.5', 'spoofable'],
    ]);
    assert.ok(src.events.every((e) => e.sensor === 'pbx/hep' && e.server === 'hep'));
    assert.equal(src.events.find((e) => e.kind === 'auth-failure')?.at, T, 'HEPv3 capture time');
    assert.deepEqual(src.source.stats(), { notSip: 1, unparseable: 1, messages: 6 });
    assert.ok(src.events.every((e) => e.ip !== SERVER), 'our own server is never the culprit');
    assert.ok(src.lines.some((l) => l.includes('no parseable SIP message')), 'the broken frame was logged');
    await src.stop();
  });

  it('times out an unanswered challenge on packet time: a sender two minutes slow gets no early verdicts', async () => {
    const clock = new ManualClock(T);
    const src = await startSource(yaml, clock);
    const sent = Math.floor((T - 120_000) / 1000);
    await src.send(
      hep({ seconds: sent, payload: register('198.51.100.7', 'p1', 1) }),
      hep({ seconds: sent, srcIp: SERVER, dstIp: '198.51.100.7', srcPort: 5060, dstPort: 5070, payload: challenge('198.51.100.7', 'p1', 1, 'n1') }),
    );
    // A challenge is not an event of its own: wait until both messages went through the detectors.
    await src.until('both messages', () => src.source.stats().messages === 2);
    clock.advance(5000);
    // A flush runs within a second; with wall time it would already be 125 s past the challenge.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal(src.events.some((e) => e.kind === 'unknown-account'), false);
    clock.advance(4000);
    await src.until('the probe verdict', () => src.events.some((e) => e.kind === 'unknown-account'));
    const probe = src.events.find((e) => e.kind === 'unknown-account');
    assert.equal(probe?.at, sent * 1000);
    assert.equal(probe?.ip, '198.51.100.7');
    assert.equal(probe?.sensor, 'pbx/hep');
    await src.stop();
  });
});
