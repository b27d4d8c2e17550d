import type { Disposition, SecurityEvent } from '../core/event.js';
import type { Geo, GeoInfo } from '../geo/index.js';
import { planAttacks, type AttackLabel } from './traffic-attacks.js';

export type { AttackKind, AttackLabel, AttackEntry } from './traffic-attacks.js';

/**
 * Synthetic PBX traffic for measuring the toll-fraud detector (issue: toll fraud, detection figures): a week
 * (or more) of benign calls and registrations by accounts of several profiles, with labelled attacks mixed in.
 * Seeded and deterministic: the same options give the same events, so figures compare between runs.
 *
 * Time is UTC; the home country is GB, whose clock is UTC in winter (the default week is in November).
 * Destinations are dialled as a UK phone writes them: national `0…` for domestic, `00…` for international.
 */

export type Profile = 'office' | 'sales' | 'call-centre' | 'night' | 'foreign-customers';

export interface TrafficAccount {
  id: string;
  profile: Profile;
  /** Where its phone registers from: the first is its usual address; a second is a mobile or home address. */
  addresses: string[];
  /** A business trip in the measured week (a hotel's address), in days after its start. */
  trip?: { ip: string; fromDay: number; toDay: number };
}

export interface TrafficOptions {
  seed?: number;
  accounts?: number;
  /** Start of the measured period (epoch ms). Default Monday 2026-11-16 00:00 UTC. */
  start?: number;
  /** Length of the measured period, which holds every attack. Default 7. */
  days?: number;
  /** Benign history before `start`, so the detector's 30-day memory is not cold. Default 0. */
  warmupDays?: number;
  /** False: benign traffic only. */
  attacks?: boolean;
}

export interface Traffic {
  /** Sorted by time (stable, so ties keep their generated order). */
  events: SecurityEvent[];
  attacks: AttackLabel[];
  accounts: TrafficAccount[];
  measuredFrom: number;
  until: number;
  /** Countries the benign profiles call as T2: the `fraud.allowedCountries` to configure. */
  allowedCountries: string[];
  /** Country and network of every address the generator uses (the bench passes it to the detector). */
  geo: Geo;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const DEFAULT_START = Date.UTC(2026, 10, 16);
export const ALLOWED_COUNTRIES = ['IE', 'FR', 'DE', 'ES', 'NL', 'US'];

/** A small seeded generator (mulberry32): no Math.random, so a seed names a run. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Exponentially distributed, for call lengths and gaps. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
  poisson(mean: number): number {
    let k = 0;
    for (let p = Math.exp(-mean), s = p, u = this.next(); u > s; k++) s += (p *= mean / (k + 1));
    return k;
  }
  digits(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += String(this.int(0, 9));
    return out;
  }
}

/** Dialled-number stems and how many random digits follow; each checked to classify as its tier (the test). */
export const STEMS = {
  gbFixed: [['0207', 7], ['0208', 7], ['01614', 6], ['01214', 6], ['01134', 6], ['01314', 6], ['01174', 6]],
  gbMobile: [['07712', 6], ['07734', 6], ['07751', 6], ['07801', 6], ['07853', 6], ['07956', 6], ['07971', 6], ['07403', 6]],
  gbFree: [['0800', 7], ['0300', 7], ['0345', 7]],
  /** 084x/087x "service" numbers: libphonenumber types them PREMIUM_RATE, so they are T4. Offices still dial them. */
  gbService: [['0845', 7]],
  allowed: { IE: ['003531', 7], FR: ['00331', 8], DE: ['004930', 8], ES: ['003491', 7], NL: ['003120', 7], US: ['0012125', 6] },
  customers: { IN: ['00912226', 6], ZA: ['002711', 7], AU: ['006129', 7], AE: ['0097143', 6], SG: ['006562', 6] },
  /** International revenue share ranges (T3) and high-risk ones (T4) for the attacks. */
  irsf: { LV: ['0037167', 6], LT: ['0037052', 6], SO: ['0025261', 7], CU: ['00537', 7], TN: ['002167', 7] },
  highRisk: [['0088216', 6], ['0909879', 4], ['001809', 7], ['0018762', 6]],
} as const;

export function dial(rng: Rng, stem: readonly [string, number] | readonly (string | number)[]): string {
  return `${stem[0] as string}${rng.digits(stem[1] as number)}`;
}

/** Address plan: prefix -> country and network. */
const NETWORKS: readonly (readonly [string, GeoInfo])[] = [
  ['81.2.', { country: 'GB', asn: 2856, org: 'BT' }],
  ['86.', { country: 'GB', asn: 5089, org: 'Virgin Media' }],
  ['92.40.', { country: 'GB', asn: 12576, org: 'EE mobile' }],
  ['5.152.', { country: 'GB', asn: 20860, org: 'iomart hosting' }],
  ['90.84.', { country: 'FR', asn: 3215, org: 'Orange' }],
  ['94.200.', { country: 'AE', asn: 5384, org: 'Emirates Telecom' }],
  ['185.220.', { country: 'NL', asn: 60729, org: 'bullet hosting' }],
  ['45.141.', { country: 'RO', asn: 48090, org: 'vps' }],
  ['196.70.', { country: 'MA', asn: 36903, org: 'vps' }],
  ['102.128.', { country: 'NG', asn: 37148, org: 'vps' }],
];

export const trafficGeo: Geo = {
  lookup(ip) {
    for (const [prefix, info] of NETWORKS) if (ip.startsWith(prefix)) return info;
    return {};
  },
};

export interface CallPlan {
  account: string;
  destination: string;
  at: number;
  callId: string;
  disposition: Disposition;
  /** Seconds ringing before the answer or the end. */
  ringSec: number;
  /** Seconds answered (0 unless answered). */
  talkSec: number;
  ip?: string;
}

/** A call as the PBX reports it: start, answer (if answered) and end with its facts. */
export function callEvents(plan: CallPlan): SecurityEvent[] {
  const base: SecurityEvent = {
    at: plan.at, kind: 'call-start', account: plan.account, destination: plan.destination, callId: plan.callId,
    server: 'hep', evidence: 'verified', raw: `${plan.account} -> ${plan.destination}`, ...(plan.ip === undefined ? {} : { ip: plan.ip }),
  };
  const events = [base];
  const answered = plan.disposition === 'answered';
  if (answered) events.push({ ...base, kind: 'call-answer', at: plan.at + plan.ringSec * 1000 });
  const durationSec = plan.ringSec + (answered ? plan.talkSec : 0);
  events.push({
    ...base, kind: 'call-end', at: plan.at + durationSec * 1000,
    call: { durationSec, billSec: answered ? plan.talkSec : 0, disposition: plan.disposition },
  });
  return events;
}

export function registration(account: string, ip: string, at: number): SecurityEvent {
  return { at, kind: 'auth-success', account, ip, server: 'hep', evidence: 'verified', raw: `REGISTER ${account} from ${ip}` };
}

/** The end of a call as planned (ms). */
export function callEnd(plan: CallPlan): number {
  return plan.at + (plan.ringSec + (plan.disposition === 'answered' ? plan.talkSec : 0)) * 1000;
}

/** Seconds of ringing and talking, and how it ended, for a call of mean talk `meanTalkSec`. */
export function outcome(rng: Rng, meanTalkSec: number, answerRate = 0.72): Pick<CallPlan, 'disposition' | 'ringSec' | 'talkSec'> {
  const u = rng.next();
  if (u < answerRate) return { disposition: 'answered', ringSec: rng.int(3, 20), talkSec: Math.min(5400, Math.max(5, Math.round(rng.exp(meanTalkSec)))) };
  const rest = (u - answerRate) / (1 - answerRate);
  if (rest < 0.5) return { disposition: 'no-answer', ringSec: rng.int(20, 45), talkSec: 0 };
  if (rest < 0.8) return { disposition: 'busy', ringSec: rng.int(1, 4), talkSec: 0 };
  return { disposition: 'failed', ringSec: rng.int(0, 2), talkSec: 0 };
}

export function generateTraffic(options: TrafficOptions = {}): Traffic {
  const seed = options.seed ?? 1;
  const measuredFrom = options.start ?? DEFAULT_START;
  const until = measuredFrom + (options.days ?? 7) * DAY;
  const from = measuredFrom - (options.warmupDays ?? 0) * DAY;
  const rng = new Rng(seed);
  const accounts = makeAccounts(rng, options.accounts ?? 200);
  const events: SecurityEvent[] = [];
  let calls = 0;
  const nextId = (): string => `b${seed}-${++calls}`;
  for (const account of accounts) {
    events.push(...registrations(rng, account, from, until, measuredFrom));
    events.push(...benignCalls(rng, account, from, until, nextId));
  }
  const attacks = options.attacks === false ? [] : planAttacks(new Rng(seed ^ 0x9e3779b9), accounts, measuredFrom, events);
  events.sort((a, b) => a.at - b.at);
  return { events, attacks, accounts, measuredFrom, until, allowedCountries: [...ALLOWED_COUNTRIES], geo: trafficGeo };
}

const PROFILE_SHARE: readonly [Profile, number][] = [['office', 0.6], ['sales', 0.2], ['night', 0.08], ['foreign-customers', 0.05]];

function makeAccounts(rng: Rng, n: number): TrafficAccount[] {
  const accounts: TrafficAccount[] = [{ id: 'dialler', profile: 'call-centre', addresses: ['81.2.70.10'] }];
  for (let i = 1; i < n; i++) {
    let u = rng.next();
    let profile: Profile = 'office';
    for (const [p, share] of PROFILE_SHARE) {
      if (u < share) {
        profile = p;
        break;
      }
      u -= share;
    }
    if (u >= 0 && profile === 'office' && rng.next() < 0.07) profile = 'call-centre';
    const id = String(2000 + i);
    // Office staff share the head office NAT address; night staff work from home broadband.
    const usual = profile === 'night' ? `86.${rng.int(1, 250)}.${rng.int(0, 255)}.${rng.int(1, 254)}` : profile === 'call-centre' ? '81.2.70.10' : '81.2.69.160';
    const addresses = [usual];
    if (rng.chance(0.1) || profile === 'sales') addresses.push(`92.40.${rng.int(0, 255)}.${rng.int(1, 254)}`);
    accounts.push({ id, profile, addresses });
  }
  // Two sales staff travel: one to France (an allowed country), one to Dubai (not allowed).
  const sales = accounts.filter((a) => a.profile === 'sales');
  if (sales[0] !== undefined) sales[0].trip = { ip: '90.84.12.7', fromDay: 1, toDay: 3 };
  if (sales[1] !== undefined) sales[1].trip = { ip: '94.200.31.9', fromDay: 2, toDay: 4 };
  return accounts;
}

/**
 * Re-registration about every hour from the usual address; a second address (a softphone on mobile data)
 * some evenings. Two sales staff travel during the measured week: one to France (allowed), one to Dubai.
 */
function registrations(rng: Rng, account: TrafficAccount, from: number, until: number, measuredFrom: number): SecurityEvent[] {
  const out: SecurityEvent[] = [];
  const usual = account.addresses[0]!;
  for (let at = from + rng.int(0, 3_600_000); at < until; at += rng.int(55, 65) * MINUTE) out.push(registration(account.id, usual, at));
  const mobile = account.addresses[1];
  if (mobile !== undefined) {
    for (let day = from; day < until; day += DAY) {
      if (!rng.chance(0.3)) continue;
      for (let at = day + rng.int(18 * 60, 20 * 60) * MINUTE; at < day + 22 * HOUR; at += rng.int(55, 65) * MINUTE) out.push(registration(account.id, mobile, at));
    }
  }
  const trip = account.trip;
  if (trip !== undefined) {
    for (let at = measuredFrom + trip.fromDay * DAY + 7 * HOUR; at < measuredFrom + trip.toDay * DAY; at += 60 * MINUTE) out.push(registration(account.id, trip.ip, at));
  }
  return out;
}

interface DayShape {
  calls: number;
  /** Minutes after midnight (may pass 24 h for a night shift). */
  start: number;
  end: number;
}

function dayShape(rng: Rng, profile: Profile, weekday: number): DayShape | undefined {
  const workday = weekday >= 1 && weekday <= 5;
  switch (profile) {
    case 'office':
      return workday ? { calls: rng.poisson(10), start: 8 * 60 + 30, end: 17 * 60 + 30 } : rng.chance(0.1) ? { calls: rng.int(1, 2), start: 10 * 60, end: 16 * 60 } : undefined;
    case 'sales':
      return workday ? { calls: rng.poisson(18), start: 8 * 60, end: 18 * 60 + 30 } : rng.chance(0.2) ? { calls: rng.int(1, 3), start: 10 * 60, end: 17 * 60 } : undefined;
    case 'foreign-customers':
      return workday ? { calls: rng.poisson(10), start: 7 * 60 + 30, end: 18 * 60 } : undefined;
    case 'night':
      return { calls: rng.poisson(7), start: 20 * 60, end: 31 * 60 };
    case 'call-centre':
      return workday ? { calls: rng.poisson(60), start: 9 * 60, end: 17 * 60 } : undefined;
  }
}

/** Share of calls to allowed countries (T2) and to customers in countries not allowed (T3), per profile. */
const ABROAD_SHARE: Readonly<Record<Profile, readonly [number, number]>> = {
  office: [0.05, 0], sales: [0.4, 0], night: [0.08, 0], 'foreign-customers': [0.1, 0.3], 'call-centre': [0, 0],
};

/** Where a profile calls: a few usual countries per account, and a contact book it dials again and again. */
function destinationPicker(rng: Rng, account: TrafficAccount): () => string {
  const allowed = Object.entries(STEMS.allowed);
  const usualAllowed = account.profile === 'sales' ? allowed : [rng.pick(allowed), rng.pick(allowed)];
  const customers = Object.entries(STEMS.customers);
  const usualCustomers = [rng.pick(customers), rng.pick(customers)];
  const book = Array.from({ length: 25 }, () => dial(rng, rng.chance(0.6) ? rng.pick(STEMS.gbFixed) : rng.pick(STEMS.gbMobile)));
  const abroad = Array.from({ length: 6 }, () => dial(rng, rng.pick(usualAllowed)[1]));
  const customerBook = Array.from({ length: 6 }, () => dial(rng, rng.pick(usualCustomers)[1]));
  const [pAllowed, pCustomers] = ABROAD_SHARE[account.profile];
  return () => {
    const u = rng.next();
    if (u < pCustomers) return rng.chance(0.7) ? rng.pick(customerBook) : dial(rng, rng.pick(usualCustomers)[1]);
    if (u < pCustomers + pAllowed) return rng.chance(0.6) ? rng.pick(abroad) : dial(rng, rng.pick(usualAllowed)[1]);
    if (account.profile === 'call-centre') return dial(rng, rng.chance(0.5) ? rng.pick(STEMS.gbFixed) : rng.pick(STEMS.gbMobile));
    const v = rng.next();
    if (v < 0.002) return dial(rng, rng.pick(STEMS.gbService));
    if (v < 0.05) return dial(rng, rng.pick(STEMS.gbFree));
    return v < 0.7 ? rng.pick(book) : dial(rng, rng.chance(0.5) ? rng.pick(STEMS.gbFixed) : rng.pick(STEMS.gbMobile));
  };
}

/**
 * One phone places one call at a time; the call centre's dialler account places many at once (its channels).
 * International calls last longer than domestic ones.
 */
function benignCalls(rng: Rng, account: TrafficAccount, from: number, until: number, nextId: () => string): SecurityEvent[] {
  const out: SecurityEvent[] = [];
  const destination = destinationPicker(rng, account);
  const channels = account.id === 'dialler' ? 12 : 1;
  for (let day = from; day < until; day += DAY) {
    const weekday = ((new Date(day).getUTCDay() + 6) % 7) + 1;
    for (let channel = 0; channel < channels; channel++) {
      const shape = dayShape(rng, account.profile, weekday);
      if (shape === undefined) continue;
      const starts = Array.from({ length: shape.calls }, () => day + (shape.start + rng.next() * (shape.end - shape.start)) * MINUTE).sort((a, b) => a - b);
      let free = 0;
      for (const wanted of starts) {
        const at = Math.max(Math.round(wanted), free + rng.int(10, 120) * 1000);
        if (at >= until) break;
        const dialled = destination();
        const abroad = dialled.startsWith('00');
        const plan: CallPlan = { account: account.id, destination: dialled, at, callId: nextId(), ...outcome(rng, abroad ? 360 : account.profile === 'call-centre' ? 150 : 200, account.profile === 'call-centre' ? 0.5 : 0.72) };
        free = callEnd(plan);
        out.push(...callEvents(plan));
      }
    }
  }
  return out;
}
