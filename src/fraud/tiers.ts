/**
 * Risk tiers of a dialled destination (reference fraud-rules.md): T1 domestic, T2 international to an allowed
 * country, T3 other international, T4 high-risk. T4 wins over everything else, so a premium-rate or hotlisted
 * number in the home country is still T4; every T4 reason found is reported, not only the first.
 */
import { COUNTRIES_BY_CALLING_CODE, type DialledNumber } from './numbers.js';

export type RiskTier = 'T1' | 'T2' | 'T3' | 'T4';

/** Shaped like the `fraud:` config block; `hotlist` is wired to the honeypot's store through `hotlistKey`. */
export interface TierPolicy {
  homeCountry: string;
  /** Countries whose calls are T2 rather than T3. */
  allowedCountries?: readonly string[];
  /** Countries whose calls are always T4, even when allowed. */
  highRiskCountries?: readonly string[];
  /** True for a destination seen in toll-fraud probes. Called with the E.164 form, `+` included. */
  hotlist?: (e164: string) => boolean;
  /**
   * The tier of the home country's premium-rate and shared-cost numbers. T4 by default (fraud-rules.md);
   * T3 where ordinary service numbers are typed premium (libphonenumber files the UK's 084x/087x there).
   */
  domesticPremium?: 'T3' | 'T4';
}

export interface Classification {
  readonly tier: RiskTier;
  /** Short kebab-case words an alert can show: `premium-rate`, `caribbean-nanp`, `country-not-allowed`, … */
  readonly reasons: readonly string[];
}

const HIGH_RISK_TYPES: ReadonlyMap<string, string> = new Map([['PREMIUM_RATE', 'premium-rate'], ['SHARED_COST', 'shared-cost']]);
/** ITU codes for satellite services: 870 Inmarsat, 881 Global Mobile Satellite System (Iridium, Globalstar, …). */
const SATELLITE_CODES = new Set(['870', '881']);
/**
 * The +1 countries rated like domestic calls. Every other +1 country (DO, JM, BS, BB, KY, TT, …; libphonenumber
 * says which) is the classic IRSF trap: it dials like a US number and bills like an international one.
 */
const NANP_DOMESTIC = new Set(['US', 'CA', 'PR', 'VI', 'GU', 'AS', 'MP']);

export function classify(number: DialledNumber, policy: TierPolicy): Classification {
  if (number.kind === 'extension' || number.kind === 'feature-code') return { tier: 'T1', reasons: [number.kind] };
  const country = number.country;
  const highRisk: string[] = [];
  if (!number.valid) highRisk.push('invalid');
  const type = number.type === undefined ? undefined : HIGH_RISK_TYPES.get(number.type);
  if (type !== undefined) highRisk.push(type);
  if (number.callingCode !== undefined && !COUNTRIES_BY_CALLING_CODE.has(number.callingCode)) {
    if (SATELLITE_CODES.has(number.callingCode)) highRisk.push('satellite');
    highRisk.push('non-geographic');
  }
  if (number.callingCode === '1' && country !== undefined && country !== policy.homeCountry && !NANP_DOMESTIC.has(country)) {
    highRisk.push('caribbean-nanp');
  }
  if (country !== undefined && policy.highRiskCountries?.includes(country) === true) highRisk.push('high-risk-country');
  if (number.e164 !== undefined && policy.hotlist?.(number.e164) === true) highRisk.push('hotlist');
  if (policy.domesticPremium === 'T3' && country === policy.homeCountry && highRisk.length > 0 &&
    highRisk.every((r) => r === 'premium-rate' || r === 'shared-cost')) {
    return { tier: 'T3', reasons: highRisk.map((r) => `domestic-${r}`) };
  }
  if (highRisk.length > 0) return { tier: 'T4', reasons: highRisk };
  if (country === policy.homeCountry) return { tier: 'T1', reasons: ['domestic'] };
  if (country !== undefined && policy.allowedCountries?.includes(country) === true) return { tier: 'T2', reasons: ['allowed-country'] };
  return { tier: 'T3', reasons: ['country-not-allowed'] };
}

/**
 * The key the honeypot stores a dialled destination under (`normalizeDialled` in src/honeypot/numbers.ts): the
 * digits after the international prefix, 7 to 15 of them. Undefined where the honeypot would store nothing.
 */
export function hotlistKey(e164: string): string | undefined {
  return /^\+\d{7,15}$/.test(e164) ? e164.slice(1) : undefined;
}
