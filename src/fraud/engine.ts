import type { SecurityEvent } from '../core/event.js';
import type { Geo } from '../geo/index.js';
import type { DialledNumber, NumberPlan } from './numbers.js';
import { classify, type Classification, type TierPolicy } from './tiers.js';

/**
 * Per-account toll-fraud rules (reference fraud-rules.md), on the events' own time. It reads call events
 * (`call-start`, `call-answer`, `call-end`) and registrations (`auth-success`) from every source and says, per
 * account, which metric crossed which level. Unlike OpenSIPS fraud_detection: windows roll (no reset at midnight),
 * every call is monitored (no unmatched calls), the duration of a live call is checked while it is up (`tick`),
 * and every exceeded metric is reported, not only the first.
 *
 * Families: A counters (A1 calls per minute, A2 concurrent, A3 consecutive to one number, A4 international per
 * 24 h, A5 live duration), B destination tier, C first call to a country, D registration from a new address or
 * country, E a risky call soon after D, F1 prefix guessing, F2 short or unanswered risky calls, F3 number
 * walking, H one destination from several accounts, X two families at once.
 * Pure and I/O-free; not safe for concurrent use.
 */

export type Severity = 'warning' | 'critical';
export type FraudRule = 'A1' | 'A2' | 'A3' | 'A4' | 'A5' | 'B' | 'C' | 'D' | 'E' | 'F1' | 'F2' | 'F3' | 'H' | 'X';

/** A warning/critical pair; 0 turns a level off. Values are counts, or seconds for A5. */
export interface Levels {
  warning: number;
  critical: number;
}

export interface FraudThresholds {
  /** A1: T3/T4 calls started in the last 60 s. */
  callsPerMinute: Levels;
  /** A2: live T3/T4 calls at once. */
  concurrent: { business: Levels; offHours: Levels };
  /** A3: calls in a row to the same number. */
  consecutive: { business: Levels; offHours: Levels };
  /** A4: international (T2-T4) calls in a rolling 24 h. */
  internationalPerDay: { business: Levels; offHours: Levels };
  /** A5: seconds an answered T3/T4 call has been up. */
  duration: { business: Levels; offHours: Levels };
}

/** fraud-rules.md defaults (OpenSIPS tutorial profile, off-hours columns stricter). */
export const DEFAULT_THRESHOLDS: FraudThresholds = {
  callsPerMinute: { warning: 3, critical: 5 },
  concurrent: { business: { warning: 3, critical: 5 }, offHours: { warning: 3, critical: 4 } },
  consecutive: { business: { warning: 6, critical: 20 }, offHours: { warning: 5, critical: 15 } },
  internationalPerDay: { business: { warning: 16, critical: 35 }, offHours: { warning: 10, critical: 20 } },
  duration: { business: { warning: 7200, critical: 13200 }, offHours: { warning: 4800, critical: 9600 } },
};

export interface BusinessHours {
  /** ISO weekdays (1 Monday .. 7 Sunday) that have business hours. */
  days: readonly number[];
  /** Minutes after local midnight: [start, end). */
  start: number;
  end: number;
  timezone: string;
}

export const DEFAULT_BUSINESS_HOURS: BusinessHours = { days: [1, 2, 3, 4, 5], start: 9 * 60, end: 17 * 60, timezone: 'UTC' };

export interface FraudEngineOptions {
  plan: NumberPlan;
  policy: TierPolicy;
  thresholds?: FraudThresholds;
  businessHours?: BusinessHours;
  geo?: Geo;
  /** C and D: how long a country called or an address seen stays known. Default 30 days. */
  memoryMs?: number;
  /** E: how soon after a new registration a risky call is critical. Default 15 min. */
  afterRegistrationMs?: number;
  /** H: accounts calling one destination inside an hour. Default 3. */
  sharedDestinationAccounts?: number;
  /** Repeats of the same (account, rule, severity) inside this period are not reported again. Default 1 h. */
  repeatMs?: number;
}

export interface Destination {
  raw: string;
  e164?: string;
  country?: string;
  type?: string;
  tier: Classification['tier'];
  reasons: readonly string[];
}

export interface FraudFinding {
  at: number;
  account: string;
  rule: FraudRule;
  severity: Severity;
  /** What was measured, e.g. `calls-per-minute`, and its value against the level that was crossed. */
  metric: string;
  value: number;
  threshold: number;
  /** The window the value was measured over, in ms (0 for a single fact). */
  windowMs: number;
  ip?: string;
  destination?: Destination;
  callIds: string[];
  /** The rule families behind an X escalation. */
  families?: string[];
  detail: string;
}

export interface LiveCall {
  key: string;
  startedAt: number;
  answeredAt?: number;
  destination: Destination;
  callId: string;
  /** Where it can be hung up: the server's channel name and unique id, and the source (sensor) that saw it. */
  channel?: string;
  uniqueId?: string;
  sensor?: string;
  /** A5 levels already reported for this call. */
  reported: Severity | undefined;
}

interface AccountState {
  /** A1: start times of recent T3/T4 calls (last 60 s). */
  riskyStarts: number[];
  /** F1: last 9 digits of a number -> prefix dialled in front of them -> when (last 10 min). */
  prefixes: Map<string, Map<string, number>>;
  /** F2: end times of risky calls unanswered or shorter than 10 s (last 5 min). */
  shortRisky: number[];
  /** F3: recent dialled numbers (E.164) and when, for number walking (last 10 min, at most 50). */
  dialled: { e164: string; at: number }[];
  /** A4: start times of international calls in the last 24 h. */
  international: number[];
  live: Map<string, LiveCall>;
  /** Calls whose end was seen, by key -> when (last ten minutes). */
  ended: Map<string, number>;
  lastNumber?: string;
  consecutive: number;
  /** C: country -> last call time. */
  countries: Map<string, number>;
  /** D: address, network and country -> last registration time. */
  addresses: Map<string, number>;
  networks: Map<string, number>;
  regCountries: Map<string, number>;
  /** E: time of the latest new-registration finding. */
  newRegistrationAt?: number;
  newRegistrationIp?: string;
  /** X: latest warning time per family. */
  /** X: latest warning per family, with the call it was about ('' when about no call). */
  warnings: Map<string, { at: number; call: string }>;
  /** (rule|severity) -> last reported time, for repeat suppression. */
  reported: Map<string, number>;
  lastSeen: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const ESCALATION_MS = 30 * MINUTE;

export class FraudEngine {
  private readonly thresholds: FraudThresholds;
  private readonly hours: BusinessHours;
  private readonly memoryMs: number;
  private readonly afterRegistrationMs: number;
  private readonly sharedAccounts: number;
  private readonly repeatMs: number;
  private readonly accounts = new Map<string, AccountState>();
  /** H: e164 -> account -> last call time (last hour). */
  private readonly byDestination = new Map<string, Map<string, number>>();
  private readonly weekday: Intl.DateTimeFormat;

  constructor(private readonly options: FraudEngineOptions) {
    this.thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
    this.hours = options.businessHours ?? DEFAULT_BUSINESS_HOURS;
    this.memoryMs = options.memoryMs ?? 30 * DAY;
    this.afterRegistrationMs = options.afterRegistrationMs ?? 15 * MINUTE;
    this.sharedAccounts = options.sharedDestinationAccounts ?? 3;
    this.repeatMs = options.repeatMs ?? 60 * MINUTE;
    this.weekday = new Intl.DateTimeFormat('en-GB', { timeZone: this.hours.timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  }

  /** Findings caused by one event (most events cause none). */
  observe(event: SecurityEvent): FraudFinding[] {
    const account = event.account;
    if (account === undefined || account === '') return [];
    const out: FraudFinding[] = [];
    switch (event.kind) {
      case 'auth-success':
        if (event.ip !== undefined) this.registration(account, event.ip, event.at, out);
        break;
      case 'call-start':
        this.callStart(account, event, out);
        break;
      case 'call-answer':
        this.callAnswer(account, event);
        break;
      case 'call-end':
        this.callEnd(account, event, out);
        break;
      default:
        return [];
    }
    return this.escalate(account, out);
  }

  /** A5: the duration of each live answered T3/T4 call, checked at `now` (call every 30 s). */
  tick(now: number): FraudFinding[] {
    const out: FraudFinding[] = [];
    for (const [account, state] of this.accounts) {
      for (const call of state.live.values()) {
        if (call.answeredAt === undefined || !risky(call.destination)) continue;
        const levels = this.profile(now).duration;
        const seconds = Math.floor((now - call.answeredAt) / 1000);
        const severity = level(seconds, levels);
        if (severity === undefined || call.reported === 'critical' || call.reported === severity) continue;
        call.reported = severity;
        out.push(this.finding(account, now, 'A5', severity, 'live-call-seconds', seconds, levels[severity], 0, {
          destination: call.destination, callIds: [call.callId], detail: `a ${call.destination.tier} call up for ${seconds} s`,
        }));
      }
      if (out.length > 0) this.escalate(account, out);
    }
    this.sweep(now);
    return out;
  }

  /**
   * What the rules say of a call not placed yet (the call-authorisation endpoint): its destination, and each
   * reason it would be critical if it started now. Reads the state, never changes it.
   */
  assess(account: string, raw: string, ip: string | undefined, now: number): { destination: Destination; critical: string[]; notes: string[] } {
    const destination = this.destination(raw);
    const critical: string[] = [];
    const notes: string[] = [];
    if (destination.tier === 'T4') critical.push(`high-risk destination (${destination.reasons.join(', ')})`);
    const state = this.accounts.get(account);
    if (!risky(destination) || state === undefined) return { destination, critical, notes };
    const perMinute = state.riskyStarts.filter((at) => at > now - MINUTE).length + 1;
    if (this.thresholds.callsPerMinute.critical > 0 && perMinute >= this.thresholds.callsPerMinute.critical) critical.push(`${perMinute} risky calls in a minute`);
    let concurrent = 1;
    for (const call of state.live.values()) if (risky(call.destination)) concurrent++;
    const levels = this.profile(now).concurrent;
    if (levels.critical > 0 && concurrent >= levels.critical) critical.push(`${concurrent} risky calls at once`);
    if (state.newRegistrationAt !== undefined && now - state.newRegistrationAt <= this.afterRegistrationMs) {
      critical.push(`a ${destination.tier} call ${Math.round((now - state.newRegistrationAt) / 1000)} s after a registration from a new source`);
    }
    if (ip !== undefined && state.addresses.size > 0 && !state.addresses.has(ip)) notes.push(`source ${ip} never registered this account`);
    return { destination, critical, notes };
  }

  /** The account's live T3/T4 calls (to hang up when its incident turns critical). */
  liveRiskyCalls(account: string): LiveCall[] {
    const state = this.accounts.get(account);
    if (state === undefined) return [];
    return [...state.live.values()].filter((call) => risky(call.destination));
  }

  /** Accounts with state (for metrics and memory tests). */
  get trackedAccounts(): number {
    return this.accounts.size;
  }

  private state(account: string, at: number): AccountState {
    let state = this.accounts.get(account);
    if (state === undefined) {
      state = {
        riskyStarts: [], prefixes: new Map(), shortRisky: [], dialled: [], international: [], live: new Map(), ended: new Map(), consecutive: 0, countries: new Map(), addresses: new Map(),
        networks: new Map(), regCountries: new Map(), warnings: new Map(), reported: new Map(), lastSeen: at,
      };
      this.accounts.set(account, state);
    }
    if (at > state.lastSeen) state.lastSeen = at;
    return state;
  }

  private registration(account: string, ip: string, at: number, out: FraudFinding[]): void {
    const state = this.state(account, at);
    const first = state.addresses.size === 0;
    const geo = this.options.geo?.lookup(ip);
    const news: string[] = [];
    if (!known(state.addresses, ip, at, this.memoryMs)) news.push(`address ${ip}`);
    const network = geo?.asn === undefined ? undefined : `AS${geo.asn}`;
    if (network !== undefined && !known(state.networks, network, at, this.memoryMs)) news.push(`network ${network}`);
    const country = geo?.country;
    if (country !== undefined && !known(state.regCountries, country, at, this.memoryMs)) news.push(`country ${country}`);
    state.addresses.set(ip, at);
    if (network !== undefined) state.networks.set(network, at);
    if (country !== undefined) state.regCountries.set(country, at);
    // The first registration ever seen teaches; it is not news (nothing to compare with).
    if (first || news.length === 0) return;
    state.newRegistrationAt = at;
    state.newRegistrationIp = ip;
    const foreign = country !== undefined && country !== this.options.policy.homeCountry && !(this.options.policy.allowedCountries ?? []).includes(country);
    out.push(this.finding(account, at, 'D', foreign ? 'critical' : 'warning', 'new-registration-source', news.length, 1, this.memoryMs, {
      ip, callIds: [], detail: `registered from a new ${news.join(', ')}${foreign ? ' in a country not allowed' : ''}`,
    }));
  }

  private callStart(account: string, event: SecurityEvent, out: FraudFinding[]): void {
    const at = event.at;
    const state = this.state(account, at);
    const destination = this.destination(event.destination ?? '');
    const callId = event.callId ?? event.call?.uniqueId ?? `${account}@${at}`;
    const key = callKey(event) ?? callId;
    const existing = state.live.get(key);
    // The same call seen again (a retry with credentials, a second source) is one call; the same channel
    // dialling another number (no answer from the first) is a new attempt, judged on its own.
    if (existing !== undefined && existing.destination.raw === destination.raw) return;
    const live: LiveCall = { key, startedAt: at, destination, callId, reported: undefined };
    if (event.call?.channel !== undefined) live.channel = event.call.channel;
    if (event.call?.uniqueId !== undefined) live.uniqueId = event.call.uniqueId;
    if (event.sensor !== undefined) live.sensor = event.sensor;
    state.live.set(key, live);
    const profile = this.profile(at);
    const extra = { destination, callIds: [callId], ...(event.ip === undefined ? {} : { ip: event.ip }) };

    // B: the destination itself.
    if (destination.tier === 'T3') out.push(this.finding(account, at, 'B', 'warning', 'destination-tier', 3, 3, 0, { ...extra, detail: `a call to ${label(destination)}` }));
    if (destination.tier === 'T4') out.push(this.finding(account, at, 'B', 'critical', 'destination-tier', 4, 4, 0, { ...extra, detail: `a call to ${label(destination)}: ${destination.reasons.join(', ')}` }));

    // E: a risky call soon after a registration from a new source.
    if (risky(destination) && state.newRegistrationAt !== undefined && at - state.newRegistrationAt <= this.afterRegistrationMs) {
      out.push(this.finding(account, at, 'E', 'critical', 'minutes-after-new-registration', Math.round((at - state.newRegistrationAt) / MINUTE), Math.round(this.afterRegistrationMs / MINUTE), this.afterRegistrationMs, {
        ...extra, ...(state.newRegistrationIp === undefined ? {} : { ip: state.newRegistrationIp }),
        detail: `a ${destination.tier} call ${Math.round((at - state.newRegistrationAt) / 1000)} s after a registration from a new source`,
      }));
    }

    // C: first call to a country in the memory period.
    if (destination.country !== undefined && destination.country !== this.options.policy.homeCountry) {
      const seen = known(state.countries, destination.country, at, this.memoryMs);
      const firstEver = state.countries.size === 0;
      state.countries.set(destination.country, at);
      if (!seen && !firstEver) out.push(this.finding(account, at, 'C', 'warning', 'new-country', 1, 1, this.memoryMs, { ...extra, detail: `the first call to ${destination.country} in ${Math.round(this.memoryMs / DAY)} days` }));
    }

    // A1: risky calls per minute.
    if (risky(destination)) {
      prune(state.riskyStarts, at - MINUTE);
      state.riskyStarts.push(at);
      this.count(out, account, at, 'A1', 'calls-per-minute', state.riskyStarts.length, this.thresholds.callsPerMinute, MINUTE, extra);
      // A2: live risky calls at once.
      let concurrent = 0;
      for (const call of state.live.values()) if (risky(call.destination)) concurrent++;
      this.count(out, account, at, 'A2', 'concurrent-calls', concurrent, profile.concurrent, 0, extra);
    }

    // A4: international calls in a rolling 24 h.
    if (destination.tier !== 'T1') {
      prune(state.international, at - DAY);
      state.international.push(at);
      this.count(out, account, at, 'A4', 'international-calls-24h', state.international.length, profile.internationalPerDay, DAY, extra);
    }

    // A3: calls in a row to the same number.
    const number = destination.e164 ?? destination.raw;
    state.consecutive = state.lastNumber === number ? state.consecutive + 1 : 1;
    state.lastNumber = number;
    if (destination.tier !== 'T1') this.count(out, account, at, 'A3', 'consecutive-calls', state.consecutive, profile.consecutive, 0, extra);

    this.prefixGuessing(state, account, at, destination, extra, out);
    this.numberWalking(state, account, at, destination, extra, out);

    // H: one destination from several accounts in an hour.
    if (destination.e164 !== undefined && destination.tier !== 'T1') {
      let callers = this.byDestination.get(destination.e164);
      if (callers === undefined) this.byDestination.set(destination.e164, (callers = new Map()));
      callers.set(account, at);
      for (const [other, last] of callers) if (at - last > 60 * MINUTE) callers.delete(other);
      if (callers.size >= this.sharedAccounts) {
        out.push(this.finding(account, at, 'H', 'warning', 'accounts-calling-destination', callers.size, this.sharedAccounts, 60 * MINUTE, {
          ...extra, detail: `${callers.size} accounts called ${destination.e164} within an hour: ${[...callers.keys()].slice(0, 5).join(', ')}`,
        }));
      }
    }
  }

  private callAnswer(account: string, event: SecurityEvent): void {
    const state = this.state(account, event.at);
    const call = this.liveCall(state, event);
    if (call !== undefined && call.answeredAt === undefined) call.answeredAt = event.at;
  }

  private callEnd(account: string, event: SecurityEvent, out: FraudFinding[]): void {
    const state = this.state(account, event.at);
    const call = this.liveCall(state, event);
    const key = callKey(event);
    if (call !== undefined) {
      state.live.delete(call.key);
      this.ended(state, call.key, event.at);
      const billSec = event.call?.billSec ?? (call.answeredAt === undefined ? 0 : Math.round((event.at - call.answeredAt) / 1000));
      this.shortCall(state, account, event.at, call.destination, billSec, call.callId, out);
      return;
    }
    // Its end already seen (AMI Hangup, then the CDR of the same call): one call, not two.
    if (key !== undefined && state.ended.has(key)) return;
    // A call seen only at its end (a CDR): its start and, if it was answered, its length are in the facts.
    const durationSec = event.call?.durationSec;
    if (durationSec === undefined) return;
    const startedAt = event.at - durationSec * 1000;
    const before = out.length;
    this.callStart(account, { ...event, kind: 'call-start', at: startedAt }, out);
    // Counted at its start, reported when it became known: a CDR comes at hangup, hours after the call began.
    for (let i = before; i < out.length; i++) out[i]!.at = event.at;
    const billSec = event.call?.billSec ?? 0;
    const destination = this.destination(event.destination ?? '');
    const liveKey = key ?? `${account}@${startedAt}`;
    state.live.delete(liveKey);
    this.ended(state, liveKey, event.at);
    this.shortCall(state, account, event.at, destination, billSec, event.callId ?? event.call?.uniqueId ?? liveKey, out);
    if (billSec > 0 && risky(destination)) {
      const levels = this.profile(event.at).duration;
      const severity = level(billSec, levels);
      if (severity !== undefined) {
        out.push(this.finding(account, event.at, 'A5', severity, 'call-seconds', billSec, levels[severity], 0, {
          destination, callIds: [event.callId ?? event.call?.uniqueId ?? liveKey], detail: `a ${destination.tier} call lasted ${billSec} s`,
        }));
      }
    }
  }

  /**
   * F1, prefix guessing: the same number (its last nine digits) dialled behind many different prefixes (`00`,
   * `011`, `9011`, `+`, `0+`, ...) within 10 min: someone is looking for the prefix that reaches an outside line.
   * Three prefixes are a warning (people write `+44` and `0044`), eleven critical (CESNET's default: more than ten).
   */
  private prefixGuessing(state: AccountState, account: string, at: number, destination: Destination, extra: { destination: Destination; callIds: string[]; ip?: string }, out: FraudFinding[]): void {
    const digits = destination.raw.replace(/[^0-9+]/g, '');
    if (digits.replace(/\D/g, '').length < 9) return;
    const tail = digits.slice(-9);
    const prefix = digits.slice(0, -9);
    if (prefix.length > 10) return;
    let seen = state.prefixes.get(tail);
    if (seen === undefined) {
      if (state.prefixes.size >= 200) state.prefixes.clear();
      state.prefixes.set(tail, (seen = new Map()));
    }
    seen.set(prefix, at);
    for (const [p, when] of seen) if (at - when > 10 * MINUTE) seen.delete(p);
    const severity = level(seen.size, { warning: 3, critical: 11 });
    if (severity === undefined) return;
    out.push(this.finding(account, at, 'F1', severity, 'prefixes-for-one-number', seen.size, severity === 'critical' ? 11 : 3, 10 * MINUTE, {
      ...extra, detail: `${seen.size} prefixes dialled in front of …${tail} within 10 min: ${[...seen.keys()].slice(0, 12).map((p) => p || '(none)').join(' ')}`,
    }));
  }

  /** F3, number walking: five numbers differing only in their last two digits within 10 min. */
  private numberWalking(state: AccountState, account: string, at: number, destination: Destination, extra: { destination: Destination; callIds: string[]; ip?: string }, out: FraudFinding[]): void {
    const e164 = destination.e164;
    if (e164 === undefined || destination.tier === 'T1' || e164.length < 8) return;
    state.dialled = state.dialled.filter((d) => at - d.at <= 10 * MINUTE).slice(-49);
    state.dialled.push({ e164, at });
    const stem = e164.slice(0, -2);
    const walked = new Set(state.dialled.filter((d) => d.e164.slice(0, -2) === stem).map((d) => d.e164));
    if (walked.size < 5) return;
    out.push(this.finding(account, at, 'F3', 'warning', 'numbers-walked', walked.size, 5, 10 * MINUTE, {
      ...extra, detail: `${walked.size} numbers ${stem}xx dialled within 10 min`,
    }));
  }

  /** F2: five risky calls unanswered or shorter than 10 s within 5 min (test calls, ineffective attempts). */
  private shortCall(state: AccountState, account: string, at: number, destination: Destination, billSec: number, callId: string, out: FraudFinding[]): void {
    if (!risky(destination) || billSec >= 10) return;
    prune(state.shortRisky, at - 5 * MINUTE);
    state.shortRisky.push(at);
    if (state.shortRisky.length < 5) return;
    out.push(this.finding(account, at, 'F2', 'warning', 'short-or-unanswered-risky-calls', state.shortRisky.length, 5, 5 * MINUTE, {
      destination, callIds: [callId], detail: `${state.shortRisky.length} ${destination.tier === 'T4' ? 'high-risk' : 'international'} calls unanswered or under 10 s within 5 min`,
    }));
  }

  /** Remembers an ended call for ten minutes (bounded), so a second report of its end is not a second call. */
  private ended(state: AccountState, key: string, at: number): void {
    state.ended.set(key, at);
    if (state.ended.size > 1000) {
      for (const [old, when] of state.ended) if (at - when > 10 * MINUTE || state.ended.size > 1000) state.ended.delete(old);
    }
  }

  private liveCall(state: AccountState, event: SecurityEvent): LiveCall | undefined {
    const key = callKey(event);
    if (key !== undefined) return state.live.get(key);
    return undefined;
  }

  private count(
    out: FraudFinding[], account: string, at: number, rule: FraudRule, metric: string, value: number, levels: Levels, windowMs: number,
    extra: { destination: Destination; callIds: string[]; ip?: string },
  ): void {
    const severity = level(value, levels);
    if (severity === undefined) return;
    out.push(this.finding(account, at, rule, severity, metric, value, levels[severity], windowMs, { ...extra, detail: `${metric} ${value} >= ${levels[severity]}` }));
  }

  private finding(
    account: string, at: number, rule: FraudRule, severity: Severity, metric: string, value: number, threshold: number, windowMs: number,
    extra: { destination?: Destination; callIds: string[]; ip?: string; detail: string; families?: string[] },
  ): FraudFinding {
    const finding: FraudFinding = { at, account, rule, severity, metric, value, threshold, windowMs, callIds: extra.callIds, detail: extra.detail };
    if (extra.destination !== undefined) finding.destination = extra.destination;
    if (extra.ip !== undefined) finding.ip = extra.ip;
    if (extra.families !== undefined) finding.families = extra.families;
    return finding;
  }

  /**
   * Repeat suppression, then X: two warnings from different families inside 30 min make a critical finding.
   */
  private escalate(account: string, found: FraudFinding[]): FraudFinding[] {
    if (found.length === 0) return found;
    const state = this.accounts.get(account);
    if (state === undefined) return found;
    const out: FraudFinding[] = [];
    for (const finding of found) {
      if (finding.account !== account) continue;
      const key = `${finding.rule}|${finding.severity}`;
      const last = state.reported.get(key);
      // Criticals of the live-call and per-call rules always pass: each names its own call.
      const perCall = finding.rule === 'A5' || finding.rule === 'B' || finding.rule === 'E';
      if (!perCall && last !== undefined && finding.at - last < this.repeatMs) continue;
      state.reported.set(key, finding.at);
      out.push(finding);
      if (finding.severity !== 'warning') continue;
      const family = finding.rule.slice(0, 1);
      // B and C judge one call; the other families judge a pattern over many, whatever call completed it.
      const perCallFact = finding.rule === 'B' || finding.rule === 'C';
      state.warnings.set(family, { at: finding.at, call: perCallFact ? (finding.callIds[0] ?? '') : '' });
      const inWindow = [...state.warnings].filter(([, w]) => finding.at - w.at <= ESCALATION_MS);
      const recent = inWindow.map(([f]) => f);
      // Two families about one and the same call (a first call to a T3 country is both B and C) are one fact,
      // not two signals: escalation needs warnings about at least two different calls (or about no call).
      const calls = new Set(inWindow.map(([f, w]) => w.call || `none:${f}`));
      const lastX = state.reported.get('X|critical');
      if (recent.length >= 2 && calls.size >= 2 && (lastX === undefined || finding.at - lastX >= this.repeatMs)) {
        state.reported.set('X|critical', finding.at);
        out.push(this.finding(account, finding.at, 'X', 'critical', 'warning-families', recent.length, 2, ESCALATION_MS, {
          callIds: finding.callIds, families: recent.sort(), detail: `warnings from families ${recent.sort().join(', ')} within 30 min`,
          ...(finding.destination === undefined ? {} : { destination: finding.destination }),
          ...(finding.ip === undefined ? {} : { ip: finding.ip }),
        }));
      }
    }
    return out;
  }

  /** A dialled string as the rules see it: E.164, country, type, tier and why. */
  describe(raw: string): Destination {
    return this.destination(raw);
  }

  private destination(raw: string): Destination {
    const number: DialledNumber = this.options.plan.normalize(raw);
    const { tier, reasons } = classify(number, this.options.policy);
    const destination: Destination = { raw: number.raw, tier, reasons };
    if (number.e164 !== undefined) destination.e164 = number.e164;
    if (number.country !== undefined) destination.country = number.country;
    if (number.type !== undefined) destination.type = number.type;
    return destination;
  }

  /** The business or off-hours column of each profile-dependent metric, at `at` in the business time zone. */
  private profile(at: number): { concurrent: Levels; consecutive: Levels; internationalPerDay: Levels; duration: Levels } {
    const column = this.isBusinessHours(at) ? 'business' : 'offHours';
    const t = this.thresholds;
    return { concurrent: t.concurrent[column], consecutive: t.consecutive[column], internationalPerDay: t.internationalPerDay[column], duration: t.duration[column] };
  }

  isBusinessHours(at: number): boolean {
    const parts = this.weekday.formatToParts(new Date(at));
    const day = WEEKDAYS.indexOf(parts.find((p) => p.type === 'weekday')?.value ?? '') + 1;
    const minutes = Number(parts.find((p) => p.type === 'hour')?.value ?? 0) * 60 + Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
    return this.hours.days.includes(day) && minutes >= this.hours.start && minutes < this.hours.end;
  }

  /** Forgets accounts silent for the memory period and live calls older than a day (their end was never seen). */
  private sweep(now: number): void {
    for (const [account, state] of this.accounts) {
      if (now - state.lastSeen > this.memoryMs) {
        this.accounts.delete(account);
        continue;
      }
      for (const [key, call] of state.live) if (now - call.startedAt > DAY) state.live.delete(key);
    }
    for (const [e164, callers] of this.byDestination) {
      for (const [account, at] of callers) if (now - at > 60 * MINUTE) callers.delete(account);
      if (callers.size === 0) this.byDestination.delete(e164);
    }
  }
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function risky(destination: Destination): boolean {
  return destination.tier === 'T3' || destination.tier === 'T4';
}

function level(value: number, levels: Levels): Severity | undefined {
  if (levels.critical > 0 && value >= levels.critical) return 'critical';
  if (levels.warning > 0 && value >= levels.warning) return 'warning';
  return undefined;
}

/** True if `key` was seen inside the memory period before `at`. */
function known(map: Map<string, number>, key: string, at: number, memoryMs: number): boolean {
  const last = map.get(key);
  return last !== undefined && at - last <= memoryMs;
}

function prune(times: number[], before: number): void {
  let drop = 0;
  while (drop < times.length && times[drop]! <= before) drop++;
  if (drop > 0) times.splice(0, drop);
}

/** One call's key across its events: the server's unique id, else its Call-ID. */
function callKey(event: SecurityEvent): string | undefined {
  return event.call?.uniqueId ?? event.callId;
}

function label(destination: Destination): string {
  return `${destination.e164 ?? destination.raw}${destination.country ? ` (${destination.country})` : ''}`;
}
