import { formatAddress } from './address.js';
import { fail, toMillis, type HepResult } from './frame.js';

/*
 * HEPv1/v2, the Kamailio siptrace default (hep_version=1), as its senders memcpy C structs onto the wire:
 *   struct hep_hdr     { u8 version; u8 hdr_len; u8 family; u8 ip_proto; u16 sport; u16 dport; }  8 bytes, ports BE
 *   struct hep_iphdr   { in_addr src, dst; }  8 bytes  |  struct hep_ip6hdr { in6_addr src, dst; }  32 bytes
 *   struct hep_timehdr { u32 tv_sec; u32 tv_usec; u16 captid; }  v2 only; 12 bytes with the C padding
 * then the raw SIP message. hdr_len is 8 + the address block (Kamailio, captagent and sngrep all set it so).
 * The time header is copied in host order, little-endian on every sender we know of.
 */
const HEADER = 8;
const TIME_HEADER = 12;
const AF_INET = 2;
/** AF_INET6 is 10 on Linux, where the senders run; BSD values (24, 28, 30) would be guesses. */
const AF_INET6 = 10;

export function decodeHepLegacy(packet: Buffer): HepResult {
  if (packet.length < HEADER) return fail(`HEPv1/v2 packet of ${packet.length} bytes is shorter than its 8-byte header`);
  const version = packet[0] === 2 ? 2 : 1;
  const addressFamily = packet.readUInt8(2);
  if (addressFamily !== AF_INET && addressFamily !== AF_INET6) {
    return fail(`HEPv${version} address family ${addressFamily} is neither AF_INET (2) nor AF_INET6 (10)`);
  }
  const addressBytes = addressFamily === AF_INET ? 4 : 16;
  const headerLength = HEADER + 2 * addressBytes;
  if (packet.readUInt8(1) !== headerLength) {
    return fail(`HEPv${version} header length ${packet.readUInt8(1)}, expected ${headerLength} for family ${addressFamily}`);
  }
  const payloadOffset = headerLength + (version === 2 ? TIME_HEADER : 0);
  if (packet.length <= payloadOffset) return fail('missing payload');

  const srcIp = formatAddress(packet.subarray(HEADER, HEADER + addressBytes));
  const dstIp = formatAddress(packet.subarray(HEADER + addressBytes, headerLength));
  const frame = {
    version,
    family: srcIp.includes(':') ? 6 : 4,
    protocol: packet.readUInt8(3),
    srcIp,
    dstIp,
    srcPort: packet.readUInt16BE(4),
    dstPort: packet.readUInt16BE(6),
    // v1/v2 has no protocol-type field: siptrace only ever sent SIP over it.
    protoType: 1,
    captureId: version === 2 ? packet.readUInt16LE(headerLength + 8) : 0,
    payload: packet.subarray(payloadOffset),
    unknownChunks: 0,
  } as const;
  if (version === 1) return { ok: true, frame };
  const timestampMs = toMillis(packet.readUInt32LE(headerLength), packet.readUInt32LE(headerLength + 4));
  return { ok: true, frame: timestampMs === undefined ? frame : { ...frame, timestampMs } };
}
