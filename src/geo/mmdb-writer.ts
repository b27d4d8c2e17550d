import { parseCidr } from '../core/ip.js';
import { addressValue } from './ranges.js';

/**
 * A MaxMind DB (format 2.0) writer for tests only: it lets the tests build GeoLite2-, DB-IP- and IPtoASN-shaped
 * files without downloading any. Written from the format spec (maxmind.github.io/MaxMind-DB): a binary search
 * tree of `node_count` nodes, 16 zero bytes, the data section, then `\xAB\xCD\xEFMaxMind.com` and the metadata
 * map. Not for production: it holds the whole tree in memory and writes no 6to4/Teredo aliases.
 */

/** An integer that must be stored as uint16 or uint64 rather than the default uint32. */
export class SizedInt {
  constructor(readonly type: 'uint16' | 'uint64', readonly value: number | bigint) {}
}

/**
 * A value in the data section. Integers 0 to 2^32-1 are uint32 (what MaxMind uses for geoname_id and
 * autonomous_system_number), other numbers are doubles; wrap an integer in SizedInt for another width.
 */
export type MmdbValue = string | number | boolean | SizedInt | readonly MmdbValue[] | { readonly [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** `1.2.3.0/24` or `2001:db8::/32`; IPv4 networks go under ::/96 of an IPv6 tree. */
  network: string;
  record: MmdbValue;
}

export interface MmdbOptions {
  databaseType: string;
  networks: readonly MmdbNetwork[];
  recordSize?: 24 | 28 | 32;
  ipVersion?: 4 | 6;
  /** Points ::ffff:0:0/96 at the IPv4 subtree, as MaxMind's own files do. */
  mappedAlias?: boolean;
  /** Writes a repeated string or record once and points to it, as real files do. Default true. */
  pointers?: boolean;
  languages?: readonly string[];
  description?: Readonly<Record<string, string>>;
  buildEpoch?: number;
}

/** Records shaped as in the real databases. A GeoLite2-Country record; `registered` alone is what MaxMind writes for satellite and anycast space. */
export function countryRecord(iso: string | undefined, registered = iso): MmdbValue {
  const named = (code: string) => ({ geoname_id: 2_750_405, iso_code: code, names: { en: `Country ${code}`, de: `Land ${code}` } });
  return {
    continent: { code: 'EU', geoname_id: 6_255_148, names: { en: 'Europe' } },
    ...(iso === undefined ? {} : { country: named(iso) }),
    ...(registered === undefined ? {} : { registered_country: named(registered) }),
  };
}

/** A GeoLite2-City record: the country sits among city, location, postal and subdivisions. */
export function cityRecord(iso: string, city = 'Amsterdam', id = 2_759_794): MmdbValue {
  return {
    city: { geoname_id: id, names: { en: city, de: city, 'zh-CN': '阿姆斯特丹' } },
    ...(countryRecord(iso) as object),
    location: { accuracy_radius: 20, latitude: 52.3759, longitude: 4.8975, time_zone: 'Europe/Amsterdam' },
    postal: { code: '1012' },
    subdivisions: [{ geoname_id: 2_749_879, iso_code: 'NH', names: { en: 'North Holland' } }],
  };
}

/** A GeoLite2-ASN or DB-IP ASN lite record. */
export const asnRecord = (asn: number, org?: string): MmdbValue =>
  org === undefined ? { autonomous_system_number: asn } : { autonomous_system_number: asn, autonomous_system_organization: org };

const SEPARATOR = 16;
const MARKER = Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1');
/** Data type numbers from the spec; 8 and up are "extended" (control type 0, then type - 7 in the next byte). */
const TYPE = { pointer: 1, utf8: 2, double: 3, uint16: 5, uint32: 6, map: 7, uint64: 9, array: 11, boolean: 14 } as const;

/** Encodes data fields; with `pointers`, a repeated string or map becomes a pointer to its first copy. */
class DataSection {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private readonly written = new Map<string, number>();

  constructor(private readonly pointers: boolean) {}

  /** Writes `value` and returns its offset in the section. */
  add(value: MmdbValue): number {
    const shareable = this.pointers && (typeof value === 'string' ? value.length > 3 : typeof value === 'object' && !(value instanceof SizedInt));
    const key = `${typeof value}:${JSON.stringify(value, (_k, v: unknown) => (v instanceof SizedInt ? `${v.type}:${v.value}` : v))}`;
    const earlier = shareable ? this.written.get(key) : undefined;
    const offset = this.length;
    if (earlier !== undefined) {
      this.pointer(earlier);
      return offset;
    }
    this.field(value);
    if (shareable) this.written.set(key, offset);
    return offset;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private push(bytes: Buffer): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private field(value: MmdbValue): void {
    if (typeof value === 'string') {
      const bytes = Buffer.from(value, 'utf8');
      this.control(TYPE.utf8, bytes.length);
      this.push(bytes);
    } else if (typeof value === 'boolean') {
      this.control(TYPE.boolean, value ? 1 : 0);
    } else if (value instanceof SizedInt) {
      this.integer(TYPE[value.type], BigInt(value.value));
    } else if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) {
        this.integer(TYPE.uint32, BigInt(value));
      } else {
        const bytes = Buffer.alloc(8);
        bytes.writeDoubleBE(value);
        this.control(TYPE.double, 8);
        this.push(bytes);
      }
    } else if (Array.isArray(value)) {
      this.control(TYPE.array, value.length);
      for (const item of value as readonly MmdbValue[]) this.add(item);
    } else {
      const entries = Object.entries(value as { readonly [key: string]: MmdbValue });
      this.control(TYPE.map, entries.length);
      for (const [key, item] of entries) {
        this.add(key);
        this.add(item);
      }
    }
  }

  /** Big-endian with leading zero bytes dropped: the size says how many bytes follow. */
  private integer(type: number, value: bigint): void {
    const bytes: number[] = [];
    for (let rest = value; rest > 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
    this.control(type, bytes.length);
    this.push(Buffer.from(bytes));
  }

  /** Control byte: type in the top 3 bits, size in the low 5 (29, 30, 31 announce 1, 2, 3 more size bytes). */
  private control(type: number, size: number): void {
    const [marker, extra, width] = size < 29 ? [size, 0, 0] : size < 285 ? [29, size - 29, 1] : size < 65_821 ? [30, size - 285, 2] : [31, size - 65_821, 3];
    const head = Buffer.alloc(1 + (type >= 8 ? 1 : 0) + width);
    head[0] = ((type < 8 ? type : 0) << 5) | marker;
    if (type >= 8) head[1] = type - 7;
    if (width > 0) head.writeUIntBE(extra, head.length - width, width);
    this.push(head);
  }

  /** Pointer sizes 0-3 carry 11, 19, 27 and 32 bits; the larger ones are biased by what the smaller reach. */
  private pointer(target: number): void {
    const base = TYPE.pointer << 5;
    if (target < 2048) this.push(Buffer.from([base | (target >> 8), target & 0xff]));
    else if (target < 526_336) {
      const v = target - 2048;
      this.push(Buffer.from([base | (1 << 3) | (v >> 16), (v >> 8) & 0xff, v & 0xff]));
    } else if (target < 134_744_064) {
      const v = target - 526_336;
      this.push(Buffer.from([base | (2 << 3) | (v >> 24), (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]));
    } else {
      const v = Buffer.alloc(5);
      v[0] = base | (3 << 3);
      v.writeUInt32BE(target, 1);
      this.push(v);
    }
  }
}

type Child = TreeNode | { data: number } | undefined;
interface TreeNode {
  children: [Child, Child];
}

/** The network as bits from the top of the tree: IPv4 under ::/96 in an IPv6 tree. */
function networkBits(text: string, ipVersion: 4 | 6): { bits: bigint; length: number; depth: number } {
  const cidr = parseCidr(text);
  const address = addressValue(cidr.network);
  if (address === null) throw new Error(`${text} is not a network`);
  if (address.family === 6) {
    if (ipVersion === 4) throw new Error(`${text}: an IPv4 tree has no IPv6 networks`);
    return { bits: (address.hi << 64n) | address.lo, length: 128, depth: cidr.prefix };
  }
  return { bits: BigInt(address.value), length: ipVersion === 4 ? 32 : 128, depth: (ipVersion === 4 ? 0 : 96) + cidr.prefix };
}

function bitAt(bits: bigint, length: number, index: number): 0 | 1 {
  return Number((bits >> BigInt(length - 1 - index)) & 1n) as 0 | 1;
}

/** The node at the end of `depth` bits, made (splitting a data leaf into two copies of it) where missing. */
function nodeAt(root: TreeNode, bits: bigint, length: number, depth: number): TreeNode {
  let node = root;
  for (let i = 0; i < depth; i++) {
    const side = bitAt(bits, length, i);
    const child = node.children[side];
    if (child !== undefined && 'children' in child) {
      node = child;
    } else {
      const next: TreeNode = { children: [child, child] };
      node.children[side] = next;
      node = next;
    }
  }
  return node;
}

/** Builds a whole .mmdb file. Broader networks are written first, so a more specific one always wins. */
export function writeMmdb(options: MmdbOptions): Buffer {
  const ipVersion = options.ipVersion ?? 6;
  const recordSize = options.recordSize ?? 28;
  const data = new DataSection(options.pointers ?? true);
  const root: TreeNode = { children: [undefined, undefined] };
  const networks = options.networks
    .map((n) => ({ ...networkBits(n.network, ipVersion), record: n.record }))
    .sort((a, b) => a.depth - b.depth);
  for (const n of networks) {
    if (n.depth === 0) throw new Error('a network of prefix length 0 cannot be a tree leaf');
    const parent = nodeAt(root, n.bits, n.length, n.depth - 1);
    parent.children[bitAt(n.bits, n.length, n.depth - 1)] = { data: data.add(n.record) };
  }
  if (options.mappedAlias && ipVersion === 6) {
    const v4Root = nodeAt(root, 0n, 128, 96);
    const mapped = nodeAt(root, 0xffffn << 32n, 128, 95);
    mapped.children[1] = v4Root;
  }

  const order: TreeNode[] = [];
  const index = new Map<TreeNode, number>();
  for (let queue = [root]; queue.length > 0; ) {
    const next: TreeNode[] = [];
    for (const node of queue) {
      if (index.has(node)) continue;
      index.set(node, order.length);
      order.push(node);
      for (const child of node.children) if (child !== undefined && 'children' in child) next.push(child);
    }
    queue = next;
  }
  const nodeCount = order.length;
  const dataBytes = data.bytes();
  const recordValue = (child: Child): number =>
    child === undefined ? nodeCount : 'children' in child ? index.get(child)! : nodeCount + SEPARATOR + child.data;
  const nodeBytes = (recordSize * 2) / 8;
  const tree = Buffer.alloc(nodeCount * nodeBytes);
  for (let i = 0; i < nodeCount; i++) {
    const [left, right] = order[i]!.children.map(recordValue) as [number, number];
    if (Math.max(left, right) >= 2 ** recordSize) throw new Error(`record ${Math.max(left, right)} does not fit in ${recordSize} bits`);
    writeNode(tree, i * nodeBytes, recordSize, left, right);
  }

  const metadata = new DataSection(false);
  metadata.add({
    node_count: nodeCount,
    record_size: new SizedInt('uint16', recordSize),
    ip_version: new SizedInt('uint16', ipVersion),
    database_type: options.databaseType,
    languages: options.languages ?? ['en'],
    binary_format_major_version: new SizedInt('uint16', 2),
    binary_format_minor_version: new SizedInt('uint16', 0),
    build_epoch: new SizedInt('uint64', options.buildEpoch ?? 1_700_000_000),
    description: options.description ?? { en: `${options.databaseType} test database` },
  });
  return Buffer.concat([tree, Buffer.alloc(SEPARATOR), dataBytes, MARKER, metadata.bytes()]);
}

/** 24 and 32 bits: two big-endian records. 28 bits: the middle byte holds the top nibble of each. */
function writeNode(tree: Buffer, at: number, recordSize: 24 | 28 | 32, left: number, right: number): void {
  if (recordSize === 24) {
    tree.writeUIntBE(left, at, 3);
    tree.writeUIntBE(right, at + 3, 3);
  } else if (recordSize === 28) {
    tree.writeUIntBE(left & 0xff_ffff, at, 3);
    tree[at + 3] = ((left >>> 24) << 4) | (right >>> 24);
    tree.writeUIntBE(right & 0xff_ffff, at + 4, 3);
  } else {
    tree.writeUInt32BE(left, at);
    tree.writeUInt32BE(right, at + 4);
  }
}
