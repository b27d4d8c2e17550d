import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { buildReport, type HoneypotReport } from '../honeypot/report.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { HoneypotHit, Store } from '../store/types.js';
import { loadGeo } from './index.js';
import { asnRecord, cityRecord, countryRecord, writeMmdb } from './mmdb-writer.js';

/** `sipwarden honeypot report` with MaxMind DB files where its own tests use CSV: the report must not tell them apart. */

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const run = promisify(execFile);
const NOW = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'sw-geo-report-'));
const dbPath = join(dir, 'sw.db');
const countries = join(dir, 'GeoLite2-City.mmdb');
const asns = join(dir, 'GeoLite2-ASN.mmdb');
let store: Store;

const hit = (over: Partial<HoneypotHit>): HoneypotHit => ({
  at: NOW - 60_000, ip: '198.51.100.7', port: 5060, transport: 'udp', method: 'REGISTER', outcome: 'challenged', verified: false, ...over,
});

before(async () => {
  writeFileSync(countries, writeMmdb({
    databaseType: 'GeoLite2-City',
    networks: [
      { network: '198.51.100.0/24', record: cityRecord('NL') },
      { network: '203.0.113.0/24', record: countryRecord('US') },
      { network: '2001:db8:5::/48', record: cityRecord('PS', 'Gaza', 281_133) },
    ],
  }));
  writeFileSync(asns, writeMmdb({
    databaseType: 'GeoLite2-ASN',
    recordSize: 24,
    networks: [
      { network: '198.51.100.0/24', record: asnRecord(64500, 'Example, B.V.') },
      { network: '2001:db8::/32', record: asnRecord(64511, 'Example IPv6') },
    ],
  }));
  store = openSqliteStore(dbPath);
  await store.addHoneypotRecords({
    hits: [
      hit({ userAgent: 'friendly-scanner', tool: 'svcrack', username: '100', password: '1234', outcome: 'wrong-password', verified: true }),
      hit({ userAgent: 'friendly-scanner', tool: 'svcrack', username: '100', password: '100', outcome: 'registered', verified: true }),
      hit({ ip: '203.0.113.5', method: 'INVITE', userAgent: 'sipcli/v1.8', tool: 'sipcli', destination: '00972599000123', number: '972599000123' }),
      hit({ ip: '2001:db8:5::9', method: 'OPTIONS', outcome: 'answered', tool: 'sipvicious' }),
    ],
    dialled: [],
  });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('honeypot report from MaxMind DB files', () => {
  it('sources, countries and networks come from .mmdb files, IPv4 and IPv6', async () => {
    const report = await buildReport(store, { since: NOW - 86_400_000, until: NOW, geo: loadGeo({ country: countries, asn: asns }), countries: true, networks: true });
    assert.deepEqual(report.sources.map((s) => [s.ip, s.country, s.asn, s.org]), [
      ['198.51.100.7', 'NL', 64500, 'Example, B.V.'],
      ['2001:db8:5::9', 'PS', 64511, 'Example IPv6'],
      ['203.0.113.5', 'US', undefined, undefined],
    ]);
    assert.deepEqual(report.countries?.map((c) => [c.country, c.sources, c.hits]), [['NL', 1, 2], ['PS', 1, 1], ['US', 1, 1]]);
    assert.deepEqual(report.networks?.map((n) => [n.asn, n.org, n.sources, n.hits]), [[64500, 'Example, B.V.', 1, 2], [64511, 'Example IPv6', 1, 1]]);
  });

  it('`sipwarden honeypot report` reads them from the config; the wrong file costs only the geo columns, named', async () => {
    const config = join(dir, 'sipwarden.yaml');
    writeFileSync(config, `store: { sqlite: ${dbPath} }\ngeo: { country: ${countries}, asn: ${asns} }\n`);
    const json = JSON.parse((await run(process.execPath, [CLI, 'honeypot', 'report', '--config', config, '--json'])).stdout) as HoneypotReport;
    assert.deepEqual(json.countries?.map((c) => c.country), ['NL', 'PS', 'US']);
    assert.deepEqual(json.networks?.map((n) => n.asn), [64500, 64511]);
    const text = (await run(process.execPath, [CLI, 'honeypot', 'report', '--config', config])).stdout;
    assert.match(text, /198\.51\.100\.7 +NL +AS64500 Example, B\.V\./);

    writeFileSync(config, `store: { sqlite: ${dbPath} }\ngeo: { country: ${asns} }\n`);
    const degraded = await run(process.execPath, [CLI, 'honeypot', 'report', '--config', config, '--json']);
    assert.match(degraded.stderr, /GeoLite2-ASN\.mmdb: a MaxMind DB of type "GeoLite2-ASN" whose records have no country\.iso_code[^\n]*; the report goes on without geo data/);
    assert.equal((JSON.parse(degraded.stdout) as HoneypotReport).countries, undefined);
  });
});
