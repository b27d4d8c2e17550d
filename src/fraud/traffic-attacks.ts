import type { SecurityEvent } from '../core/event.js';
import { callEnd, callEvents, dial, registration, STEMS, DAY, HOUR, MINUTE, type CallPlan, type Rng, type TrafficAccount } from './traffic.js';

/**
 * The labelled attacks mixed into synthetic traffic (issue: toll fraud). Each is placed in the measured week at
 * night, in the evening or at the weekend, on accounts picked from the benign ones (a stolen account keeps its
 * owner's own calls too). Its entry says how the fraudster got in: a registration from a new foreign address, a
 * new address in the home country (a VPS), or the account's usual address (a compromised phone or PBX web UI),
 * which leaves the rules nothing but the calls themselves.
 */

export type AttackKind = 'stolen-account' | 'slow-pump' | 'prefix-guessing' | 'wangiri-callback' | 'number-walking' | 'shared-destination';
export type AttackEntry = 'foreign-registration' | 'home-registration' | 'known-address';

/** One account's part in one attack; an attack on several accounts has one label per account, same id. */
export interface AttackLabel {
  attackId: string;
  account: string;
  kind: AttackKind;
  entry: AttackEntry;
  /** The first event of the attack on this account (the new registration, the Wangiri ring, the first call). */
  startsAt: number;
  /** The start of its first fraudulent call. */
  fraudStartsAt: number;
  /** The end of its last fraudulent call. */
  endsAt: number;
  callIds: string[];
}

/** Attacks of each kind per generated week. */
export const ATTACKS_PER_WEEK: Readonly<Record<AttackKind, number>> = {
  'stolen-account': 6, 'slow-pump': 4, 'prefix-guessing': 3, 'wangiri-callback': 3, 'number-walking': 3, 'shared-destination': 3,
};

const FOREIGN_NETWORKS = ['185.220.', '45.141.', '196.70.', '102.128.'];

interface Context {
  rng: Rng;
  events: SecurityEvent[];
  labels: AttackLabel[];
  measuredFrom: number;
  victims: TrafficAccount[];
  attackId: string;
  kind: AttackKind;
  calls: number;
}

/** Adds the attacks' events to `events` and returns their labels. */
export function planAttacks(rng: Rng, accounts: readonly TrafficAccount[], measuredFrom: number, events: SecurityEvent[]): AttackLabel[] {
  const victims = accounts.filter((a) => a.id !== 'dialler' && a.trip === undefined);
  for (let i = victims.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [victims[i], victims[j]] = [victims[j]!, victims[i]!];
  }
  const ctx: Context = { rng, events, labels: [], measuredFrom, victims, attackId: '', kind: 'stolen-account', calls: 0 };
  let n = 0;
  for (const [kind, count] of Object.entries(ATTACKS_PER_WEEK) as [AttackKind, number][]) {
    for (let i = 0; i < count; i++) {
      ctx.attackId = `atk${String(++n).padStart(2, '0')}-${kind}`;
      ctx.kind = kind;
      ctx.calls = 0;
      PLANNERS[kind](ctx);
    }
  }
  return ctx.labels;
}

const PLANNERS: Record<AttackKind, (ctx: Context) => void> = {
  /** New registration, a short test call to a premium/IRSF number, then waves of concurrent long calls. */
  'stolen-account'(ctx) {
    const { rng } = ctx;
    const account = victim(ctx);
    const entry = pickEntry(rng, 0.6, 0.25);
    const t0 = quietTime(ctx, 12);
    const target = rng.chance(0.5) ? rng.pick(STEMS.highRisk) : rng.pick(Object.values(STEMS.irsf));
    const calls: CallPlan[] = [call(ctx, account, dial(rng, target), t0 + rng.int(1, 40) * MINUTE, rng.int(20, 40))];
    const numbers = Array.from({ length: rng.int(1, 3) }, () => dial(rng, target));
    const concurrent = rng.pick([3, 4, 6, 10]);
    const pumpUntil = calls[0]!.at + rng.int(10, 120) * MINUTE + 6 * HOUR;
    for (let wave = calls[0]!.at + rng.int(10, 120) * MINUTE; wave < pumpUntil;) {
      let last = wave;
      for (let i = 0; i < concurrent; i++) {
        const c = call(ctx, account, rng.pick(numbers), wave + i * rng.int(5, 40) * 1000, rng.int(40, 180) * 60);
        calls.push(c);
        last = Math.max(last, callEnd(c));
      }
      wave = last + rng.int(1, 5) * MINUTE;
    }
    emit(ctx, account, entry, t0, calls);
  },

  /** Under every per-minute limit: one call at a time, every 35-70 min, to a few numbers of one range. */
  'slow-pump'(ctx) {
    const { rng } = ctx;
    const account = victim(ctx);
    const entry = pickEntry(rng, 0, 0.3);
    const t0 = quietTime(ctx, 30);
    const stem = rng.pick(Object.values(STEMS.irsf));
    const numbers = Array.from({ length: 3 }, () => dial(rng, stem));
    const calls: CallPlan[] = [];
    let at = t0 + rng.int(2, 20) * MINUTE;
    for (let i = rng.int(15, 30); i > 0; i--) {
      calls.push(call(ctx, account, rng.pick(numbers), at, rng.int(20, 33) * 60));
      at += rng.int(35, 70) * MINUTE;
    }
    emit(ctx, account, entry, t0, calls);
  },

  /** The same number behind many prefixes until one gets out, then that route pumped. */
  'prefix-guessing'(ctx) {
    const { rng } = ctx;
    const account = victim(ctx);
    const entry = pickEntry(rng, 0.5, 0);
    const t0 = quietTime(ctx, 4);
    const number = dial(rng, rng.pick(Object.values(STEMS.irsf))).slice(2);
    const prefixes = ['0', '000', '011', '9', '90', '900', '9011', '0011', '1', '10', '100', '81', '8100', '2', '*', '+', '0000', '99', '810', '001'];
    const calls: CallPlan[] = [];
    let at = t0 + rng.int(1, 10) * MINUTE;
    for (let i = rng.int(11, 19); i > 0; i--) {
      const prefix = prefixes.splice(rng.int(0, prefixes.length - 1), 1)[0]!;
      calls.push({ ...call(ctx, account, `${prefix}${number}`, at, 0), disposition: 'failed', ringSec: rng.int(0, 1) });
      at += rng.int(2, 8) * 1000;
    }
    calls.push(call(ctx, account, `00${number}`, at, rng.int(20, 60)));
    at += rng.int(5, 30) * MINUTE;
    for (let i = 0; i < 2; i++) calls.push(call(ctx, account, `00${number}`, at + i * rng.int(5, 30) * 1000, rng.int(30, 90) * 60));
    emit(ctx, account, entry, t0, calls);
  },

  /**
   * One-ring calls from a premium/IRSF range to many extensions in the working day; some staff call back.
   * The rings reach the PBX as inbound calls of no account: the events carry the caller only in `raw`.
   */
  'wangiri-callback'(ctx) {
    const { rng } = ctx;
    const day = ctx.measuredFrom + rng.int(0, 4) * DAY;
    const t0 = day + rng.int(9 * 60, 15 * 60) * MINUTE;
    const stem = rng.chance(0.5) ? rng.pick(Object.values(STEMS.irsf)) : rng.pick(STEMS.highRisk);
    const callers = Array.from({ length: 3 }, () => dial(rng, stem));
    for (let i = rng.int(20, 40); i > 0; i--) {
      const caller = rng.pick(callers);
      ctx.events.push({ at: t0 + i * rng.int(3, 20) * 1000, kind: 'call-end', destination: String(rng.int(2001, 2199)), server: 'hep', evidence: 'verified', raw: `inbound ${caller} -> extension, missed after 1 s`, call: { durationSec: 1, billSec: 0, disposition: 'cancel' } });
    }
    for (let i = rng.int(3, 7); i > 0; i--) {
      const account = victim(ctx);
      emit(ctx, account, 'known-address', t0, [call(ctx, account, rng.pick(callers), t0 + rng.int(2, 180) * MINUTE, rng.int(60, 300))]);
    }
  },

  /** Numbers of one range, differing only in the last two digits, dialled one after another. */
  'number-walking'(ctx) {
    const { rng } = ctx;
    const account = victim(ctx);
    const entry = pickEntry(rng, 0.5, 0);
    const t0 = quietTime(ctx, 4);
    const base = dial(rng, rng.pick(Object.values(STEMS.irsf))).slice(0, -2);
    const calls: CallPlan[] = [];
    let at = t0 + rng.int(1, 10) * MINUTE;
    const first = rng.int(0, 99);
    for (let i = 0, n = rng.int(20, 60); i < n; i++) {
      const c = call(ctx, account, `${base}${String((first + i) % 100).padStart(2, '0')}`, at, rng.chance(0.2) ? rng.int(5, 30) : 0);
      if (c.talkSec === 0) Object.assign(c, rng.chance(0.6) ? { disposition: 'no-answer', ringSec: rng.int(5, 30) } : { disposition: 'failed', ringSec: rng.int(0, 2) });
      calls.push(c);
      at = callEnd(c) + rng.int(15, 90) * 1000;
    }
    emit(ctx, account, entry, t0, calls);
  },

  /** One revenue-share number pumped from several stolen accounts at once, each keeping under its own limits. */
  'shared-destination'(ctx) {
    const { rng } = ctx;
    const t0 = quietTime(ctx, 5);
    const number = dial(rng, rng.chance(0.5) ? rng.pick(Object.values(STEMS.irsf)) : rng.pick(STEMS.highRisk));
    const entry = pickEntry(rng, 0.5, 0);
    const ip = attackerAddress(rng, entry);
    for (let i = rng.int(3, 6); i > 0; i--) {
      const account = victim(ctx);
      const start = t0 + rng.int(0, 90) * MINUTE;
      const calls = [call(ctx, account, number, start + rng.int(1, 10) * MINUTE, rng.int(30, 90) * 60)];
      if (rng.chance(0.5)) calls.push(call(ctx, account, number, callEnd(calls[0]!) + rng.int(1, 10) * MINUTE, rng.int(30, 90) * 60));
      emit(ctx, account, entry, start, calls, ip);
    }
  },
};

function victim(ctx: Context): TrafficAccount {
  const account = ctx.victims.shift();
  if (account === undefined) throw new Error('synthetic traffic: more attacked accounts than accounts');
  return account;
}

function pickEntry(rng: Rng, foreign: number, home: number): AttackEntry {
  const u = rng.next();
  return u < foreign ? 'foreign-registration' : u < foreign + home ? 'home-registration' : 'known-address';
}

function attackerAddress(rng: Rng, entry: AttackEntry): string | undefined {
  if (entry === 'known-address') return undefined;
  return entry === 'home-registration' ? `5.152.${rng.int(0, 255)}.${rng.int(1, 254)}` : `${rng.pick(FOREIGN_NETWORKS)}${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

/** A start at night, in the evening or at the weekend, leaving `hours` before the week ends. */
function quietTime(ctx: Context, hours: number): number {
  const { rng } = ctx;
  for (;;) {
    const day = rng.int(0, 6);
    const hour = day >= 5 ? rng.int(0, 23) : rng.pick([0, 1, 2, 3, 4, 19, 20, 21, 22, 23]);
    const at = ctx.measuredFrom + day * DAY + hour * HOUR + rng.int(0, 59) * MINUTE;
    if (at + hours * HOUR < ctx.measuredFrom + 7 * DAY) return at;
  }
}

function call(ctx: Context, account: TrafficAccount, destination: string, at: number, talkSec: number): CallPlan {
  return { account: account.id, destination, at, callId: `${ctx.attackId}-${++ctx.calls}`, disposition: 'answered', ringSec: ctx.rng.int(2, 8), talkSec };
}

/** The attack's events on one account (a new registration, re-registered every 10 min while it lasts) and its label. */
function emit(ctx: Context, account: TrafficAccount, entry: AttackEntry, startsAt: number, calls: CallPlan[], ip = attackerAddress(ctx.rng, entry)): void {
  const endsAt = Math.max(...calls.map(callEnd));
  if (ip !== undefined) for (let at = startsAt; at <= endsAt; at += 10 * MINUTE) ctx.events.push(registration(account.id, ip, at));
  for (const c of calls) ctx.events.push(...callEvents(ip === undefined ? c : { ...c, ip }));
  ctx.labels.push({
    attackId: ctx.attackId, account: account.id, kind: ctx.kind, entry, startsAt,
    fraudStartsAt: Math.min(...calls.map((c) => c.at)), endsAt, callIds: calls.map((c) => c.callId),
  });
}
