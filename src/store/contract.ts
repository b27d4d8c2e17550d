import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SecurityEvent } from '../core/event.js';
import { isSipwardenError } from '../core/errors.js';
import { consoleContract } from './console-contract.js';
import { honeypotContract } from './honeypot-contract.js';
import type { Incident } from '../fraud/incidents.js';
import type { NewDecision, Store } from './types.js';

/**
 * The behaviour every Store must show. Each implementation's test file calls this with a factory that returns
 * a fresh, empty store; the suite closes it after each test.
 */

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

export function sampleEvent(over: Partial<SecurityEvent> = {}): SecurityEvent {
  return { at: T0, kind: 'auth-failure', ip: '203.0.113.9', server: 'asterisk', evidence: 'spoofable', raw: 'line', ...over };
}

export function sampleDecision(over: Partial<NewDecision> = {}): NewDecision {
  return {
    at: T0,
    target: '203.0.113.9',
    targetType: 'ip',
    action: 'ban',
    origin: 'rule',
    rule: 'bruteforce',
    reason: '5 auth failures in 1m',
    durationMs: 3_600_000,
    expiresAt: T0 + 3_600_000,
    level: 0,
    evidence: 'verified',
    eventCount: 5,
    policy: [{ check: 'allowlist', result: 'pass', detail: 'not listed' }],
    dryRun: false,
    ...over,
  };
}

const ids = (list: readonly { id: number }[]): number[] => list.map((d) => d.id);

export function storeContract(name: string, open: () => Promise<Store> | Store): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('events', () => {
      it('round-trips every field and returns ids in the order given', async () => {
        const full = sampleEvent({
          port: 5060, transport: 'tls', account: '100', domain: 'pbx.example.com', destination: '+882123', userAgent: 'sipcli',
          callId: 'abc@host', sensor: 'pbx1/ast', evidence: 'verified', pattern: 'pjsip-failed', reason: 'Wrong password',
        });
        const tampered = sampleEvent({ ip: undefined, kind: 'tampered', tampered: true, candidates: ['198.51.100.1', '2001:db8::1'] });
        delete tampered.ip;
        const [a, b] = await store.appendEvents([full, tampered]);
        assert.ok(a !== undefined && b !== undefined && b > a);
        const stored = await store.events({});
        assert.deepEqual(stored, [{ ...tampered, id: b }, { ...full, id: a }]);
      });

      it('round-trips the call facts of a call event', async () => {
        const call = sampleEvent({
          kind: 'call-end', account: '1001', destination: '+4420794600000',
          call: { durationSec: 65, billSec: 60, disposition: 'answered', uniqueId: '1700000000.42', channel: 'PJSIP/1001-0000002a' },
        });
        const bare = sampleEvent({ kind: 'call-end', call: { disposition: 'no-answer' } });
        const [a, b] = await store.appendEvents([call, bare]);
        const stored = await store.events({});
        assert.deepEqual(stored.find((e) => e.id === a), { ...call, id: a });
        assert.deepEqual(stored.find((e) => e.id === b), { ...bare, id: b });
      });

      it('lists newest first by event time, 100 by default, and honours limit', async () => {
        const times = Array.from({ length: 120 }, (_, i) => T0 + ((i * 37) % 120) * MINUTE);
        await store.appendEvents(times.map((at) => sampleEvent({ at })));
        const all = await store.events({});
        assert.equal(all.length, 100);
        assert.deepEqual(all.map((e) => e.at), [...times].sort((x, y) => y - x).slice(0, 100));
        assert.deepEqual((await store.events({ limit: 3 })).map((e) => e.at), [T0 + 119 * MINUTE, T0 + 118 * MINUTE, T0 + 117 * MINUTE]);
      });

      it('combines ip, account and since filters', async () => {
        await store.appendEvents([
          sampleEvent({ account: 'a', at: T0 }),
          sampleEvent({ account: 'a', at: T0 + MINUTE }),
          sampleEvent({ account: 'b', at: T0 + MINUTE }),
          sampleEvent({ ip: '203.0.113.10', account: 'a', at: T0 + MINUTE }),
        ]);
        assert.equal((await store.events({ ip: '203.0.113.9' })).length, 3);
        assert.equal((await store.events({ account: 'a' })).length, 3);
        const both = await store.events({ ip: '203.0.113.9', account: 'a', since: T0 + MINUTE });
        assert.deepEqual(both.map((e) => [e.ip, e.account, e.at]), [['203.0.113.9', 'a', T0 + MINUTE]]);
      });

      it('finds the members of an IPv4 or IPv6 prefix and nothing outside it', async () => {
        const inside = ['203.0.113.0', '203.0.113.9', '203.0.113.255'];
        const outside = ['203.0.112.255', '203.0.114.0', '2001:db8:1:3::1'];
        const v6 = ['2001:db8:1:2::5', '2001:db8:1:2:ffff:ffff:ffff:ffff'];
        await store.appendEvents([...inside, ...outside, ...v6].map((ip) => sampleEvent({ ip })));
        const in24 = await store.events({ cidr: '203.0.113.0/24' });
        assert.deepEqual(in24.map((e) => e.ip).sort(), [...inside].sort());
        const in64 = await store.events({ cidr: '2001:db8:1:2::/64' });
        assert.deepEqual(in64.map((e) => e.ip).sort(), [...v6].sort());
        assert.equal((await store.events({ cidr: '0.0.0.0/0' })).length, 5, 'an IPv4 /0 holds no IPv6 address');
        assert.equal((await store.events({ cidr: '203.0.113.9/32' })).length, 1);
      });

      it('counts per kind, ignoring limit', async () => {
        const kinds = ['auth-failure', 'auth-failure', 'auth-failure', 'scanner', 'unknown-account'] as const;
        await store.appendEvents(kinds.map((kind) => sampleEvent({ kind })));
        await store.appendEvents([sampleEvent({ ip: '198.51.100.1', kind: 'scanner' })]);
        assert.deepEqual(await store.countEvents({ ip: '203.0.113.9', limit: 1 }), {
          'auth-failure': 3,
          scanner: 1,
          'unknown-account': 1,
        });
        assert.deepEqual(await store.countEvents({ cidr: '198.51.100.0/24' }), { scanner: 1 });
      });

      it('stores unicode, quotes and wildcard characters in accounts verbatim', async () => {
        const odd = `o'brien "x" ☎ 名字 \\ %_ 😀`;
        await store.appendEvents([sampleEvent({ account: odd }), sampleEvent({ account: 'o' })]);
        assert.deepEqual((await store.events({ account: odd })).map((e) => e.account), [odd]);
        assert.deepEqual((await store.events({ account: '%' })).length, 0);
      });

      it('stores a 1 MB raw record as given (callers bound it)', async () => {
        const raw = 'é'.repeat(512 * 1024) + 'x'.repeat(1024);
        await store.appendEvents([sampleEvent({ raw })]);
        const [stored] = await store.events({});
        assert.equal(stored?.raw, raw);
      });

      it('writes positions in the same transaction as the events', async () => {
        const position = { sourceId: 'ast', path: '/var/log/asterisk/messages', dev: 2049, ino: 131_073, offset: 4096, head: 'a1b2' };
        assert.equal(await store.position('ast'), undefined);
        await store.appendEvents([sampleEvent()], [position]);
        assert.deepEqual(await store.position('ast'), position);
        await store.appendEvents([], [{ ...position, offset: 8192 }]);
        assert.equal((await store.position('ast'))?.offset, 8192);

        const broken = { ...sampleEvent(), at: undefined } as unknown as SecurityEvent;
        await assert.rejects(
          store.appendEvents([sampleEvent({ account: 'lost' }), broken], [{ ...position, offset: 9999 }]),
          (error) => isSipwardenError(error, 'SW_ERR_STORE'),
        );
        assert.equal((await store.events({ account: 'lost' })).length, 0, 'no event of the failed batch is kept');
        assert.equal((await store.position('ast'))?.offset, 8192, 'the position did not move');
      });
    });

    describe('decisions', () => {
      it('stores a burst of decisions in one call, in the order given, each as addDecision would', async () => {
        const burst = Array.from({ length: 50 }, (_, i) => sampleDecision({ target: `198.51.100.${i + 1}`, at: T0 + i }));
        const stored = await store.addDecisions(burst);
        assert.deepEqual(stored.map((d) => d.target), burst.map((d) => d.target));
        assert.ok(stored.every((d, i) => i === 0 || d.id > stored[i - 1]!.id), 'ids rise in order');
        assert.deepEqual(await store.decision(stored[7]!.id), stored[7]);
        assert.equal((await store.activeBans(T0)).length, 50);
        assert.deepEqual(await store.addDecisions([]), []);
      });

      it('round-trips every field, policy steps and event ids included', async () => {
        const input = sampleDecision({
          actor: 'root@pbx1', level: 2, firstEventAt: T0 - MINUTE, lastEventAt: T0, eventIds: [3, 1, 2], sensor: 'pbx1/ast',
          policy: [
            { check: 'known-good', result: 'info', detail: `pair "100"@'x' ☎ seen 3 times` },
            { check: 'escalation', result: 'pass', detail: 'level 2: 4h' },
          ],
        });
        const added = await store.addDecision(input);
        assert.deepEqual(added, { ...input, id: added.id });
        const [found] = await store.decisionsFor({ ip: '203.0.113.9' });
        assert.deepEqual(found, added);
        const permanent = await store.addDecision(sampleDecision({ durationMs: null, expiresAt: null }));
        assert.equal(permanent.expiresAt, null);
        assert.equal(permanent.durationMs, null);
      });

      it('active bans: expiresAt equal to now is expired; revoked, dry-run and reports are not active', async () => {
        const now = T0 + 10 * MINUTE;
        const live = await store.addDecision(sampleDecision({ target: '198.51.100.1', expiresAt: now + 1 }));
        await store.addDecision(sampleDecision({ target: '198.51.100.2', expiresAt: now }));
        const permanent = await store.addDecision(sampleDecision({ target: '198.51.100.3', expiresAt: null, durationMs: null }));
        await store.addDecision(sampleDecision({ target: '198.51.100.4', dryRun: true }));
        await store.addDecision(sampleDecision({ target: '198.51.100.5', action: 'report', durationMs: undefined, expiresAt: undefined }));
        const revoked = await store.addDecision(sampleDecision({ target: '198.51.100.6', expiresAt: null }));
        await store.revokeDecision(revoked.id, 'root', 'customer', now - 1);
        assert.deepEqual(ids(await store.activeBans(now)), [live.id, permanent.id]);
        assert.deepEqual(ids(await store.activeBans(now + 1)), [permanent.id]);
      });

      it('finds prefix bans containing an address, and address bans inside a prefix', async () => {
        const net = await store.addDecision(sampleDecision({ target: '203.0.113.0/24', at: T0 }));
        const host = await store.addDecision(sampleDecision({ target: '203.0.113.9', at: T0 + 1 }));
        const other = await store.addDecision(sampleDecision({ target: '203.0.114.9', at: T0 + 2 }));
        const v6 = await store.addDecision(sampleDecision({ target: '2001:db8:1:2::/64', at: T0 + 3 }));
        const account = await store.addDecision(sampleDecision({ target: '203.0.113.9', targetType: 'account', at: T0 + 4 }));
        assert.deepEqual(ids(await store.decisionsFor({ ip: '203.0.113.9' })), [host.id, net.id]);
        assert.deepEqual(ids(await store.decisionsFor({ ip: '203.0.113.77' })), [net.id]);
        assert.deepEqual(ids(await store.decisionsFor({ cidr: '203.0.113.0/24' })), [host.id, net.id]);
        assert.deepEqual(ids(await store.decisionsFor({ cidr: '203.0.0.0/16' })), [other.id, host.id, net.id]);
        assert.deepEqual(ids(await store.decisionsFor({ ip: '2001:db8:1:2:abcd::1' })), [v6.id]);
        assert.deepEqual(ids(await store.decisionsFor({ ip: '2001:db8:1:3::1' })), []);
        assert.deepEqual(ids(await store.decisionsFor({ account: '203.0.113.9' })), [account.id]);
        assert.deepEqual(ids(await store.decisionsFor({ ip: '203.0.113.9' }, 1)), [host.id]);
      });

      it('decisionsAfter lists later decisions oldest first, up to the limit', async () => {
        const made = [];
        for (let i = 0; i < 5; i++) made.push(await store.addDecision(sampleDecision({ at: T0 - i })));
        assert.deepEqual(ids(await store.decisionsAfter(0)), ids(made));
        assert.deepEqual(ids(await store.decisionsAfter(made[1]?.id ?? 0, 2)), ids(made.slice(2, 4)));
        assert.deepEqual(await store.decisionsAfter(made[4]?.id ?? 0), []);
      });

      it('revocation keeps the first one, shows in revokedSince, and an unknown id is not found', async () => {
        const ban = await store.addDecision(sampleDecision());
        const first = await store.revokeDecision(ban.id, 'root@pbx1', 'customer phone', T0 + MINUTE);
        assert.deepEqual(first, { ...ban, revokedAt: T0 + MINUTE, revokedBy: 'root@pbx1', revokeReason: 'customer phone' });
        assert.deepEqual(await store.revokeDecision(ban.id, 'admin', 'again', T0 + 2 * MINUTE), first);
        assert.deepEqual(ids(await store.revokedSince(T0 + MINUTE)), [ban.id]);
        assert.deepEqual(await store.revokedSince(T0 + MINUTE + 1), []);
        await assert.rejects(store.revokeDecision(ban.id + 1000, 'root', 'x', T0), (e) => isSipwardenError(e, 'SW_ERR_NOT_FOUND'));
      });

      it('countBans counts rule and manual bans of the exact target since a time', async () => {
        const target = '203.0.113.9';
        await store.addDecision(sampleDecision({ at: T0 - 1 }));
        await store.addDecision(sampleDecision({ at: T0 }));
        await store.addDecision(sampleDecision({ at: T0 + 1, origin: 'manual', actor: 'root' }));
        await store.addDecision(sampleDecision({ at: T0 + 2, origin: 'feed' }));
        await store.addDecision(sampleDecision({ at: T0 + 3, dryRun: true }));
        await store.addDecision(sampleDecision({ at: T0 + 4, action: 'report' }));
        await store.addDecision(sampleDecision({ at: T0 + 5, target: '203.0.113.0/24' }));
        const lifted = await store.addDecision(sampleDecision({ at: T0 + 6 }));
        await store.revokeDecision(lifted.id, 'root', 'false positive', T0 + 7);
        assert.equal(await store.countBans(target, T0), 2);
        assert.equal(await store.countBans(target, T0 - 1), 3);
      });
    });

    describe('known good', () => {
      it('upserts a pair: counts, first and last seen', async () => {
        // Out of order on purpose: replays and several sources deliver successes late.
        await store.rememberSuccess('203.0.113.9', '100', T0 + MINUTE);
        await store.rememberSuccess('203.0.113.9', '100', T0 + 2 * MINUTE);
        await store.rememberSuccess('203.0.113.9', '100', T0);
        assert.deepEqual(await store.knownGood({ ip: '203.0.113.9', since: 0 }), [
          { ip: '203.0.113.9', account: '100', firstSeen: T0, lastSeen: T0 + 2 * MINUTE, count: 3 },
        ]);
      });

      it('filters by ip, account and last seen since', async () => {
        await store.rememberSuccess('203.0.113.9', '100', T0);
        await store.rememberSuccess('203.0.113.9', '101', T0 + MINUTE);
        await store.rememberSuccess('198.51.100.1', '100', T0 + MINUTE);
        const pairs = (list: { ip: string; account: string }[]) => list.map((p) => `${p.ip}/${p.account}`).sort();
        assert.deepEqual(pairs(await store.knownGood({ ip: '203.0.113.9', since: 0 })), ['203.0.113.9/100', '203.0.113.9/101']);
        assert.deepEqual(pairs(await store.knownGood({ account: '100', since: 0 })), ['198.51.100.1/100', '203.0.113.9/100']);
        assert.deepEqual(pairs(await store.knownGood({ ip: '203.0.113.9', since: T0 + 1 })), ['203.0.113.9/101']);
        assert.deepEqual(pairs(await store.knownGood({ ip: '203.0.113.9', account: '100', since: T0 })), ['203.0.113.9/100']);
      });
    });

    it('audit entries of a target come newest first, up to the limit', async () => {
      await store.audit({ at: T0, actor: 'root', action: 'ban', target: '203.0.113.9', reason: 'manual', detail: 'decision 1' });
      await store.audit({ at: T0 + 2, actor: 'root', action: 'unban', target: '203.0.113.9', reason: 'customer' });
      await store.audit({ at: T0 + 1, actor: 'root', action: 'ban', target: '198.51.100.1', reason: 'manual' });
      const entries = await store.auditFor('203.0.113.9');
      assert.deepEqual(entries.map((e) => e.action), ['unban', 'ban']);
      assert.equal(entries[1]?.detail, 'decision 1');
      assert.equal('detail' in (entries[0] ?? {}), false);
      assert.deepEqual((await store.auditFor('203.0.113.9', 1)).map((e) => e.at), [T0 + 2]);
    });

    describe('prune', () => {
      it('removes events older than the age limit, then the oldest beyond the count limit', async () => {
        await store.appendEvents(Array.from({ length: 12_000 }, (_, i) => sampleEvent({ at: T0 + i })));
        const now = T0 + 12_000;
        assert.equal(await store.prune(now, { maxAgeMs: 1000, maxEvents: 500 }), 11_500);
        const left = await store.events({ limit: 1000 });
        assert.equal(left.length, 500);
        assert.equal(left.at(-1)?.at, T0 + 11_500);
        assert.equal(await store.prune(now, { maxAgeMs: 1000, maxEvents: 500 }), 0);
      });

      it('applies the age limit alone and keeps decisions', async () => {
        await store.appendEvents(Array.from({ length: 7000 }, (_, i) => sampleEvent({ at: T0 + i })));
        const ban = await store.addDecision(sampleDecision({ at: T0 }));
        assert.equal(await store.prune(T0 + 7000, { maxAgeMs: 1000, maxEvents: 1_000_000 }), 6000);
        assert.equal((await store.events({ limit: 10_000 })).length, 1000);
        assert.deepEqual(ids(await store.decisionsAfter(0)), [ban.id]);
      });
    });

    honeypotContract(() => store);
    consoleContract(() => store, sampleDecision);

    describe('fraud incidents', () => {
      const incident = (over: Partial<Incident> = {}): Incident => ({
        id: 'fraud-1001-x', account: '1001', openedAt: T0, updatedAt: T0, severity: 'warning', rules: [], sources: ['203.0.113.9'],
        destinations: [{ raw: '0097259', e164: '+97259', country: 'IL', tier: 'T3', reasons: ['country-not-allowed'] }],
        callIds: ['c1'], calls: 1, answered: 0, minutes: 0, actions: [], ...over,
      });

      it('saves by id (a later save replaces), and lists by account and recency', async () => {
        await store.saveIncident(incident());
        await store.saveIncident(incident({ updatedAt: T0 + 60_000, severity: 'critical', calls: 7 }));
        await store.saveIncident(incident({ id: 'fraud-2002-y', account: '2002', updatedAt: T0 + 30_000 }));
        const all = await store.incidents({});
        assert.deepEqual(all.map((i) => [i.id, i.severity, i.calls]), [['fraud-1001-x', 'critical', 7], ['fraud-2002-y', 'warning', 1]]);
        assert.deepEqual((await store.incidents({ account: '2002' })).map((i) => i.id), ['fraud-2002-y']);
        assert.deepEqual((await store.incidents({ since: T0 + 45_000 })).map((i) => i.id), ['fraud-1001-x']);
        assert.deepEqual(all[0]!.destinations, incident().destinations, 'round-trips the whole incident');
      });

      it('prunes incidents quiet for longer than the age limit', async () => {
        await store.saveIncident(incident({ updatedAt: T0 }));
        await store.prune(T0 + 10 * 86_400_000, { maxAgeMs: 86_400_000, maxEvents: 1000 });
        assert.deepEqual(await store.incidents({}), []);
      });
    });

    it('rejects an invalid prefix with SW_ERR_IP', async () => {
      await assert.rejects(store.events({ cidr: '203.0.113.0/33' }), (e) => isSipwardenError(e, 'SW_ERR_IP'));
      await assert.rejects(store.decisionsFor({ ip: 'not-an-ip' }), (e) => isSipwardenError(e, 'SW_ERR_IP'));
    });
  });
}
