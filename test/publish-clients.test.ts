import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOUR, T0, request, startHarness, type Harness } from '../src/api/harness.test.js';
import { sampleDecision } from '../src/store/contract.js';
import type { NewDecision } from '../src/store/types.js';

/**
 * The publisher as the existing APIBAN consumers use it, by their own rules and nothing of ours: the Go client's
 * loop (start at "100", follow ID until the 400 "no new bans", v1 and v2), the Kamailio recipe (one GET per
 * timer tick, an htable of addresses, the ID kept only from a 200), and the OpenSIPS recipe (keep paging while a
 * page holds exactly 250).
 */

const KEY = 'partners-key-0123456789';
const config = { allow: ['127.0.0.0/8'], publish: { keys: [{ key: KEY, evidence: 'verified', minHits: 3 }] } };

const ban = (over: Partial<NewDecision>): NewDecision =>
  sampleDecision({ at: T0, expiresAt: T0 + HOUR, eventCount: 5, evidence: 'verified', ...over });

/** 650 published bans, with unpublished decisions of every kind between them. */
async function fill(h: Harness): Promise<Set<string>> {
  const published = new Set<string>();
  for (let i = 0; i < 650; i++) {
    const target = `198.18.${i >> 8}.${i & 255}`;
    await h.store.addDecision(ban({ target }));
    published.add(target);
    if (i % 7 === 0) await h.store.addDecision(ban({ target: `198.19.${i >> 8}.${i & 255}`, evidence: 'spoofable' }));
    if (i % 11 === 0) await h.store.addDecision(ban({ target: `198.20.${i >> 8}.${i & 255}`, origin: 'manual', rule: undefined, actor: 'root' }));
    if (i % 13 === 0) await h.store.addDecision(ban({ target: `198.21.${i >> 8}.${i & 255}`, eventCount: 1 }));
  }
  return published;
}

/** The Go client: LKID "100", then whatever ID says, until the server answers 400 "no new bans". */
async function goClient(h: Harness, version: 1 | 2): Promise<{ ips: string[]; requests: number; lkid: string }> {
  const ips: string[] = [];
  let lkid = '100';
  for (let requests = 1; requests < 50; requests++) {
    const answer = version === 1
      ? await h.call('GET', `/api/${KEY}/banned/${lkid}`)
      : await h.call('POST', '/api/get', { token: KEY, body: { set: 'sip', id: lkid } });
    if (answer.status === 400 && answer.json.ipaddress[0] === 'no new bans') return { ips, requests, lkid };
    assert.equal(answer.status, 200, `request ${requests}: ${answer.text}`);
    ips.push(...answer.json.ipaddress);
    assert.notEqual(answer.json.ID, lkid, 'the ID moves on');
    lkid = answer.json.ID;
  }
  throw new Error('the client never heard "no new bans"');
}

describe('publish: real APIBAN consumers', () => {
  let h: Harness;
  let published: Set<string>;
  before(async () => {
    h = await startHarness({ config });
    published = await fill(h);
  });
  after(() => h.close());

  for (const version of [1, 2] as const) {
    it(`the Go client (v${version}) pages by ID from "100" to "no new bans" and gets every published ban once`, async () => {
      const { ips, requests, lkid } = await goClient(h, version);
      assert.equal(requests, 4, '250 + 250 + 150, then no new bans');
      assert.equal(ips.length, 650);
      assert.deepEqual(new Set(ips), published);
      const next = await h.store.addDecision(ban({ target: `203.0.113.${version}` }));
      const later = version === 1
        ? await h.call('GET', `/api/${KEY}/banned/${lkid}`)
        : await h.call('POST', '/api/get', { token: KEY, body: { set: 'sip', id: lkid } });
      assert.deepEqual(later.json, { ipaddress: [`203.0.113.${version}`], ID: String(next.id) }, 'the next run gets only the new ban');
      await h.store.revokeDecision(next.id, 'root', 'test cleanup', T0);
    });
  }

  it('the Kamailio recipe: one GET a timer tick, addresses into an htable checked in REQINIT', async () => {
    const apiban = new Map<string, number>();
    const apibanctl = new Map<string, string>();
    const tick = async (): Promise<number> => {
      const id = apibanctl.get('ID');
      const answer = await request(h.url, 'GET', `/api/${KEY}/banned${id === undefined ? '' : `/${id}`}`);
      if (answer.status !== 200) return answer.status; // the recipe logs and exits, keeping its ID
      const banned = JSON.parse(answer.text) as { ipaddress: string[]; ID: string };
      for (const address of banned.ipaddress) apiban.set(address, 1);
      apibanctl.set('ID', banned.ID);
      return 200;
    };
    const reqinit = (si: string): 'drop' | 'relay' => (apiban.has(si) ? 'drop' : 'relay');
    const statuses = [await tick(), await tick(), await tick(), await tick(), await tick()];
    assert.deepEqual(statuses, [200, 200, 200, 400, 400]);
    assert.equal(apiban.size, 650);
    assert.equal(reqinit('198.18.2.100'), 'drop');
    assert.equal(reqinit('198.19.0.0'), 'relay', 'spoofable evidence is not published to this key');
    assert.equal(reqinit('198.20.0.0'), 'relay', 'a manual ban is not published');
    const fresh = await h.store.addDecision(ban({ target: '203.0.113.99' }));
    assert.equal(await tick(), 200);
    assert.equal(reqinit('203.0.113.99'), 'drop');
    assert.equal(apibanctl.get('ID'), String(fresh.id));
    await h.store.revokeDecision(fresh.id, 'root', 'test cleanup', T0);
  });

  it('the OpenSIPS recipe: keeps asking while a page holds exactly 250', async () => {
    const cache = new Set<string>();
    let id = '100';
    let requests = 0;
    for (let batch = 250; batch === 250; requests++) {
      const answer = await h.call('GET', `/api/${KEY}/banned/${id}`);
      if (answer.status !== 200) break;
      batch = answer.json.ipaddress.length;
      for (const address of answer.json.ipaddress) cache.add(address);
      id = answer.json.ID;
    }
    assert.equal(requests, 3);
    assert.deepEqual(cache, published);
  });
});

describe('publish: a feed ending at decision 100', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ config });
    for (let i = 1; i <= 100; i++) await h.store.addDecision(ban({ target: `198.18.0.${i}` }));
  });
  after(() => h.close());

  it('hands out "0100", not the start sentinel "100", so a client cannot loop over the same page forever', async () => {
    const first = await h.call('GET', `/api/${KEY}/banned/100`);
    assert.deepEqual([first.status, first.json.ipaddress.length, first.json.ID], [200, 100, '0100']);
    const { ips, requests } = await goClient(h, 1);
    assert.deepEqual([ips.length, requests], [100, 2]);
    assert.equal((await goClient(h, 2)).requests, 2);
  });
});
