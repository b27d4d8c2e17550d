import { normalizeIp } from '../../core/ip.js';

/** Canonical text of a 4-byte (IPv4) or 16-byte (IPv6) network-order address; callers check the size. */
export function formatAddress(bytes: Buffer): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // normalizeIp folds ::ffff:a.b.c.d to a.b.c.d, so a dual-stack socket's peer is the same key as over IPv4.
  return normalizeIp(groups.join(':')) as string;
}
