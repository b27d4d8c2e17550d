import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Reader, type Response } from 'mmdb-lib';
import { isSipwardenError } from '../core/errors.js';
import { loadAsnDatabase, loadCountryDatabase, loadGeo } from './index.js';
import { asnRecord, cityRecord, countryRecord, writeMmdb, type MmdbNetwork, type MmdbOptions } from './mmdb-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-mmdb-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(content: Buffer | string, name = `db-${++files}.mmdb`): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const mmdb = (options: MmdbOptions): string => file(writeMmdb(options));

const fails = (load: () => unknown, path: string, problem: RegExp) =>
  assert.throws(load, (e) => isSipwardenError(e, 'SW_ERR_CONFIG') && e.message.includes(path) && problem.test(e.message));

const COUNTRY_NETWORKS: MmdbNetwork[] = [
  { network: '10.0.0.0/8', record: countryRecord('AU') },
  { network: '10.20.0.0/16', record: countryRecord('NL') },
  { network: '10.20.30.0/24', record: countryRecord('DE') },
  { network: '10.20.30.40/32', record: countryRecord('FR') },
  { network: '198.51.100.0/25', record: countryRecord(undefined, 'US') },
  { network: '198.51.100.128/25', record: { continent: { code: 'EU' } } },
  { network: '203.0.113.0/24', record: countryRecord('nl') },
  { network: '2001:db8::/32', record: countryRecord('JP') },
  { network: '2001:db8:aa::/48', record: countryRecord('BR') },
  { network: '2001:db8:aa::7/128', record: countryRecord('CA') },
];

describe('geo: MaxMind DB country database', () => {
  for (const recordSize of [24, 28, 32] as const) {
    it(`${recordSize}-bit records: IPv4 and IPv6 networks of several lengths, the most specific wins`, () => {
      const db = loadCountryDatabase(mmdb({ databaseType: 'GeoLite2-Country', recordSize, networks: COUNTRY_NETWORKS }));
      assert.equal(db.lookup('10.1.2.3'), 'AU');
      assert.equal(db.lookup('10.20.1.1'), 'NL');
      assert.equal(db.lookup('10.20.30.39'), 'DE');
      assert.equal(db.lookup('10.20.30.40'), 'FR');
      assert.equal(db.lookup('10.20.30.41'), 'DE');
      assert.equal(db.lookup('203.0.113.9'), 'NL', 'codes are upper-cased');
      assert.equal(db.lookup('2001:db8:1::1'), 'JP');
      assert.equal(db.lookup('2001:0db8:00aa:0000::8'), 'BR', 'any spelling of an IPv6 address');
      assert.equal(db.lookup('2001:db8:aa::7'), 'CA');
    });
  }

  it('addresses outside every network, records without a country, and text that is no address are unknown', () => {
    const db = loadCountryDatabase(mmdb({ databaseType: 'GeoLite2-Country', networks: COUNTRY_NETWORKS }));
    for (const outside of ['9.255.255.255', '11.0.0.0', '0.0.0.0', '255.255.255.255', '2001:db9::1', '::1', '::', 'ffff::1']) {
      assert.equal(db.lookup(outside), undefined, outside);
    }
    assert.equal(db.lookup('198.51.100.1'), 'US', 'registered_country when the record has no country');
    assert.equal(db.lookup('198.51.100.200'), undefined, 'a record with neither is unknown, not an error');
    for (const junk of ['', 'not an address', '10.0.0.256', '10.0.0.0/8', '16777216', 'fe80::1%eth0%']) assert.equal(db.lookup(junk), undefined, junk);
  });

  it('IPv4-mapped IPv6 is the IPv4 address, with or without the ::ffff:0:0/96 alias in the file', () => {
    for (const mappedAlias of [true, false]) {
      const db = loadCountryDatabase(mmdb({ databaseType: 'GeoLite2-Country', mappedAlias, networks: COUNTRY_NETWORKS }));
      assert.equal(db.lookup('::ffff:10.20.30.40'), 'FR');
      assert.equal(db.lookup('::ffff:a14:1e29'), 'DE');
    }
  });

  it('an IPv4-only database answers IPv4 and leaves IPv6 unknown', () => {
    const db = loadCountryDatabase(mmdb({ databaseType: 'GeoLite2-Country', ipVersion: 4, networks: COUNTRY_NETWORKS.filter((n) => !n.network.includes(':')) }));
    assert.equal(db.lookup('10.20.30.40'), 'FR');
    assert.equal(db.lookup('10.9.9.9'), 'AU');
    assert.equal(db.lookup('0a14:1e28::'), undefined, 'not read as 10.20.30.40 from its first 32 bits');
  });

  it('a City database gives the country of its City-shaped records', () => {
    const db = loadCountryDatabase(mmdb({
      databaseType: 'GeoLite2-City',
      networks: [
        { network: '192.0.2.0/24', record: cityRecord('NL') },
        { network: '2001:db8:c::/48', record: cityRecord('GB', 'London', 2_643_743) },
      ],
    }));
    assert.equal(db.lookup('192.0.2.77'), 'NL');
    assert.equal(db.lookup('2001:db8:c:1::1'), 'GB');
    assert.equal(db.lookup('192.0.3.1'), undefined);
  });

  it('without pointers (every record written in full) the answers are the same', () => {
    const db = loadCountryDatabase(mmdb({ databaseType: 'DBIP-Country-Lite', pointers: false, networks: COUNTRY_NETWORKS }));
    assert.equal(db.lookup('10.20.30.40'), 'FR');
    assert.equal(db.lookup('2001:db8:aa::7'), 'CA');
  });
});

describe('geo: MaxMind DB ASN database', () => {
  it('AS number and organisation for IPv4 and IPv6; no organisation is empty; AS0 (not routed) is unknown', () => {
    const db = loadAsnDatabase(mmdb({
      databaseType: 'GeoLite2-ASN',
      recordSize: 24,
      networks: [
        { network: '1.0.0.0/24', record: asnRecord(13_335, 'CLOUDFLARENET') },
        { network: '1.0.4.0/22', record: asnRecord(38_803, 'Wirelinx Pty Ltd') },
        { network: '1.0.4.0/30', record: asnRecord(64_496) },
        { network: '1.0.8.0/24', record: asnRecord(0, 'Not routed') },
        { network: '2001:db8::/32', record: asnRecord(4_200_000_000, 'Private, 32-bit') },
        { network: '2001:db8:1::/64', record: { autonomous_system_organization: 'no number' } },
      ],
    }));
    assert.deepEqual(db.lookup('1.0.0.1'), { asn: 13_335, org: 'CLOUDFLARENET' });
    assert.deepEqual(db.lookup('1.0.7.255'), { asn: 38_803, org: 'Wirelinx Pty Ltd' });
    assert.deepEqual(db.lookup('1.0.4.3'), { asn: 64_496, org: '' });
    assert.equal(db.lookup('1.0.8.1'), undefined);
    assert.equal(db.lookup('1.0.9.1'), undefined);
    assert.deepEqual(db.lookup('2001:db8:ffff::1'), { asn: 4_200_000_000, org: 'Private, 32-bit' });
    assert.equal(db.lookup('2001:db8:1::1'), undefined, 'a record without the number is unknown');
    assert.deepEqual(db.lookup('::ffff:1.0.0.1'), { asn: 13_335, org: 'CLOUDFLARENET' });
  });

  it('loadGeo mixes formats: a MaxMind country file with a CSV ASN file', () => {
    const country = mmdb({ databaseType: 'GeoLite2-City', networks: [{ network: '198.51.100.0/24', record: cityRecord('NL') }] });
    const asn = file('198.51.100.0,198.51.100.127,64500,Example Net\n', 'asn.csv');
    const geo = loadGeo({ country, asn });
    assert.deepEqual(geo.lookup('198.51.100.5'), { country: 'NL', asn: 64500, org: 'Example Net' });
    assert.deepEqual(geo.lookup('198.51.100.200'), { country: 'NL' });
    assert.deepEqual(geo.lookup('192.0.2.1'), {});
  });
});

describe('geo: MaxMind DB files that cannot be trusted', () => {
  const good = writeMmdb({ databaseType: 'GeoLite2-Country', networks: COUNTRY_NETWORKS });
  const marker = good.lastIndexOf(Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1'));
  const dataStart = new Reader<Response>(good).metadata.searchTreeSize + 16;

  it('truncated: the metadata gone, cut inside it, or the tree or data section short of what the metadata says', () => {
    let path = file(good.subarray(0, Math.floor(good.length / 2)));
    fails(() => loadCountryDatabase(path), path, /neither a CSV range file nor a MaxMind DB.*truncated \.mmdb/);
    path = file(good.subarray(0, marker + 20));
    fails(() => loadCountryDatabase(path), path, /not a readable MaxMind DB \(truncated or corrupt\)|node_count undefined/);
    path = file(Buffer.concat([good.subarray(0, 60), good.subarray(marker)]));
    fails(() => loadCountryDatabase(path), path, /MaxMind DB truncated: \d+ nodes of 28-bit records need \d+ bytes before the data section, the file has 60/);
    path = file(Buffer.concat([good.subarray(0, dataStart + 20), good.subarray(marker)]));
    fails(() => loadCountryDatabase(path), path, /MaxMind DB corrupt: node \d+ points at data offset \d+, outside the 20-byte data section/);
  });

  it('cut at any byte: an error naming the file, or (cut only in the description) the same answers, never a crash', () => {
    const cuts = new Set<number>();
    for (let cut = 1; cut < marker; cut += 13) cuts.add(cut);
    for (let cut = marker; cut < good.length; cut++) cuts.add(cut);
    let loaded = 0;
    for (const cut of cuts) {
      const path = file(good.subarray(0, cut), 'cut.mmdb');
      let db: ReturnType<typeof loadCountryDatabase>;
      try {
        db = loadCountryDatabase(path);
      } catch (error) {
        assert.ok(isSipwardenError(error, 'SW_ERR_CONFIG') && error.message.includes(path), `cut at ${cut}: ${String(error)}`);
        continue;
      }
      loaded += 1;
      for (const ip of ['10.20.30.40', '198.51.100.1', '2001:db8:aa::7', '192.0.2.1']) assert.equal(db.lookup(ip), loadCountryDatabase(file(good)).lookup(ip), `cut at ${cut}`);
    }
    assert.ok(loaded < 40, `${loaded} cuts loaded: only those inside the trailing description text may`);
  });

  it('a corrupt separator or record is named, not looked up', () => {
    const noSeparator = Buffer.from(good);
    noSeparator[dataStart - 3] = 0x41;
    let path = file(noSeparator);
    fails(() => loadCountryDatabase(path), path, /no 16 zero bytes after the search tree/);
    const badRecord = Buffer.from(good);
    badRecord.fill(0, dataStart, marker);
    path = file(badRecord);
    fails(() => loadCountryDatabase(path), path, /MaxMind DB corrupt: the record for [0-9a-f:.]+\/\d+ cannot be decoded/);
  });

  it('a file that is neither CSV nor a MaxMind DB, or still gzip-compressed', () => {
    let path = file(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'image.png');
    fails(() => loadCountryDatabase(path), path, /neither a CSV range file nor a MaxMind DB/);
    path = file(gzipSync(good), 'GeoLite2-Country.mmdb.gz');
    fails(() => loadAsnDatabase(path), path, /gzip-compressed; unpack/);
    path = file('These are not ranges.\nNeither is this line.\n', 'notes.txt');
    assert.throws(() => loadCountryDatabase(path), (e) => isSipwardenError(e, 'SW_ERR_CONFIG') && /notes\.txt line 2: expected at least 3 fields/.test(e.message),
      'text that is not CSV fails as the CSV reader says');
  });

  it('the wrong database: City or Country as ASN, ASN as country, or records without the field', () => {
    const city = mmdb({ databaseType: 'GeoLite2-City', networks: [{ network: '192.0.2.0/24', record: cityRecord('NL') }] });
    fails(() => loadAsnDatabase(city), city, /asn database .*: a MaxMind DB of type "GeoLite2-City" whose records have no autonomous_system_number; expected an ASN database/);
    const asn = mmdb({ databaseType: 'GeoLite2-ASN', networks: [{ network: '192.0.2.0/24', record: asnRecord(64500, 'X') }] });
    fails(() => loadCountryDatabase(asn), asn, /country database .*: a MaxMind DB of type "GeoLite2-ASN" whose records have no country\.iso_code or registered_country\.iso_code; expected a country or city database/);
    assert.throws(() => loadGeo({ country: asn }), /GeoLite2-ASN/);
    const anonymous = mmdb({ databaseType: 'GeoIP2-Anonymous-IP', networks: [{ network: '192.0.2.0/24', record: { is_anonymous: true, is_tor_exit_node: true } }] });
    fails(() => loadCountryDatabase(anonymous), anonymous, /"GeoIP2-Anonymous-IP" whose records have no country/);
  });

  it('size counts the networks; an empty database (no networks) opens and knows nothing', () => {
    const two = loadAsnDatabase(mmdb({ databaseType: 'GeoLite2-ASN', networks: [{ network: '192.0.2.0/24', record: asnRecord(1) }, { network: '2001:db8::/32', record: asnRecord(2) }] }));
    assert.equal(two.size, 2);
    const db = loadAsnDatabase(mmdb({ databaseType: 'GeoLite2-ASN', networks: [] }));
    assert.equal(db.size, 0);
    assert.equal(db.lookup('192.0.2.1'), undefined);
  });
});

describe('geo: MaxMind DB on the hot path', () => {
  it('lookups per second, City records: mmdb-lib alone, distinct addresses (cache misses), repeated addresses (diagnostic, not asserted)', (t) => {
    const countries = ['NL', 'DE', 'US', 'FR', 'GB'];
    const networks: MmdbNetwork[] = [];
    for (let i = 0; i < 4096; i++) {
      networks.push({ network: `${11 + (i >> 8)}.${i & 255}.${(i * 7) & 255}.0/24`, record: cityRecord(countries[i % 5]!, `City ${i}`, 10_000 + i) });
      networks.push({ network: `2001:db8:${i.toString(16)}::/48`, record: cityRecord(countries[i % 5]!, `City ${i}`, 10_000 + i) });
    }
    const bytes = writeMmdb({ databaseType: 'GeoLite2-City', mappedAlias: true, networks });
    const db = loadCountryDatabase(file(bytes));
    const addresses: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      const n = i % 4096;
      addresses.push(i % 4 === 0 ? `2001:db8:${n.toString(16)}::${i.toString(16)}` : `${11 + (n >> 8)}.${n & 255}.${(n * 7) & 255}.${i >> 12}`);
    }
    assert.equal(new Set(addresses).size, addresses.length);
    addresses.forEach((ip, i) => assert.equal(db.lookup(ip), countries[(i % 4096) % 5], ip));
    const reader = new Reader<Response>(bytes);
    const perSecond = (lookup: (ip: string) => unknown, list: readonly string[]): number => {
      const start = performance.now();
      for (const ip of list) lookup(ip);
      return Math.round((list.length / (performance.now() - start)) * 1000);
    };
    for (const ip of addresses) reader.get(ip); // warmed as db.lookup was above, so the JIT favours neither
    const fresh = loadCountryDatabase(file(bytes));
    const hot = Array.from({ length: 50 }, () => addresses.slice(0, 1000)).flat();
    t.diagnostic(`mmdb-lib get, City records: ${perSecond((ip) => reader.get(ip), addresses)} lookups/s`);
    t.diagnostic(`country lookup, 40000 distinct addresses (past the cache): ${perSecond((ip) => fresh.lookup(ip), addresses)} lookups/s`);
    t.diagnostic(`country lookup, 1000 addresses asked 50 times each: ${perSecond((ip) => fresh.lookup(ip), hot)} lookups/s`);
  });
});
