import { Reader, type Response } from 'mmdb-lib';
import { swError } from '../core/errors.js';
import { ipFamily, normalizeIp } from '../core/ip.js';
import type { AddressMap } from './ranges.js';

/**
 * MaxMind DB files (GeoLite2, DB-IP lite .mmdb, IPtoASN converted to .mmdb) read through mmdb-lib. The file is
 * checked whole when it is opened: the metadata, the size of the search tree, every tree record (each must
 * point at a node, at nothing, or inside the data section), and a sample of records must hold the field asked
 * for, so a truncated file or the wrong database fails at start-up, not on the hundredth call.
 */

/** What one kind of lookup reads from a record. */
export interface RecordShape<T> {
  kind: string;
  /** The field a record of the right database holds, for the error when no record does. */
  field: string;
  /** The databases that hold it, for the same error. */
  expected: string;
  has(record: unknown): boolean;
  /** The value, or undefined for a record without it (unknown, not an error). */
  read(record: unknown): T | undefined;
}

const MARKER = Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1');
/** The spec caps the metadata at 128 KiB, so the marker is looked for in the tail only. */
const METADATA_MAX = 128 * 1024;
const SEPARATOR = 16;
/** Records decoded at open to check the database holds the field asked for. */
const SAMPLE_LEAVES = 256;
const SAMPLE_NODES = 100_000;
/**
 * Distinct addresses whose answers are kept. Phones re-register every few minutes and an attack comes from a
 * handful of addresses, so the hot path mostly asks again; a full table costs about 1 MiB.
 */
const CACHE_ENTRIES = 8192;

/** Where the MaxMind DB metadata marker starts (at most 128 KiB from the end), or -1. */
function markerAt(bytes: Buffer): number {
  const from = Math.max(0, bytes.length - METADATA_MAX - MARKER.length);
  const at = bytes.subarray(from).lastIndexOf(MARKER);
  return at < 0 ? -1 : from + at;
}

/** Whether the bytes end in MaxMind DB metadata: how a .mmdb is told from a CSV file, whatever its name. */
export function isMaxMindDb(bytes: Buffer): boolean {
  return markerAt(bytes) >= 0;
}

/** Opens a MaxMind DB held in `bytes`; throws SW_ERR_CONFIG naming `path` for anything it cannot trust. */
export function openMaxMindDb<T>(path: string, bytes: Buffer, shape: RecordShape<T>): AddressMap<T> {
  const fail = (problem: string, cause?: unknown) => swError('SW_ERR_CONFIG', `geo ${shape.kind} database ${path}: ${problem}`, cause);
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(bytes);
  } catch (error) {
    throw fail(`not a readable MaxMind DB (truncated or corrupt): ${(error as Error).message}`, error);
  }
  const { binaryFormatMajorVersion: major, nodeCount, recordSize, databaseType } = reader.metadata;
  if (major !== 2) throw fail(`MaxMind DB format version ${String(major)}; expected 2`);
  const ipVersion = reader.metadata.ipVersion as unknown;
  if (ipVersion !== 4 && ipVersion !== 6) throw fail(`MaxMind DB ip_version ${String(ipVersion)}; expected 4 or 6`);
  if (!Number.isSafeInteger(nodeCount) || nodeCount < 1) throw fail(`MaxMind DB node_count ${String(nodeCount)}; expected a positive integer`);
  const dataStart = (nodeCount * recordSize) / 4 + SEPARATOR;
  const dataEnd = markerAt(bytes);
  if (dataStart > dataEnd) {
    throw fail(`MaxMind DB truncated: ${nodeCount} nodes of ${recordSize}-bit records need ${dataStart} bytes before the data section, the file has ${dataEnd}`);
  }
  if (bytes.subarray(dataStart - SEPARATOR, dataStart).some((byte) => byte !== 0)) {
    throw fail(`MaxMind DB corrupt: no 16 zero bytes after the search tree of ${nodeCount} nodes`);
  }
  const networks = checkTree(bytes, nodeCount, recordSize, dataEnd - dataStart);
  if (typeof networks === 'string') throw fail(`MaxMind DB corrupt: ${networks}`);

  let sampled = 0;
  let holding = 0;
  for (const address of sampleAddresses(reader, bytes, ipVersion)) {
    let record: unknown;
    try {
      record = reader.get(address.text);
    } catch (error) {
      throw fail(`MaxMind DB corrupt: the record for ${address.network} cannot be decoded: ${(error as Error).message}`, error);
    }
    sampled += 1;
    if (shape.has(record)) holding += 1;
  }
  if (sampled > 0 && holding === 0) {
    throw fail(`a MaxMind DB of type "${String(databaseType)}" whose records have no ${shape.field}; expected ${shape.expected}`);
  }

  const cache = new Map<string, T | null>();
  return {
    size: networks,
    lookup(ip) {
      const cached = cache.get(ip);
      if (cached !== undefined) return cached ?? undefined;
      const value = find(reader, ipVersion, shape, ip);
      if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
      cache.set(ip, value ?? null);
      return value;
    },
  };
}

function find<T>(reader: Reader<Response>, ipVersion: 4 | 6, shape: RecordShape<T>, ip: string): T | undefined {
  const address = normalizeIp(ip);
  // mmdb-lib does not check its input, and would walk an IPv4 tree with the first 32 bits of an IPv6 address.
  if (address === null || (ipVersion === 4 && ipFamily(address) === 6)) return undefined;
  try {
    return shape.read(reader.get(address));
  } catch {
    // The tree was checked at open; a data record past the sample that does not decode reads as unknown
    // rather than failing the call or registration it was asked about.
    return undefined;
  }
}

function recordReader(bytes: Buffer, recordSize: number): (node: number, side: 0 | 1) => number {
  const nodeBytes = recordSize / 4;
  if (recordSize === 24) return (node, side) => bytes.readUIntBE(node * nodeBytes + side * 3, 3);
  if (recordSize === 28) {
    return (node, side) => {
      const at = node * nodeBytes;
      const middle = bytes[at + 3]!;
      return side === 0 ? ((middle & 0xf0) << 20) | bytes.readUIntBE(at, 3) : ((middle & 0x0f) << 24) | bytes.readUIntBE(at + 4, 3);
    };
  }
  return (node, side) => bytes.readUInt32BE(node * nodeBytes + side * 4);
}

/** The number of networks (records pointing at data), or the first record that points outside the file. */
function checkTree(bytes: Buffer, nodeCount: number, recordSize: number, dataSize: number): number | string {
  const record = recordReader(bytes, recordSize);
  let networks = 0;
  for (let node = 0; node < nodeCount; node++) {
    for (const side of [0, 1] as const) {
      const value = record(node, side);
      if (value <= nodeCount) continue;
      const offset = value - nodeCount - SEPARATOR;
      if (offset < 0 || offset >= dataSize) {
        return `node ${node} points at data offset ${offset}, outside the ${dataSize}-byte data section`;
      }
      networks += 1;
    }
  }
  return networks;
}

/**
 * Up to SAMPLE_LEAVES networks from the start of the tree, as an address mmdb-lib can look up and a CIDR for
 * errors. The walk is bounded in nodes too: a corrupt tree whose records loop back would otherwise branch forever.
 */
function* sampleAddresses(reader: Reader<Response>, bytes: Buffer, ipVersion: 4 | 6): Generator<{ text: string; network: string }> {
  const { nodeCount, recordSize } = reader.metadata;
  const width = ipVersion === 4 ? 32 : 128;
  const record = recordReader(bytes, recordSize);
  const stack: { node: number; bits: bigint; depth: number }[] = [{ node: 0, bits: 0n, depth: 0 }];
  let leaves = 0;
  for (let visited = 0; stack.length > 0 && leaves < SAMPLE_LEAVES && visited < SAMPLE_NODES; visited++) {
    const { node, bits, depth } = stack.pop()!;
    if (depth >= width) continue;
    for (const side of [1, 0] as const) {
      const value = record(node, side);
      const childBits = (bits << 1n) | BigInt(side);
      if (value < nodeCount) stack.push({ node: value, bits: childBits, depth: depth + 1 });
      else if (value > nodeCount) {
        leaves += 1;
        yield addressOf(childBits << BigInt(width - depth - 1), depth + 1, ipVersion);
      }
    }
  }
}

/** IPv4 under ::/96 of an IPv6 tree is written dotted: mmdb-lib looks it up from the same node. */
function addressOf(value: bigint, prefix: number, ipVersion: 4 | 6): { text: string; network: string } {
  const dotted = (v: bigint) => [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn)).join('.');
  if (ipVersion === 4) return { text: dotted(value), network: `${dotted(value)}/${prefix}` };
  if (value >> 32n === 0n && prefix > 96) return { text: dotted(value), network: `${dotted(value)}/${prefix - 96}` };
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  return { text: groups.join(':'), network: `${groups.join(':')}/${prefix}` };
}
