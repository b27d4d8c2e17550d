import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSipwardenError } from '../core/errors.js';
import { normalizeDialled } from '../honeypot/numbers.js';
import { BoundedCache } from './bounded-cache.js';
import { createNumberPlan, RAW_LIMIT, type DialledNumber, type NumberPlan } from './numbers.js';
import { classify, hotlistKey, type TierPolicy } from './tiers.js';

const US = createNumberPlan({ homeCountry: 'US', outsideLine: ['9'] });
const GB = createNumberPlan({ homeCountry: 'GB', outsideLine: ['9'] });
const DE = createNumberPlan({ homeCountry: 'DE', outsideLine: ['9'] });
const KINDS = new Set(['number', 'extension', 'feature-code', 'invalid']);

function policyFor(plan: NumberPlan, extra: Partial<TierPolicy> = {}): TierPolicy {
  return { homeCountry: plan.homeCountry, allowedCountries: [plan.homeCountry], ...extra };
}

/** [plan, dialled, e164, country, tier]: one row per way a PBX or a probe writes the destination. */
const SAME_NUMBER: Array<[NumberPlan, string, string, string, string]> = [
  [US, '011 44 20 7946 0000', '+442079460000', 'GB', 'T3'],
  [US, '00 44 20 7946 0000', '+442079460000', 'GB', 'T3'],
  [US, '000442079460000', '+442079460000', 'GB', 'T3'],
  [US, '9 011 44 20 7946 0000', '+442079460000', 'GB', 'T3'],
  [US, '9 00 44 20 7946 0000', '+442079460000', 'GB', 'T3'],
  [US, '+44 (20) 7946-0000', '+442079460000', 'GB', 'T3'],
  [US, '++442079460000', '+442079460000', 'GB', 'T3'],
  [US, '0+442079460000', '+442079460000', 'GB', 'T3'],
  [US, '9011+442079460000', '+442079460000', 'GB', 'T3'],
  [US, '%2B442079460000', '+442079460000', 'GB', 'T3'],
  [US, '+44.20.7946.0000;phone-context=example.com', '+442079460000', 'GB', 'T3'],
  [US, '442079460000', '+442079460000', 'GB', 'T3'],
  [US, '(212) 555-1234', '+12125551234', 'US', 'T1'],
  [US, '1-212-555-1234', '+12125551234', 'US', 'T1'],
  [US, '9 1 212 555 1234', '+12125551234', 'US', 'T1'],
  [US, '9 212 555 1234', '+12125551234', 'US', 'T1'],
  [US, '+1 212 555 1234', '+12125551234', 'US', 'T1'],
  // 949 is an area code: stripping the outside-line 9 would leave no valid number, so it stays.
  [US, '949 612 3456', '+19496123456', 'US', 'T1'],
  [GB, '020 7946 0000', '+442079460000', 'GB', 'T1'],
  [GB, '0 20 7946 0000', '+442079460000', 'GB', 'T1'],
  [GB, '20 7946 0000', '+442079460000', 'GB', 'T1'],
  [GB, '9 020 7946 0000', '+442079460000', 'GB', 'T1'],
  [GB, '0044 20 7946 0000', '+442079460000', 'GB', 'T1'],
  [GB, '+442079460000', '+442079460000', 'GB', 'T1'],
  [GB, '00 1 212 555 1234', '+12125551234', 'US', 'T3'],
  [GB, '011 1 212 555 1234', '+12125551234', 'US', 'T3'],
  [GB, '9 00 1 212 555 1234', '+12125551234', 'US', 'T3'],
  [DE, '030 1234567', '+49301234567', 'DE', 'T1'],
  [DE, '9 030 1234567', '+49301234567', 'DE', 'T1'],
  [DE, '0049 30 1234567', '+49301234567', 'DE', 'T1'],
  [DE, '00 44 20 7946 0000', '+442079460000', 'GB', 'T3'],
  [DE, '9 00 44 20 7946 0000', '+442079460000', 'GB', 'T3'],
];

describe('number plan: dialled strings to E.164', () => {
  it('reads every prefix form of one destination as the same number, from a US, a GB and a DE home', () => {
    for (const [plan, dialled, e164, country, tier] of SAME_NUMBER) {
      const label = `${plan.homeCountry} ${dialled}`;
      const number = plan.normalize(dialled);
      assert.equal(number.kind, 'number', label);
      assert.equal(number.e164, e164, label);
      assert.equal(number.country, country, label);
      assert.equal(number.valid, true, label);
      assert.equal(number.international, country !== plan.homeCountry, label);
      assert.equal(number.raw, dialled, label);
      assert.equal(classify(number, policyFor(plan)).tier, tier, label);
    }
  });

  it('matches the reference facts: +1900 premium rate, +1809 DO, +882 non-geographic, short +20 invalid', () => {
    const facts: Array<[string, Record<string, unknown>]> = [
      ['+19005551234', { country: 'US', callingCode: '1', type: 'PREMIUM_RATE', valid: true, international: false }],
      ['+18095551234', { country: 'DO', callingCode: '1', valid: true, international: true }],
      ['+88216123456', { country: undefined, callingCode: '882', type: 'VOIP', valid: true, international: true }],
      ['+201234', { country: 'EG', callingCode: '20', type: undefined, valid: false, international: true }],
    ];
    for (const [dialled, expected] of facts) {
      const number = US.normalize(dialled);
      for (const [key, value] of Object.entries(expected)) assert.equal(number[key as keyof DialledNumber], value, `${dialled} ${key}`);
    }
  });

  it('reads short digit strings as extensions and star/hash strings as feature codes, never as international', () => {
    const rows: Array<[string, string]> = [
      ['100', 'extension'], ['2001', 'extension'], ['123456', 'extension'], ['9', 'extension'], ['011', 'extension'],
      ['*72', 'feature-code'], ['*97', 'feature-code'], ['#21#', 'feature-code'], ['**21*100#', 'feature-code'], ['*72 011 44', 'feature-code'],
    ];
    for (const [dialled, kind] of rows) {
      const number = US.normalize(dialled);
      assert.equal(number.kind, kind, dialled);
      assert.equal(number.international, false, dialled);
      assert.equal(number.e164, undefined, dialled);
    }
    assert.equal(createNumberPlan({ homeCountry: 'US', extensionDigits: 3 }).normalize('2001').kind, 'number');
  });

  it('refuses garbage as invalid without throwing', () => {
    for (const dialled of ['', ' ', 'admin', 'alice', '12ab34567', '+', '++', '+0123456789', '%zz', '44+20', '1+2+3', '\u0000',
      '٠١٢٣٤٥٦٧٨٩', '9'.repeat(30), '1'.repeat(RAW_LIMIT + 1), 'tel:+44;x']) {
      const number = US.normalize(dialled);
      assert.equal(number.kind, 'invalid', JSON.stringify(dialled));
      assert.equal(number.valid, false);
      assert.deepEqual(classify(number, policyFor(US)), { tier: 'T4', reasons: ['invalid'] });
    }
  });

  it('never throws and always answers with a kind, whatever the user part (fast-check)', () => {
    const dialChars = fc.constantFrom(...'0123456789+*#-.() %;=abx'.split(''));
    const dialString = fc.oneof(fc.string({ unit: dialChars, maxLength: 40 }), fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 30 }));
    const plans = [US, GB, DE, createNumberPlan({ homeCountry: 'AU', cacheSize: 0 })];
    fc.assert(fc.property(dialString, fc.constantFrom(...plans), (dialled, plan) => {
      const number = plan.normalize(dialled);
      assert.ok(KINDS.has(number.kind));
      assert.equal(number.raw, dialled);
      if (number.valid) assert.equal(number.kind, 'number');
      if (number.kind === 'number') assert.match(number.e164 ?? '', /^\+\d{2,}$/);
      else assert.equal(number.international, false);
      assert.ok(['T1', 'T2', 'T3', 'T4'].includes(classify(number, policyFor(plan)).tier));
    }), { numRuns: 2000 });
  });

  it('refuses a configuration it cannot use at start-up, naming the path and the value', () => {
    const bad: Array<[Parameters<typeof createNumberPlan>[0], RegExp]> = [
      [{ homeCountry: 'XX' }, /fraud\.homeCountry: "XX"/],
      [{ homeCountry: 'US', outsideLine: ['9a'] }, /fraud\.outsideLine: "9a"/],
      [{ homeCountry: 'US', internationalPrefixes: [''] }, /fraud\.internationalPrefixes: ""/],
      [{ homeCountry: 'US', extensionDigits: -1 }, /fraud\.extensionDigits: -1/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => createNumberPlan(options), (error) => isSipwardenError(error, 'SW_ERR_CONFIG') && message.test(error.message));
    }
    assert.equal(createNumberPlan({ homeCountry: 'gb' }).homeCountry, 'GB');
  });

  it('uses the home country\'s own IDD from libphonenumber, and only the configured prefixes when given', () => {
    const au = createNumberPlan({ homeCountry: 'AU' });
    assert.equal(au.normalize('0011 44 20 7946 0000').e164, '+442079460000');
    assert.equal(au.normalize('02 9876 5432').e164, '+61298765432');
    const jp = createNumberPlan({ homeCountry: 'JP' });
    assert.equal(jp.normalize('010 44 20 7946 0000').e164, '+442079460000');
    const russianStyle = createNumberPlan({ homeCountry: 'US', internationalPrefixes: ['810'] });
    assert.equal(russianStyle.normalize('810 44 20 7946 0000').e164, '+442079460000');
    assert.notEqual(US.normalize('810 44 20 7946 0000').e164, '+442079460000');
    // An unlisted `00` still reaches GB through the last reading (zeros dropped, E.164 without `+`), as probes dial it.
    assert.equal(russianStyle.normalize('00 44 20 7946 0000').e164, '+442079460000');
  });
});

describe('risk tiers', () => {
  const hotlisted = new Set(['442079460001']);
  const policy: TierPolicy = {
    homeCountry: 'US', allowedCountries: ['US', 'CA', 'GB', 'CU'], highRiskCountries: ['CU'],
    hotlist: (e164) => hotlisted.has(hotlistKey(e164) ?? ''),
  };
  const rows: Array<[string, string, string[]]> = [
    ['212 555 1234', 'T1', ['domestic']],
    ['100', 'T1', ['extension']],
    ['*72', 'T1', ['feature-code']],
    ['011 44 20 7946 0000', 'T2', ['allowed-country']],
    ['+1 416 555 0123', 'T2', ['allowed-country']],
    ['011 49 30 1234567', 'T3', ['country-not-allowed']],
    ['+1 900 555 1234', 'T4', ['premium-rate']],
    ['011 44 845 464 0000', 'T4', ['premium-rate']],
    ['011 33 810 12 34 56', 'T4', ['shared-cost']],
    ['+881 6 123 456 789', 'T4', ['satellite', 'non-geographic']],
    ['+870 772 001 799', 'T4', ['satellite', 'non-geographic']],
    ['+882 16 123 456', 'T4', ['non-geographic']],
    ['1 809 555 1234', 'T4', ['caribbean-nanp']],
    ['+1 876 234 5678', 'T4', ['caribbean-nanp']],
    ['+1 441 295 1234', 'T4', ['caribbean-nanp']],
    ['011 53 5 812 3456', 'T4', ['high-risk-country']],
    ['011 44 20 7946 0001', 'T4', ['hotlist']],
    ['+201234', 'T4', ['invalid']],
    ['+882 123 456 789', 'T4', ['invalid', 'non-geographic']],
    ['alice', 'T4', ['invalid']],
  ];

  it('gives each reason its tier, and every T4 reason found', () => {
    for (const [dialled, tier, reasons] of rows) {
      assert.deepEqual(classify(US.normalize(dialled), policy), { tier, reasons }, dialled);
    }
  });

  it('keeps the home country domestic even inside +1, and premium rate high-risk even at home', () => {
    const dominican = createNumberPlan({ homeCountry: 'DO' });
    assert.deepEqual(classify(dominican.normalize('809 555 1234'), { homeCountry: 'DO' }), { tier: 'T1', reasons: ['domestic'] });
    assert.deepEqual(classify(dominican.normalize('1 876 234 5678'), { homeCountry: 'DO' }).reasons, ['caribbean-nanp']);
    assert.deepEqual(classify(GB.normalize('0909 879 0000'), policyFor(GB)), { tier: 'T4', reasons: ['premium-rate'] });
    // Where the home country's service numbers are typed premium (UK 084x), the operator can make them T3.
    assert.deepEqual(classify(GB.normalize('0845 123 4567'), policyFor(GB, { domesticPremium: 'T3' })), { tier: 'T3', reasons: ['domestic-premium-rate'] });
    assert.deepEqual(classify(US.normalize('011 44 845 123 4567'), policyFor(US, { domesticPremium: 'T3' })).tier, 'T4', 'abroad it stays T4');
  });
});

describe('hotlist keys agree with the honeypot', () => {
  it('folds what probes dial to the key the honeypot stores (src/honeypot/numbers.ts)', () => {
    const variants = ['00972598285108', '000972598285108', '011972598285108', '9011972598285108',
      '+972598285108', '++972598285108', '0+972598285108', '9011+972598285108', '%2B972598285108', '+972-59-828-5108',
      '+972 (59) 828.5108', '+4420794601234;phone-context=example.com', '011448708752617', '+18095551234'];
    for (const plan of [US, GB, DE]) {
      for (const dialled of variants) {
        const e164 = plan.normalize(dialled).e164;
        assert.ok(e164 !== undefined, `${plan.homeCountry} ${dialled}`);
        assert.equal(hotlistKey(e164), normalizeDialled(dialled), `${plan.homeCountry} ${dialled}`);
      }
    }
    // Bare digits and a single 0 are read as a national number first. Both are valid German numbers (after the
    // outside-line 9 and the trunk 0), so only US and GB agree with the honeypot there.
    for (const dialled of ['972598285108', '0972598285108']) {
      for (const plan of [US, GB]) assert.equal(hotlistKey(plan.normalize(dialled).e164 ?? ''), normalizeDialled(dialled), dialled);
    }
    assert.equal(DE.normalize('972598285108').e164, '+4972598285108');
    assert.equal(DE.normalize('0972598285108').e164, '+49972598285108');
    // A national number needs a home country, which the honeypot does not have: there the keys differ by design.
    assert.equal(hotlistKey(GB.normalize('020 7946 0000').e164 ?? ''), '442079460000');
    assert.equal(hotlistKey('+12345'), undefined, 'the honeypot stores nothing shorter than 7 digits');
  });
});

describe('cache and speed', () => {
  it('bounds the cache and evicts the least recently used entry', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1);
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.size, 2);
    const plan = createNumberPlan({ homeCountry: 'US' });
    assert.equal(plan.normalize('+442079460000'), plan.normalize('+442079460000'), 'a repeat is served from the cache');
    assert.ok(Object.isFrozen(plan.normalize('+442079460000')), 'a shared answer cannot be changed by one caller');
  });

  it('reports normalisations per second and per-call latency, cold and warm (diagnostic, no timed assertion)', (t) => {
    // Every sixth string is unallocated, the slowest case: each reading is parsed and refused before giving up.
    const dialled = Array.from({ length: 3000 }, (_, i) => {
      const line = String(1000 + (i % 9000));
      const forms = [`+44 20 7946 ${line}`, `011 49 30 123${line}`, `212 555 ${line}`, `9 1 809 555 ${line}`, `00 33 1 42 68 ${line}`, `9 011 20 99${line}`];
      return forms[i % forms.length] ?? '';
    });
    const measure = (plan: NumberPlan): { rate: number; p99: number; max: number } => {
      const times: number[] = [];
      for (const text of dialled) {
        const started = performance.now();
        plan.normalize(text);
        times.push(performance.now() - started);
      }
      const total = times.reduce((sum, ms) => sum + ms, 0);
      times.sort((a, b) => a - b);
      return { rate: Math.round(times.length / (total / 1000)), p99: times[Math.floor(times.length * 0.99)] ?? 0, max: times.at(-1) ?? 0 };
    };
    const plan = createNumberPlan({ homeCountry: 'US', outsideLine: ['9'] });
    for (const [label, { rate, p99, max }] of [['cold', measure(plan)], ['warm', measure(plan)]] as const) {
      t.diagnostic(`normalize ${label}: ${rate} /s, p99 ${p99.toFixed(3)} ms, max ${max.toFixed(3)} ms over ${dialled.length} distinct strings`);
    }
    assert.equal(plan.normalize(dialled[5] ?? '').valid, false, 'the slow case is in the sample');
  });
});
