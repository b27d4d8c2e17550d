import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isSipwardenError } from '../core/errors.js';
import { splitCsvLine } from './csv.js';
import { loadAsnDatabase, loadCountryDatabase, loadGeo } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-geo-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(lines: readonly string[]): string {
  const path = join(dir, `db-${++files}.csv`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const failsAt = (load: () => unknown, line: number, problem: RegExp) =>
  assert.throws(load, (e) => isSipwardenError(e, 'SW_ERR_CONFIG') && e.message.includes(`line ${line}:`) && problem.test(e.message) && e.message.includes(dir));

describe('geo: CSV lines', () => {
  it('reads plain, quoted, escaped and empty fields', () => {
    assert.deepEqual(splitCsvLine('1.0.0.0,1.0.0.255,AU'), ['1.0.0.0', '1.0.0.255', 'AU']);
    assert.deepEqual(splitCsvLine('"1.0.0.0","1.0.0.255","Cloudflare, ""Inc."""'), ['1.0.0.0', '1.0.0.255', 'Cloudflare, "Inc."']);
    assert.deepEqual(splitCsvLine('a,,"",b'), ['a', '', '', 'b']);
    assert.deepEqual(splitCsvLine('a,'), ['a', '']);
  });

  it('refuses quotes that do not close or text after a closing quote', () => {
    assert.equal(splitCsvLine('"1.0.0.0,1.0.0.255,AU'), null);
    assert.equal(splitCsvLine('"1.0.0.0"x,1.0.0.255,AU'), null);
  });
});

describe('geo: country database', () => {
  it('DB-IP layout: IPv4 and IPv6 text, quoted or not, in any order, with a header', () => {
    const db = loadCountryDatabase(file([
      'ip_start,ip_end,country',
      '"2001:db8::","2001:db8:ffff:ffff:ffff:ffff:ffff:ffff","DE"',
      '1.0.0.0,1.0.0.255,AU',
      '# a comment',
      '',
      '10.0.0.0,10.255.255.255,ZZ',
      '203.0.113.0,203.0.113.255,fr',
    ]));
    assert.equal(db.size, 3);
    assert.equal(db.lookup('1.0.0.0'), 'AU');
    assert.equal(db.lookup('1.0.0.255'), 'AU');
    assert.equal(db.lookup('1.0.1.0'), undefined);
    assert.equal(db.lookup('0.255.255.255'), undefined);
    assert.equal(db.lookup('203.0.113.77'), 'FR');
    assert.equal(db.lookup('::ffff:203.0.113.77'), 'FR', 'IPv4-mapped IPv6 is the IPv4 address');
    assert.equal(db.lookup('10.1.2.3'), undefined, 'ZZ rows are skipped');
    assert.equal(db.lookup('2001:db8:0:1::5'), 'DE');
    assert.equal(db.lookup('2001:db9::'), undefined);
    assert.equal(db.lookup('not an address'), undefined);
    assert.equal(db.lookup('16777216'), undefined, 'a lookup takes addresses, not numbers');
  });

  it('IP2Location layout: decimal addresses, IPv6 file with IPv4 as mapped ranges, - rows skipped', () => {
    const v4 = loadCountryDatabase(file(['"0","16777215","-","-"', '"16777216","16777471","AU","Australia"']));
    assert.equal(v4.lookup('1.0.0.7'), 'AU');
    assert.equal(v4.lookup('0.0.0.1'), undefined);
    const mappedStart = (0xffffn << 32n) + 16777216n;
    const v6Start = BigInt('0x20010db8000000000000000000000000');
    const v6 = loadCountryDatabase(file([
      `"0","281470681743359","-","-"`,
      `"${mappedStart}","${mappedStart + 255n}","AU","Australia"`,
      `"${v6Start}","${v6Start + (1n << 96n) - 1n}","NL","Netherlands"`,
    ]));
    assert.equal(v6.lookup('1.0.0.200'), 'AU');
    assert.equal(v6.lookup('2001:db8:ffff::1'), 'NL');
    assert.equal(v6.lookup('2001:db9::1'), undefined);
  });

  it('names the file and line of a bad row', () => {
    failsAt(() => loadCountryDatabase(file(['1.0.0.0,1.0.0.255,AU', '1.0.1.0,1.0.1.300,AU'])), 2, /"1\.0\.1\.300" is not an IP address/);
    failsAt(() => loadCountryDatabase(file(['1.0.0.0,1.0.0.255,AU', '1.0.1.0,1.0.1.255'])), 2, /expected at least 3 fields/);
    failsAt(() => loadCountryDatabase(file(['1.0.0.0,1.0.0.255,AUS'])), 1, /not a two-letter country code/);
    failsAt(() => loadCountryDatabase(file(['1.0.0.255,1.0.0.0,AU'])), 1, /start is after end/);
    failsAt(() => loadCountryDatabase(file(['1.0.0.0,::1,AU'])), 1, /different address families/);
    failsAt(() => loadCountryDatabase(file(['header', '"1.0.0.0,1.0.0.255,AU'])), 2, /unbalanced quotes/);
    failsAt(() => loadCountryDatabase(file(['1.0.0.0,1.0.0.255,AU', '5.0.0.0,5.0.0.1,NL', '1.0.0.128,1.0.1.0,AU'])), 3, /overlaps the range on line 1/);
  });

  it('a file that cannot be read is SW_ERR_CONFIG_READ naming it', () => {
    const missing = join(dir, 'missing.csv');
    assert.throws(() => loadCountryDatabase(missing), (e) => isSipwardenError(e, 'SW_ERR_CONFIG_READ') && e.message.includes(missing));
  });
});

describe('geo: ASN database', () => {
  it('DB-IP layout with quoted and unquoted organisations, AS prefixes and IPv6', () => {
    const db = loadAsnDatabase(file([
      '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."',
      '1.0.4.0,1.0.7.255,AS38803,Wirelinx Pty Ltd, Australia',
      '2001:db8::,2001:db8::ffff,64496,',
      '1.0.8.0,1.0.8.255,-,-',
    ]));
    assert.deepEqual(db.lookup('1.0.0.1'), { asn: 13335, org: 'Cloudflare, Inc.' });
    assert.deepEqual(db.lookup('1.0.5.5'), { asn: 38803, org: 'Wirelinx Pty Ltd, Australia' });
    assert.deepEqual(db.lookup('2001:db8::1'), { asn: 64496, org: '' });
    assert.equal(db.lookup('1.0.8.1'), undefined);
  });

  it('IP2Location layout: the CIDR column is skipped', () => {
    const db = loadAsnDatabase(file(['"16777216","16777471","1.0.0.0/24","13335","CloudFlare Inc."']));
    assert.deepEqual(db.lookup('1.0.0.9'), { asn: 13335, org: 'CloudFlare Inc.' });
  });

  it('names the line of an AS number that is not one', () => {
    failsAt(() => loadAsnDatabase(file(['1.0.0.0,1.0.0.255,13335,x', '1.0.1.0,1.0.1.255,AS-X,y'])), 2, /"AS-X" is not an AS number/);
  });
});

describe('geo: both databases', () => {
  it('looks an address up in each configured file', () => {
    const country = file(['198.51.100.0,198.51.100.255,NL']);
    const asn = file(['198.51.100.0,198.51.100.127,64500,Example Net']);
    const geo = loadGeo({ country, asn });
    assert.deepEqual(geo.lookup('198.51.100.5'), { country: 'NL', asn: 64500, org: 'Example Net' });
    assert.deepEqual(geo.lookup('198.51.100.200'), { country: 'NL' });
    assert.deepEqual(loadGeo({ asn }).lookup('198.51.100.5'), { asn: 64500, org: 'Example Net' });
    assert.deepEqual(loadGeo(undefined).lookup('198.51.100.5'), {});
  });
});
