import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../src/config/load.js';
import type { SecurityEvent } from '../src/core/event.js';
import { WireAnalyzer } from '../src/detectors/wire/analyzer.js';
import { challengeHeader, requestText, responseText, SERVER, WIRE_DEFAULTS, type RequestSpec } from '../src/detectors/wire/testing.js';
import { isProvisionalResponse, parseSipMessage } from '../src/parsers/sip/message.js';
import { Analyzer } from '../src/pipeline/analyzer.js';
import { decodeHep } from '../src/sources/hep/decode.js';
import { encodeHep3 } from '../src/sources/hep/testing.js';

/**
 * Issue 5's figures: SIP messages per second through HEP decode, SIP parse, the wire detectors and the rules
 * and policy, on one core; and the memory of tracking 1M distinct sources. Each runs in a child process of its
 * own (`node dist/bench/wire.js throughput|memory`), so one figure's heap does not colour the other.
 */

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

function frame(text: string, from: { ip: string; port: number }, to: { ip: string; port: number }, at: number): Buffer {
  return encodeHep3({
    srcIp: from.ip, srcPort: from.port, dstIp: to.ip, dstPort: to.port,
    seconds: Math.floor(at / 1000), micros: (at % 1000) * 1000, payload: text,
  });
}

function request(spec: RequestSpec, at: number): Buffer {
  return frame(requestText(spec), { ip: spec.ip, port: spec.port ?? 5060 }, { ip: SERVER, port: 5060 }, at);
}

function response(spec: RequestSpec, at: number, status: number, reason: string, extra: string[] = []): Buffer {
  return frame(responseText(spec, status, reason, extra), { ip: SERVER, port: 5060 }, { ip: spec.ip, port: spec.port ?? 5060 }, at);
}

function address(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/**
 * A traced server's day, compressed: phones registering through a challenge, keep-alive OPTIONS, calls that
 * are challenged and answered, and attackers cracking passwords, enumerating and dialling — 80% legitimate.
 */
export function trafficMix(messages: number, sources: number): Buffer[] {
  const frames: Buffer[] = [];
  let at = T0;
  let n = 0;
  while (frames.length < messages) {
    n++;
    const ip = address(n % sources);
    const callId = `c${n}`;
    at += 1;
    switch (n % 10) {
      case 0: case 1: case 2: {
        const first: RequestSpec = { method: 'REGISTER', user: String(1000 + (n % 500)), ip, callId, seq: 1, userAgent: 'Yealink SIP-T46S 66.86.0.15' };
        const second: RequestSpec = { ...first, seq: 2, auth: { username: first.user, nonce: `n${n}` } };
        frames.push(request(first, at), response(first, at, 401, 'Unauthorized', [challengeHeader(`n${n}`)]), request(second, at + 1), response(second, at + 1, 200, 'OK'));
        break;
      }
      case 3: case 4: case 5: {
        const ping: RequestSpec = { method: 'OPTIONS', user: 'ping', ip, callId, userAgent: 'Grandstream GXP2170' };
        frames.push(request(ping, at), response(ping, at, 200, 'OK'));
        break;
      }
      case 6: case 7: {
        const invite: RequestSpec = { method: 'INVITE', user: '1001', target: `0${4420_0000_000 + (n % 9999)}`, ip, callId, seq: 1, userAgent: 'Yealink SIP-T46S 66.86.0.15' };
        const retry: RequestSpec = { ...invite, seq: 2, auth: { username: '1001', nonce: `i${n}` } };
        frames.push(request(invite, at), response(invite, at, 407, 'Proxy Authentication Required', [challengeHeader(`i${n}`).replace('WWW-', 'Proxy-')]));
        frames.push(request(retry, at + 1), response(retry, at + 1, 100, 'Trying'), response(retry, at + 2, 180, 'Ringing'), response(retry, at + 3, 200, 'OK'));
        break;
      }
      case 8: {
        const guess: RequestSpec = { method: 'REGISTER', user: '100', ip, callId, seq: 2, userAgent: 'friendly-scanner', auth: { username: '100', nonce: `x${n}` } };
        frames.push(request(guess, at), response(guess, at, 403, 'Forbidden'));
        break;
      }
      default: {
        const probe: RequestSpec = { method: 'INVITE', user: 'guest', target: `00972${59000000 + n}`, ip, callId };
        frames.push(request(probe, at), response(probe, at, 404, 'Not Found'));
      }
    }
  }
  return frames.slice(0, messages);
}

export function pipeline(): { wire: WireAnalyzer; analyzer: Analyzer; push: (buffer: Buffer) => void; events: () => number } {
  const config = validateConfig({ node: 'bench', enforce: { backend: 'dry-run' } });
  const wire = new WireAnalyzer({ ...WIRE_DEFAULTS, floodRate: config.wire.flood.rate, cooldownMs: config.wire.flood.cooldown, challengeTimeoutMs: config.wire.challengeTimeout });
  const analyzer = new Analyzer(config);
  let events = 0;
  const run = (out: readonly SecurityEvent[]): void => {
    for (const event of out) {
      events++;
      analyzer.process(event);
    }
  };
  return {
    wire, analyzer, events: () => events,
    push(buffer) {
      const decoded = decodeHep(buffer);
      if (!decoded.ok) return;
      const { frame } = decoded;
      if (frame.protoType !== 1 || isProvisionalResponse(frame.payload)) return; // as the HEP source does
      const message = parseSipMessage(frame.payload);
      if (message === null) return;
      run(wire.observe({
        at: frame.timestampMs ?? T0, srcIp: frame.srcIp, srcPort: frame.srcPort, dstIp: frame.dstIp, dstPort: frame.dstPort,
        transport: frame.protocol === 6 ? 'tcp' : 'udp', message,
      }));
    },
  };
}

function throughput(): void {
  const warm = 50_000;
  // The frames live in one buffer, and each is handed over as a fresh view, as a socket hands over a datagram:
  // 450k separate Buffer objects held for the whole run would only make the collector's work look bigger.
  const frames = trafficMix(400_000 + warm, 50_000);
  const offsets = new Uint32Array(frames.length + 1);
  for (let i = 0; i < frames.length; i++) offsets[i + 1] = offsets[i]! + frames[i]!.length;
  const all = Buffer.concat(frames);
  frames.length = 0;
  const p = pipeline();
  const view = (i: number): Buffer => all.subarray(offsets[i]!, offsets[i + 1]!);
  for (let i = 0; i < warm; i++) p.push(view(i)); // JIT and tables warm, on the same timeline
  const started = process.hrtime.bigint();
  for (let i = warm; i < offsets.length - 1; i++) p.push(view(i));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const messages = offsets.length - 1 - warm;
  process.stdout.write(`${JSON.stringify({ messages, rate: messages / seconds, events: p.events() })}\n`);
}

/**
 * 1M distinct sources inside two minutes, so all are still tracked at the end. `probes`: each sends one
 * REGISTER that is challenged and never answered (each becomes an account probe, so the rules hold a key per
 * source as well). `sources`: each sends one OPTIONS answered 200 (the flood and scanner tables only).
 */
async function memory(kind: 'probes' | 'sources'): Promise<void> {
  const count = 1_000_000;
  const p = pipeline();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  for (let i = 0; i < count; i++) {
    const at = T0 + Math.floor(i / 10); // 10,000 new sources a second
    const ip = address(i);
    if (kind === 'probes') {
      const spec: RequestSpec = { method: 'REGISTER', user: String(100 + (i % 900)), ip, callId: `m${i}`, userAgent: 'Z 5.5' };
      p.push(request(spec, at));
      p.push(response(spec, at, 401, 'Unauthorized', [challengeHeader(`m${i}`)]));
    } else {
      const spec: RequestSpec = { method: 'OPTIONS', user: 'ping', ip, callId: `s${i}`, userAgent: 'Z 5.5' };
      p.push(request(spec, at));
      p.push(response(spec, at, 200, 'OK'));
    }
  }
  // Several full collections: the first leaves pages of dead packets that later ones compact and hand back.
  for (let i = 0; i < 4; i++) gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc?.();
  const usage = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ sources: p.wire.stats.sources, rss: usage.rss, heapUsed: usage.heapUsed, stateHeap: usage.heapUsed - before.heapUsed, heapTotal: usage.heapTotal, external: usage.external, rssBefore: before.rss, events: p.events(), ruleKeys: p.analyzer.engine.trackedKeys })}\n`);
}

/** Runs one figure in a fresh `node` and returns its JSON line. */
export function runWireBench(mode: 'throughput' | 'probes' | 'sources'): Record<string, number> {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--v8-pool-size=1', '--expose-gc', script, mode], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`wire bench ${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'throughput') throughput();
  else if (process.argv[2] === 'probes' || process.argv[2] === 'sources') await memory(process.argv[2]);
}
