import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { loadGeo } from '../geo/index.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { HoneypotHit, Store } from '../store/types.js';
import { buildReport, type HoneypotReport } from './report.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const run = promisify(execFile);
const NOW = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'sw-hp-report-'));
const dbPath = join(dir, 'sw.db');
const countries = join(dir, 'country.csv');
const asns = join(dir, 'asn.csv');
let store: Store;

const hit = (over: Partial<HoneypotHit>): HoneypotHit => ({
  at: NOW - 60_000, ip: '198.51.100.7', port: 5060, transport: 'udp', method: 'REGISTER', outcome: 'challenged', verified: false, ...over,
});

before(async () => {
  writeFileSync(countries, '198.51.100.0,198.51.100.255,NL\n203.0.113.0,203.0.113.255,US\n');
  writeFileSync(asns, '198.51.100.0,198.51.100.255,64500,"Example, B.V."\n');
  store = openSqliteStore(dbPath);
  await store.addHoneypotRecords({
    hits: [
      hit({ method: 'OPTIONS', outcome: 'answered', userAgent: 'friendly-scanner', tool: 'svmap', username: '100' }),
      hit({ userAgent: 'friendly-scanner', tool: 'svcrack', username: '100', password: '1234', outcome: 'wrong-password', verified: true }),
      hit({ userAgent: 'friendly-scanner', tool: 'svcrack', username: '100', password: '100', outcome: 'registered', verified: true }),
      hit({ ip: '203.0.113.5', method: 'INVITE', userAgent: 'sipcli/v1.8', tool: 'sipcli', destination: '00972599000123', number: '972599000123' }),
      hit({ ip: '192.0.2.1', at: NOW - 30 * 86_400_000, method: 'OPTIONS', outcome: 'answered' }),
    ],
    dialled: [{ number: '972599000123', ip: '203.0.113.5', at: NOW - 60_000, verified: false }],
  });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('honeypot report', () => {
  it('sums up the period: sources with country and network, tools, accounts, passwords, registrations, numbers', async () => {
    const report = await buildReport(store, { since: NOW - 86_400_000, until: NOW, geo: loadGeo({ country: countries, asn: asns }), countries: true, networks: true });
    assert.deepEqual(report.totals, { hits: 4, sources: 2, verifiedSources: 1, registrations: 1, suppressed: 0, firstSeen: NOW - 60_000, lastSeen: NOW - 60_000 });
    assert.deepEqual(report.sources.map((s) => [s.ip, s.hits, s.country, s.asn, s.org, s.tools]), [
      ['198.51.100.7', 3, 'NL', 64500, 'Example, B.V.', ['svcrack', 'svmap']],
      ['203.0.113.5', 1, 'US', undefined, undefined, ['sipcli']],
    ]);
    assert.deepEqual(report.countries, [{ country: 'NL', sources: 1, hits: 3 }, { country: 'US', sources: 1, hits: 1 }]);
    assert.deepEqual(report.networks, [{ asn: 64500, org: 'Example, B.V.', sources: 1, hits: 3 }]);
    assert.deepEqual(report.tools.map((t) => [t.value, t.hits]), [['svcrack', 2], ['sipcli', 1], ['svmap', 1]]);
    assert.deepEqual(report.accounts, [{ username: '100', attempts: 3, sources: 1, passwords: ['100', '1234'], registered: true }]);
    assert.deepEqual(report.registrations.map((r) => [r.ip, r.username]), [['198.51.100.7', '100']]);
    assert.deepEqual(report.numbers.map((n) => [n.number, n.hits, n.sources]), [['972599000123', 1, 1]]);
    assert.deepEqual(report.destinations.map((d) => d.value), ['00972599000123']);
  });

  it('without geo databases there are no country or network sections', async () => {
    const report = await buildReport(store, { since: NOW - 86_400_000, until: NOW });
    assert.equal(report.countries, undefined);
    assert.equal(report.sources[0]?.country, undefined);
  });

  it('`sipwarden honeypot report`: JSON and text, --since, and a broken geo file costs only the geo columns', async () => {
    const config = join(dir, 'sipwarden.yaml');
    writeFileSync(config, `store: { sqlite: ${dbPath} }\ngeo: { country: ${countries} }\n`);
    const json = JSON.parse((await run(process.execPath, [CLI, 'honeypot', 'report', '--config', config, '--json'])).stdout) as HoneypotReport;
    assert.equal(json.totals.hits, 4);
    assert.deepEqual(json.countries?.map((c) => c.country), ['NL', 'US']);
    const month = JSON.parse((await run(process.execPath, [CLI, 'honeypot', 'report', '--config', config, '--json', '--since', '60d'])).stdout) as HoneypotReport;
    assert.equal(month.totals.sources, 3);
    const text = (await run(process.execPath, [CLI, 'honeypot', 'report', '--config', config])).stdout;
    assert.match(text, /4 requests from 2 sources \(1 verified\), 1 bait registrations/);
    assert.match(text, /198\.51\.100\.7 +NL/);
    assert.match(text, /Numbers dialled[^\n]*\n +NUMBER[^\n]*\n +972599000123 +1 +1/);

    writeFileSync(countries, '198.51.100.0,198.51.100.255,NL\nbroken,row,XX\n');
    const degraded = await run(process.execPath, [CLI, 'honeypot', 'report', '--config', config, '--json']);
    assert.match(degraded.stderr, /country\.csv line 2: "broken" is not an IP address; the report goes on without geo data/);
    assert.equal((JSON.parse(degraded.stdout) as HoneypotReport).countries, undefined);
    await assert.rejects(run(process.execPath, [CLI, 'honeypot', 'report', '--config', config, '--since', 'soon']), /not a duration/);
  });
});
