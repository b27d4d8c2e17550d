import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSipwardenError } from '../core/errors.js';
import type { HoneypotHit, HotlistSighting, Store } from './types.js';

/** The honeypot part of the Store contract; store/contract.ts runs it for every implementation. */

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export function sampleHit(over: Partial<HoneypotHit> = {}): HoneypotHit {
  return { at: T0, ip: '203.0.113.9', port: 5060, transport: 'udp', method: 'REGISTER', outcome: 'challenged', verified: false, ...over };
}

const sighting = (over: Partial<HotlistSighting> = {}): HotlistSighting => ({ number: '972599000123', ip: '203.0.113.9', at: T0, verified: false, ...over });

export function honeypotContract(store: () => Store): void {
  describe('honeypot records', () => {
    it('round-trips every field of a hit, newest first, and filters by since, ip and outcome', async () => {
      const full = sampleHit({
        at: T0 + 2, ip: '2001:db8::7', port: 40000, transport: 'tcp', method: 'INVITE', userAgent: 'sipcli/v1.8',
        username: '100', password: `o'pass "☎" %_`, toUser: '00972599000123', destination: '00972599000123',
        number: '972599000123', outcome: 'rejected', verified: true, tool: 'sipcli', sensor: 'pbx1/hp',
      });
      await store().addHoneypotRecords({ hits: [sampleHit({ at: T0 }), full, sampleHit({ at: T0 + 1, outcome: 'registered' })] });
      const all = await store().honeypotHits({});
      assert.deepEqual(all.map((h) => h.at), [T0 + 2, T0 + 1, T0]);
      const { id, ...stored } = all[0]!;
      assert.ok(id > 0);
      assert.deepEqual(stored, full);
      assert.equal('userAgent' in all[2]!, false, 'absent fields stay absent');
      assert.equal((await store().honeypotHits({ since: T0 + 1 })).length, 2);
      assert.deepEqual((await store().honeypotHits({ ip: '2001:db8:0::7' })).map((h) => h.method), ['INVITE']);
      assert.deepEqual((await store().honeypotHits({ outcome: 'registered' })).map((h) => h.at), [T0 + 1]);
      assert.equal((await store().honeypotHits({ limit: 1 })).length, 1);
      await assert.rejects(store().honeypotHits({ ip: 'nope' }), (e) => isSipwardenError(e, 'SW_ERR_IP'));
    });

    it('writes hits, sightings and suppressed counts in one transaction', async () => {
      const bad = sampleHit({ ip: 'not-an-address' });
      await assert.rejects(
        store().addHoneypotRecords({ hits: [sampleHit(), bad], dialled: [sighting()], suppressed: [{ minute: T0, ip: '203.0.113.9', count: 5 }] }),
        (e) => isSipwardenError(e),
      );
      assert.deepEqual(await store().honeypotHits({}), []);
      assert.deepEqual(await store().hotlist({}), []);
      assert.equal((await store().honeypotTotals(0)).suppressed, 0);
    });

    it('hotlist: hits, distinct sources, verified hits (a verified retry of a call adds only that), first and last seen', async () => {
      await store().addHoneypotRecords({
        hits: [],
        dialled: [
          sighting({ at: T0 + MINUTE }),
          sighting({ at: T0, verified: true }),
          sighting({ at: T0 + 2 * MINUTE, ip: '198.51.100.1' }),
          sighting({ number: '447700900123', at: T0 + 3 * MINUTE }),
        ],
      });
      await store().addHoneypotRecords({ hits: [], dialled: [sighting({ at: T0 + 4 * MINUTE, ip: '198.51.100.1', verified: true })] });
      await store().addHoneypotRecords({ hits: [], dialled: [sighting({ at: T0 + 5 * MINUTE, verified: true, retry: true })] });
      assert.deepEqual(await store().hotlist({}), [
        { number: '972599000123', firstSeen: T0, lastSeen: T0 + 5 * MINUTE, hits: 4, sources: 2, verifiedHits: 3 },
        { number: '447700900123', firstSeen: T0 + 3 * MINUTE, lastSeen: T0 + 3 * MINUTE, hits: 1, sources: 1, verifiedHits: 0 },
      ]);
      assert.deepEqual((await store().hotlist({ number: '447700900123' })).map((e) => e.hits), [1]);
      assert.deepEqual((await store().hotlist({ since: T0 + 4 * MINUTE })).map((e) => e.number), ['972599000123']);
      assert.deepEqual(await store().hotlist({ number: '1' }), []);
      assert.equal((await store().hotlist({ limit: 1 })).length, 1);
    });

    it('tallies one field: hits, distinct sources and verified hits, most first, values absent not counted', async () => {
      await store().addHoneypotRecords({
        hits: [
          sampleHit({ userAgent: 'friendly-scanner', verified: true }),
          sampleHit({ userAgent: 'friendly-scanner', ip: '198.51.100.1' }),
          sampleHit({ userAgent: 'friendly-scanner' }),
          sampleHit({ userAgent: 'sipcli/v1.8' }),
          sampleHit({ userAgent: 'a-first-by-name' }),
          sampleHit({ at: T0 - 1, userAgent: 'old' }),
          sampleHit(),
        ],
      });
      assert.deepEqual(await store().honeypotTally('userAgent', { since: T0 }), [
        { value: 'friendly-scanner', hits: 3, sources: 2, verifiedHits: 1 },
        { value: 'a-first-by-name', hits: 1, sources: 1, verifiedHits: 0 },
        { value: 'sipcli/v1.8', hits: 1, sources: 1, verifiedHits: 0 },
      ]);
      assert.equal((await store().honeypotTally('userAgent', { limit: 2 })).length, 2);
      assert.deepEqual(await store().honeypotTally('method', { ip: '198.51.100.1' }), [{ value: 'REGISTER', hits: 1, sources: 1, verifiedHits: 0 }]);
      assert.deepEqual(await store().honeypotTally('password', {}), []);
    });

    it('sources: per address, with tools, user agents, user names and registration', async () => {
      await store().addHoneypotRecords({
        hits: [
          sampleHit({ at: T0, tool: 'sipvicious', userAgent: 'friendly-scanner', username: '100' }),
          sampleHit({ at: T0 + 5, tool: 'sipvicious', userAgent: 'friendly-scanner', username: '101', verified: true }),
          sampleHit({ at: T0 + 9, userAgent: 'Zoiper', username: '100', outcome: 'registered', verified: true }),
          sampleHit({ at: T0 + 1, ip: '198.51.100.1', method: 'OPTIONS', outcome: 'answered' }),
        ],
      });
      assert.deepEqual(await store().honeypotSources({}), [
        { ip: '203.0.113.9', hits: 3, firstSeen: T0, lastSeen: T0 + 9, verified: true, tools: ['sipvicious'], userAgents: ['Zoiper', 'friendly-scanner'], usernames: 2, registered: true },
        { ip: '198.51.100.1', hits: 1, firstSeen: T0 + 1, lastSeen: T0 + 1, verified: false, tools: [], userAgents: [], usernames: 0, registered: false },
      ]);
      assert.deepEqual((await store().honeypotSources({ since: T0 + 6 })).map((s) => [s.ip, s.hits]), [['203.0.113.9', 1]]);
    });

    it('accounts: attempts, sources, distinct passwords and whether one registered', async () => {
      await store().addHoneypotRecords({
        hits: [
          sampleHit({ username: '100', password: '1234', outcome: 'wrong-password' }),
          sampleHit({ username: '100', password: '1234', outcome: 'wrong-password', ip: '198.51.100.1' }),
          sampleHit({ username: '100', password: '100', outcome: 'registered' }),
          sampleHit({ username: '100' }),
          sampleHit({ username: 'admin', password: 'admin', outcome: 'unknown-account' }),
        ],
      });
      assert.deepEqual(await store().honeypotAccounts({}), [
        { username: '100', attempts: 4, sources: 2, passwords: ['100', '1234'], registered: true },
        { username: 'admin', attempts: 1, sources: 1, passwords: ['admin'], registered: false },
      ]);
    });

    it('totals: hits, sources, verified sources, registrations, the period seen and suppressed requests', async () => {
      assert.deepEqual(await store().honeypotTotals(0), { hits: 0, sources: 0, verifiedSources: 0, registrations: 0, suppressed: 0 });
      await store().addHoneypotRecords({
        hits: [
          sampleHit({ at: T0 }),
          sampleHit({ at: T0 + 7, verified: true, outcome: 'registered' }),
          sampleHit({ at: T0 + 3, ip: '198.51.100.1' }),
          sampleHit({ at: T0 - DAY, ip: '192.0.2.1' }),
        ],
        suppressed: [{ minute: T0 - MINUTE, ip: '203.0.113.9', count: 10 }, { minute: T0 - 2 * MINUTE, ip: '*', count: 100 }],
      });
      await store().addHoneypotRecords({ hits: [], suppressed: [{ minute: T0 - MINUTE, ip: '203.0.113.9', count: 5 }] });
      assert.deepEqual(await store().honeypotTotals(T0 - 1), {
        hits: 3, sources: 2, verifiedSources: 1, registrations: 1, suppressed: 15, firstSeen: T0, lastSeen: T0 + 7,
      });
    });

    it('prune applies the age and count limits to hits and suppressed counts, and keeps the hotlist', async () => {
      await store().addHoneypotRecords({
        hits: Array.from({ length: 30 }, (_, i) => sampleHit({ at: T0 + i * MINUTE })),
        dialled: [sighting({ at: T0 })],
        suppressed: [{ minute: T0, ip: '*', count: 3 }],
      });
      await store().prune(T0 + 30 * MINUTE, { maxAgeMs: 20 * MINUTE, maxEvents: 5000 });
      assert.equal((await store().honeypotHits({ limit: 100 })).length, 20);
      assert.equal((await store().honeypotTotals(0)).suppressed, 0);
      await store().prune(T0 + 30 * MINUTE, { maxAgeMs: DAY, maxEvents: 1000 });
      assert.equal((await store().honeypotHits({ limit: 100 })).length, 20, 'under the count limit nothing more goes');
      await store().prune(T0 + 30 * MINUTE, { maxAgeMs: DAY, maxEvents: 8 });
      const left = await store().honeypotHits({ limit: 100 });
      assert.deepEqual([left.length, left.at(-1)?.at], [8, T0 + 22 * MINUTE], 'the oldest go first');
      assert.deepEqual((await store().hotlist({})).map((e) => e.number), ['972599000123']);
    });
  });
}
