import { isIPv4 } from 'node:net';

/** A small HEP encoder for tests: builds valid frames, and lets a test break one chunk at a time. */

export function u8(n: number): Buffer {
  return Buffer.from([n]);
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Network-order bytes of a dotted IPv4 or a full or compressed IPv6 address. */
export function addressBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = ip.includes('::') ? groups(tail) : [];
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return Buffer.concat(all.map(u16));
}

export function chunk(type: number, body: Buffer | string, vendor = 0): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([u16(vendor), u16(type), u16(bytes.length + 6), bytes]);
}

/** Wraps chunks in the HEP3 header; `totalLength` overrides the computed one to forge a mismatch. */
export function hep3(chunks: Buffer[], options: { magic?: string; totalLength?: number } = {}): Buffer {
  const body = Buffer.concat(chunks);
  return Buffer.concat([Buffer.from(options.magic ?? 'HEP3', 'latin1'), u16(options.totalLength ?? body.length + 6), body]);
}

export interface HepSample {
  srcIp: string;
  dstIp: string;
  srcPort?: number;
  dstPort?: number;
  protocol?: number;
  seconds?: number;
  micros?: number;
  protoType?: number;
  captureId?: number;
  authKey?: string;
  correlationId?: string;
  nodeName?: string;
  vlan?: number;
  payload?: Buffer | string;
  /** Sent as chunk 0x0010 instead of 0x000f. */
  compressedPayload?: Buffer;
}

/** The chunks of a frame, in Kamailio siptrace's order, for tests that add, drop or replace some. */
export function sampleChunks(sample: HepSample): Buffer[] {
  const v4 = isIPv4(sample.srcIp);
  const chunks = [
    chunk(0x0001, u8(v4 ? 2 : 10)),
    chunk(0x0002, u8(sample.protocol ?? 17)),
    chunk(v4 ? 0x0003 : 0x0005, addressBytes(sample.srcIp)),
    chunk(v4 ? 0x0004 : 0x0006, addressBytes(sample.dstIp)),
    chunk(0x0007, u16(sample.srcPort ?? 5060)),
    chunk(0x0008, u16(sample.dstPort ?? 5060)),
    chunk(0x0009, u32(sample.seconds ?? 1_700_000_000)),
    chunk(0x000a, u32(sample.micros ?? 0)),
    chunk(0x000b, u8(sample.protoType ?? 1)),
    chunk(0x000c, u32(sample.captureId ?? 2001)),
  ];
  if (sample.correlationId !== undefined) chunks.push(chunk(0x0011, sample.correlationId));
  if (sample.vlan !== undefined) chunks.push(chunk(0x0012, u16(sample.vlan)));
  if (sample.nodeName !== undefined) chunks.push(chunk(0x0013, sample.nodeName));
  if (sample.authKey !== undefined) chunks.push(chunk(0x000e, sample.authKey));
  if (sample.compressedPayload) chunks.push(chunk(0x0010, sample.compressedPayload));
  else chunks.push(chunk(0x000f, sample.payload ?? 'OPTIONS sip:100@192.0.2.1 SIP/2.0\r\n\r\n'));
  return chunks;
}

export function encodeHep3(sample: HepSample): Buffer {
  return hep3(sampleChunks(sample));
}

/** A HEPv1 or v2 packet as Kamailio siptrace memcpys it (time header little-endian, padded to 12 bytes). */
export function encodeHepLegacy(version: 1 | 2, sample: HepSample): Buffer {
  const src = addressBytes(sample.srcIp);
  const dst = addressBytes(sample.dstIp);
  const header = Buffer.concat([
    Buffer.from([version, 8 + src.length * 2, src.length === 4 ? 2 : 10, sample.protocol ?? 17]),
    u16(sample.srcPort ?? 5060),
    u16(sample.dstPort ?? 5060),
    src,
    dst,
  ]);
  const parts: Buffer[] = [header];
  if (version === 2) {
    const time = Buffer.alloc(12);
    time.writeUInt32LE(sample.seconds ?? 1_700_000_000, 0);
    time.writeUInt32LE(sample.micros ?? 0, 4);
    time.writeUInt16LE(sample.captureId ?? 1, 8);
    parts.push(time);
  }
  const payload = sample.payload ?? 'OPTIONS sip:100@192.0.2.1 SIP/2.0\r\n\r\n';
  parts.push(typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload);
  return Buffer.concat(parts);
}
