import { createHash, timingSafeEqual } from 'node:crypto';
import { gunzipSync, inflateSync } from 'node:zlib';
import { ipFamily } from '../../core/ip.js';
import { formatAddress } from './address.js';
import { fail, HEP_MAX_BYTES, toMillis, type HepDecodeOptions, type HepFrame, type HepResult } from './frame.js';
import { decodeHepLegacy } from './legacy.js';

export type { HepDecodeOptions, HepFrame, HepResult } from './frame.js';

/**
 * True if the first `length` bytes (at most 4) are a prefix of `HEP3` or of `EEP3`, which the spec allows as
 * well; the TCP framer checks a partial header with it.
 */
export function isHep3Magic(packet: Buffer, length = 4): boolean {
  if (length > 4 || packet.length < length) return false;
  for (let i = 0; i < length; i++) {
    const c = packet[i];
    if (i === 0 ? c !== 0x48 && c !== 0x45 : c !== 'HEP3'.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Decodes one HEP packet (v3, or the legacy v1/v2 binary header Kamailio siptrace sends by default). Never
 * throws: anything malformed, oversized or unauthenticated comes back as `{ ok: false, error }`.
 */
export function decodeHep(packet: Buffer, options: HepDecodeOptions = {}): HepResult {
  const maxBytes = options.maxBytes ?? HEP_MAX_BYTES;
  if (packet.length > maxBytes) return fail(`packet of ${packet.length} bytes exceeds the ${maxBytes}-byte limit`);
  const first = packet[0];
  if (first === 1 || first === 2) {
    // v1/v2 carry no key: accepting them would let anyone on the path bypass the configured one.
    if (options.authKey !== undefined) return fail(`HEPv${first} carries no auth key, and one is required`);
    return decodeHepLegacy(packet);
  }
  if (!isHep3Magic(packet)) return fail('bad magic: not HEP3/EEP3 nor HEPv1/v2');
  return decodeHep3(packet, options.authKey, maxBytes);
}

const CHUNK = {
  family: 0x0001,
  protocol: 0x0002,
  srcIp4: 0x0003,
  dstIp4: 0x0004,
  srcIp6: 0x0005,
  dstIp6: 0x0006,
  srcPort: 0x0007,
  dstPort: 0x0008,
  seconds: 0x0009,
  micros: 0x000a,
  protoType: 0x000b,
  captureId: 0x000c,
  authKey: 0x000e,
  payload: 0x000f,
  compressed: 0x0010,
  correlationId: 0x0011,
  vlan: 0x0012,
  nodeName: 0x0013,
} as const;

/** Body size of the fixed-size chunks this decoder reads; anything else here is a broken sender. */
const FIXED_SIZE = new Map<number, [number, string]>([
  [CHUNK.family, [1, 'ip family']],
  [CHUNK.protocol, [1, 'ip protocol']],
  [CHUNK.srcIp4, [4, 'ipv4 address']],
  [CHUNK.dstIp4, [4, 'ipv4 address']],
  [CHUNK.srcIp6, [16, 'ipv6 address']],
  [CHUNK.dstIp6, [16, 'ipv6 address']],
  [CHUNK.srcPort, [2, 'port']],
  [CHUNK.dstPort, [2, 'port']],
  [CHUNK.seconds, [4, 'timestamp seconds']],
  [CHUNK.micros, [4, 'timestamp microseconds']],
  [CHUNK.protoType, [1, 'protocol type']],
  [CHUNK.captureId, [4, 'capture id']],
  [CHUNK.vlan, [2, 'vlan']],
]);

const KNOWN = new Set<number>(Object.values(CHUNK));

function decodeHep3(packet: Buffer, authKey: string | undefined, maxBytes: number): HepResult {
  if (packet.length < 6) return fail(`packet of ${packet.length} bytes is shorter than the 6-byte HEP3 header`);
  const total = packet.readUInt16BE(4);
  if (total < 6) return fail(`total length ${total} is smaller than the 6-byte header`);
  if (total !== packet.length) return fail(`total length ${total} does not match the packet's ${packet.length} bytes`);

  const chunks = new Map<number, Buffer>();
  let unknownChunks = 0;
  for (let offset = 6; offset < total; ) {
    if (offset + 6 > total) return fail(`truncated chunk header at offset ${offset}`);
    const vendor = packet.readUInt16BE(offset);
    const type = packet.readUInt16BE(offset + 2);
    const length = packet.readUInt16BE(offset + 4);
    // A zero length would never advance the loop; an overrun would read the next frame or beyond the buffer.
    if (length < 6) return fail(`chunk 0x${hex(type)} at offset ${offset} has length ${length}, below 6`);
    if (offset + length > total) return fail(`chunk 0x${hex(type)} at offset ${offset} overruns the frame`);
    const body = packet.subarray(offset + 6, offset + length);
    offset += length;
    if (vendor !== 0 || !KNOWN.has(type)) {
      unknownChunks++;
      continue;
    }
    // Two keys or two source addresses in one frame is no sender we know, and lets a forger pick which one wins.
    if (chunks.has(type)) return fail(`duplicate chunk 0x${hex(type)}`);
    const size = FIXED_SIZE.get(type);
    if (size && body.length !== size[0]) return fail(`${size[1]} chunk of ${body.length} bytes`);
    chunks.set(type, body);
  }

  if (authKey !== undefined) {
    const sent = chunks.get(CHUNK.authKey);
    if (!sent) return fail('auth key required, but the frame has no 0x000e chunk');
    if (!sameSecret(sent, Buffer.from(authKey, 'utf8'))) return fail('auth key does not match');
  }

  const src = chunks.get(CHUNK.srcIp4) ?? chunks.get(CHUNK.srcIp6);
  const dst = chunks.get(CHUNK.dstIp4) ?? chunks.get(CHUNK.dstIp6);
  if (!src) return fail('missing source address');
  if (!dst) return fail('missing destination address');
  const payload = framePayload(chunks, maxBytes);
  if (typeof payload === 'string') return fail(payload);

  const srcIp = formatAddress(src);
  const frame: HepFrame = {
    version: 3,
    family: ipFamily(srcIp) === 4 ? 4 : 6,
    protocol: chunks.get(CHUNK.protocol)?.readUInt8(0) ?? 0,
    srcIp,
    dstIp: formatAddress(dst),
    srcPort: chunks.get(CHUNK.srcPort)?.readUInt16BE(0) ?? 0,
    dstPort: chunks.get(CHUNK.dstPort)?.readUInt16BE(0) ?? 0,
    protoType: chunks.get(CHUNK.protoType)?.readUInt8(0) ?? 0,
    captureId: chunks.get(CHUNK.captureId)?.readUInt32BE(0) ?? 0,
    payload,
    unknownChunks,
  };
  const timestampMs = toMillis(chunks.get(CHUNK.seconds)?.readUInt32BE(0), chunks.get(CHUNK.micros)?.readUInt32BE(0));
  if (timestampMs !== undefined) frame.timestampMs = timestampMs;
  const text = (type: number): string | undefined => chunks.get(type)?.toString('utf8');
  // The auth key (0x000e) was checked above when one is configured and is never copied into the frame: a frame
  // travels on to events and logs, and the key is a shared secret.
  const correlationId = text(CHUNK.correlationId);
  if (correlationId !== undefined) frame.correlationId = correlationId;
  const nodeName = text(CHUNK.nodeName);
  if (nodeName !== undefined) frame.nodeName = nodeName;
  const vlan = chunks.get(CHUNK.vlan)?.readUInt16BE(0);
  if (vlan !== undefined) frame.vlan = vlan;
  return { ok: true, frame };
}

/** The payload, inflated if compressed, or an error message. */
function framePayload(chunks: Map<number, Buffer>, maxBytes: number): Buffer | string {
  const raw = chunks.get(CHUNK.payload);
  const compressed = chunks.get(CHUNK.compressed);
  if (raw && compressed) return 'both a payload and a compressed payload chunk';
  if (raw) return raw;
  if (!compressed) return 'missing payload';
  // maxOutputLength stops zlib as soon as the output passes the limit, so a 64 KiB bomb costs 64 KiB, not gigabytes.
  const gzip = compressed[0] === 0x1f && compressed[1] === 0x8b;
  try {
    return (gzip ? gunzipSync : inflateSync)(compressed, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      return `compressed payload inflates beyond the ${maxBytes}-byte limit`;
    }
    return `compressed payload is not valid ${gzip ? 'gzip' : 'zlib'} data`;
  }
}

/** Compares digests, so the comparison takes the same time whatever the length or content of the guess. */
function sameSecret(sent: Buffer, expected: Buffer): boolean {
  const digest = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
  return timingSafeEqual(digest(sent), digest(expected));
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}
