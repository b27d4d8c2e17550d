import { createHash, timingSafeEqual } from 'node:crypto';
import { gunzipSync, inflateSync } from 'node:zlib';
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

/** Body size of the fixed-size chunks this decoder reads (0: any size), by chunk type; anything else is a broken sender. */
const FIXED_SIZE = new Uint8Array(0x14);
const SIZE_NAME: string[] = [];
for (const [type, size, label] of [
  [CHUNK.family, 1, 'ip family'],
  [CHUNK.protocol, 1, 'ip protocol'],
  [CHUNK.srcIp4, 4, 'ipv4 address'],
  [CHUNK.dstIp4, 4, 'ipv4 address'],
  [CHUNK.srcIp6, 16, 'ipv6 address'],
  [CHUNK.dstIp6, 16, 'ipv6 address'],
  [CHUNK.srcPort, 2, 'port'],
  [CHUNK.dstPort, 2, 'port'],
  [CHUNK.seconds, 4, 'timestamp seconds'],
  [CHUNK.micros, 4, 'timestamp microseconds'],
  [CHUNK.protoType, 1, 'protocol type'],
  [CHUNK.captureId, 4, 'capture id'],
  [CHUNK.vlan, 2, 'vlan'],
] as const) {
  FIXED_SIZE[type] = size;
  SIZE_NAME[type] = label;
}

const KNOWN = new Uint8Array(0x14);
for (const type of Object.values(CHUNK)) KNOWN[type] = 1;

/**
 * Chunk bodies by type, as offsets into the packet: the generic chunks are all below 0x14, so two small arrays
 * replace a Map of sub-buffers (a frame has a dozen chunks; allocating a Buffer view for each was most of the cost).
 */
class ChunkIndex {
  // One pair of arrays for every frame: decoding is synchronous, and nothing keeps the index past the call.
  private static readonly starts = new Int32Array(0x14);
  private static readonly ends = new Int32Array(0x14);
  readonly start = ChunkIndex.starts;
  readonly end = ChunkIndex.ends;
  constructor(readonly packet: Buffer) {
    this.start.fill(-1);
  }
  has(type: number): boolean {
    return this.start[type]! >= 0;
  }
  u8(type: number): number | undefined {
    const at = this.start[type]!;
    return at < 0 ? undefined : this.packet[at]!;
  }
  u16(type: number): number | undefined {
    const at = this.start[type]!;
    return at < 0 ? undefined : this.packet.readUInt16BE(at);
  }
  u32(type: number): number | undefined {
    const at = this.start[type]!;
    return at < 0 ? undefined : this.packet.readUInt32BE(at);
  }
  bytes(type: number): Buffer | undefined {
    const at = this.start[type]!;
    return at < 0 ? undefined : this.packet.subarray(at, this.end[type]!);
  }
  text(type: number): string | undefined {
    const at = this.start[type]!;
    return at < 0 ? undefined : this.packet.toString('utf8', at, this.end[type]!);
  }
}

function decodeHep3(packet: Buffer, authKey: string | undefined, maxBytes: number): HepResult {
  if (packet.length < 6) return fail(`packet of ${packet.length} bytes is shorter than the 6-byte HEP3 header`);
  const total = packet.readUInt16BE(4);
  if (total < 6) return fail(`total length ${total} is smaller than the 6-byte header`);
  if (total !== packet.length) return fail(`total length ${total} does not match the packet's ${packet.length} bytes`);

  const chunks = new ChunkIndex(packet);
  let unknownChunks = 0;
  for (let offset = 6; offset < total; ) {
    if (offset + 6 > total) return fail(`truncated chunk header at offset ${offset}`);
    const vendor = packet.readUInt16BE(offset);
    const type = packet.readUInt16BE(offset + 2);
    const length = packet.readUInt16BE(offset + 4);
    // A zero length would never advance the loop; an overrun would read the next frame or beyond the buffer.
    if (length < 6) return fail(`chunk 0x${hex(type)} at offset ${offset} has length ${length}, below 6`);
    if (offset + length > total) return fail(`chunk 0x${hex(type)} at offset ${offset} overruns the frame`);
    const bodyStart = offset + 6;
    const bodyEnd = offset + length;
    offset = bodyEnd;
    if (vendor !== 0 || type >= 0x14 || KNOWN[type] === 0) {
      unknownChunks++;
      continue;
    }
    // Two keys or two source addresses in one frame is no sender we know, and lets a forger pick which one wins.
    if (chunks.has(type)) return fail(`duplicate chunk 0x${hex(type)}`);
    const size = FIXED_SIZE[type]!;
    if (size !== 0 && bodyEnd - bodyStart !== size) return fail(`${SIZE_NAME[type]} chunk of ${bodyEnd - bodyStart} bytes`);
    chunks.start[type] = bodyStart;
    chunks.end[type] = bodyEnd;
  }

  if (authKey !== undefined) {
    const sent = chunks.bytes(CHUNK.authKey);
    if (!sent) return fail('auth key required, but the frame has no 0x000e chunk');
    if (!sameSecret(sent, Buffer.from(authKey, 'utf8'))) return fail('auth key does not match');
  }

  const src = chunks.bytes(chunks.has(CHUNK.srcIp4) ? CHUNK.srcIp4 : CHUNK.srcIp6);
  const dst = chunks.bytes(chunks.has(CHUNK.dstIp4) ? CHUNK.dstIp4 : CHUNK.dstIp6);
  if (!src) return fail('missing source address');
  if (!dst) return fail('missing destination address');
  const payload = framePayload(chunks.bytes(CHUNK.payload), chunks.bytes(CHUNK.compressed), maxBytes);
  if (typeof payload === 'string') return fail(payload);

  const srcIp = formatAddress(src);
  const frame: HepFrame = {
    version: 3,
    family: src.length === 4 || isMappedV4(srcIp) ? 4 : 6,
    protocol: chunks.u8(CHUNK.protocol) ?? 0,
    srcIp,
    dstIp: formatAddress(dst),
    srcPort: chunks.u16(CHUNK.srcPort) ?? 0,
    dstPort: chunks.u16(CHUNK.dstPort) ?? 0,
    protoType: chunks.u8(CHUNK.protoType) ?? 0,
    captureId: chunks.u32(CHUNK.captureId) ?? 0,
    payload,
    unknownChunks,
  };
  const timestampMs = toMillis(chunks.u32(CHUNK.seconds), chunks.u32(CHUNK.micros));
  if (timestampMs !== undefined) frame.timestampMs = timestampMs;
  // The auth key (0x000e) was checked above when one is configured and is never copied into the frame: a frame
  // travels on to events and logs, and the key is a shared secret.
  const correlationId = chunks.text(CHUNK.correlationId);
  if (correlationId !== undefined) frame.correlationId = correlationId;
  const nodeName = chunks.text(CHUNK.nodeName);
  if (nodeName !== undefined) frame.nodeName = nodeName;
  const vlan = chunks.u16(CHUNK.vlan);
  if (vlan !== undefined) frame.vlan = vlan;
  return { ok: true, frame };
}

/** The payload, inflated if compressed, or an error message. */
function framePayload(raw: Buffer | undefined, compressed: Buffer | undefined, maxBytes: number): Buffer | string {
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

/** An IPv6 source that formatAddress folded to IPv4 (::ffff:a.b.c.d). */
function isMappedV4(ip: string): boolean {
  return !ip.includes(':');
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}
