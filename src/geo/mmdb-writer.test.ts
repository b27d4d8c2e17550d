import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Reader, type Response } from 'mmdb-lib';
import { SizedInt, writeMmdb, type MmdbNetwork } from './mmdb-writer.js';

/** The test writer is checked against mmdb-lib, the reader sipwarden uses, field type by field type. */

const read = (networks: MmdbNetwork[], options: { pointers?: boolean } = {}) =>
  new Reader<Response>(writeMmdb({ databaseType: 'Test-Types', networks, ...options }));

describe('mmdb writer (tests only), read back by mmdb-lib', () => {
  it('writes the metadata the spec asks for', () => {
    const reader = new Reader<Response>(writeMmdb({
      databaseType: 'GeoLite2-ASN', recordSize: 24, languages: ['en', 'de'], description: { en: 'ASN test', de: 'ASN Test' }, buildEpoch: 1_750_000_000,
      networks: [{ network: '192.0.2.0/24', record: { autonomous_system_number: 64500 } }],
    }));
    const m = reader.metadata;
    assert.deepEqual(
      [m.binaryFormatMajorVersion, m.binaryFormatMinorVersion, m.databaseType, m.ipVersion, m.recordSize, m.languages, m.description, m.buildEpoch.getTime()],
      [2, 0, 'GeoLite2-ASN', 6, 24, ['en', 'de'], { en: 'ASN test', de: 'ASN Test' }, 1_750_000_000_000],
    );
    assert.ok(m.nodeCount >= 120, 'an IPv4 /24 under ::/96 needs a node per bit');
  });

  it('every field type used: uint16, uint32, uint64, double, boolean, arrays, nested maps, UTF-8', () => {
    const record = {
      small: new SizedInt('uint16', 65_535), zero: 0, asn: 4_294_967_295, big: new SizedInt('uint64', 2n ** 63n + 5n),
      latitude: -33.8688, negative: -7, yes: true, no: false, list: [1, 'two', [3], { four: 4 }], empty: {}, none: [],
      nested: { a: { b: { c: 'deep' } } }, text: 'Zürich – 東京 – Москва',
    };
    const got = read([{ network: '192.0.2.0/24', record }]).get('192.0.2.1') as unknown as Record<string, unknown>;
    assert.deepEqual(got, { ...record, small: 65_535, big: 2n ** 63n + 5n });
  });

  it('string sizes in each length encoding (under 29, 29 + 1 byte, 285 + 2 bytes, 65821 + 3 bytes)', () => {
    const lengths = [0, 28, 29, 284, 285, 65_820, 65_821, 70_000];
    const networks = lengths.map((n, i) => ({ network: `10.0.${i}.0/24`, record: { s: 'x'.repeat(n) } }));
    const reader = read(networks);
    lengths.forEach((n, i) => assert.equal((reader.get(`10.0.${i}.9`) as unknown as { s: string }).s.length, n, `length ${n}`));
  });

  it('pointers of each size (11, 19 and 27 bits) resolve to what they point at; without pointers the file is larger', () => {
    // Targets past 2048 and past 526336 bytes need the two larger pointer sizes.
    const filler = (i: number) => ({ network: `10.1.${i}.0/24`, record: { pad: `${i}`.padEnd(100_000, '.') } });
    const networks: MmdbNetwork[] = [
      { network: '10.2.0.0/24', record: { org: 'Early Org' } },
      filler(0),
      { network: '10.2.1.0/24', record: { org: 'Middle Org' } },
      ...[1, 2, 3, 4, 5, 6].map(filler),
      { network: '10.2.2.0/24', record: { org: 'Late Org' } },
      { network: '10.3.0.0/24', record: { again: ['Early Org', 'Middle Org', 'Late Org'] } },
      { network: '10.3.1.0/24', record: { org: 'Late Org' } },
    ];
    const withPointers = writeMmdb({ databaseType: 'Test-Types', networks });
    assert.ok(withPointers.length < writeMmdb({ databaseType: 'Test-Types', networks, pointers: false }).length);
    const reader = new Reader<Response>(withPointers);
    assert.deepEqual(reader.get('10.3.0.1'), { again: ['Early Org', 'Middle Org', 'Late Org'] });
    assert.deepEqual(reader.get('10.3.1.1'), { org: 'Late Org' });
    assert.deepEqual(reader.get('10.2.2.1'), { org: 'Late Org' });
  });

  it('networks: prefix lengths as in the tree, IPv4 in ::/96, the mapped alias, and nothing outside', () => {
    const networks: MmdbNetwork[] = [
      { network: '0.0.0.0/1', record: { n: 1 } }, { network: '64.0.0.0/2', record: { n: 2 } }, { network: '192.0.2.128/25', record: { n: 25 } },
      { network: '192.0.2.255/32', record: { n: 32 } }, { network: '2001:db8::/32', record: { n: 6 } }, { network: '2001:db8::1/128', record: { n: 128 } },
    ];
    const reader = new Reader<Response>(writeMmdb({ databaseType: 'Test-Types', networks, mappedAlias: true, recordSize: 32 }));
    const at = (ip: string) => { const [data, prefix] = reader.getWithPrefixLength(ip); return [(data as { n?: number } | null)?.n, prefix]; };
    assert.deepEqual(at('1.2.3.4'), [1, 2], '0.0.0.0/1 holding 64.0.0.0/2 is split, so its other half is 0.0.0.0/2');
    assert.deepEqual(at('100.1.1.1'), [2, 2]);
    assert.deepEqual(at('192.0.2.200'), [25, 27], '192.0.2.128/25 split around .255/32 leaves .192/27 here');
    assert.deepEqual(at('192.0.2.255'), [32, 32]);
    assert.deepEqual(at('192.0.2.1')[0], undefined);
    assert.deepEqual(at('::ffff:192.0.2.255')[0], 32);
    assert.deepEqual(at('::c000:2ff')[0], 32, 'the IPv4 tree is ::/96');
    assert.deepEqual(at('2001:db8:5::')[0], 6);
    assert.deepEqual(at('2001:db8::1'), [128, 128]);
    assert.deepEqual(at('2002::1')[0], undefined);
    assert.throws(() => writeMmdb({ databaseType: 'x', ipVersion: 4, networks: [{ network: '2001:db8::/32', record: {} }] }), /IPv4 tree/);
  });
});
