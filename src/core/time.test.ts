import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTimestamp, TimestampCache } from './time.js';

const ctx = (timezone: string, ref = Date.UTC(2024, 5, 1)) => ({ timezone, referenceTime: ref });
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

describe('parseTimestamp', () => {
  it('reads %F %T and milliseconds in the configured zone, across DST', () => {
    assert.equal(iso(parseTimestamp('2024-01-01 12:00:00', ctx('Europe/Berlin'))), '2024-01-01T11:00:00.000Z');
    assert.equal(iso(parseTimestamp('2024-07-01 12:00:00.123', ctx('Europe/Berlin'))), '2024-07-01T10:00:00.123Z');
    assert.equal(iso(parseTimestamp('2024-07-01 12:00:00', ctx('UTC'))), '2024-07-01T12:00:00.000Z');
    assert.equal(iso(parseTimestamp('2024-03-10 12:00:00', ctx('America/New_York'))), '2024-03-10T16:00:00.000Z');
  });

  it('reads ISO 8601 with an offset (security EventTV), fast path and regex path agree', () => {
    assert.equal(iso(parseTimestamp('2015-05-24T08:42:16.296+0300', ctx('UTC'))), '2015-05-24T05:42:16.296Z');
    assert.equal(iso(parseTimestamp('2019-09-20T19:12:43.659-0500', ctx('UTC'))), '2019-09-21T00:12:43.659Z');
    assert.equal(iso(parseTimestamp('2019-09-20T19:12:43.659-05:00', ctx('UTC'))), '2019-09-21T00:12:43.659Z');
    assert.equal(parseTimestamp('2019-09-20T19:12:4x.659-0500', ctx('UTC')), null);
    // Out-of-range fields are rejected, not rolled over into the next month or day.
    assert.equal(parseTimestamp('2019-13-20T19:12:43.659-0500', ctx('UTC')), null);
    assert.equal(parseTimestamp('2019-09-20T25:12:43.659-0500', ctx('UTC')), null);
    assert.equal(parseTimestamp('2019-09-20 19:12:99', ctx('UTC')), null);
  });

  it('infers the year of %b %e %T dates from the reference time', () => {
    assert.equal(iso(parseTimestamp('Jan  1 12:00:00', ctx('UTC', Date.UTC(2024, 0, 1, 13)))), '2024-01-01T12:00:00.000Z');
    assert.equal(iso(parseTimestamp('Dec 31 23:59:59', ctx('UTC', Date.UTC(2024, 0, 1, 1)))), '2023-12-31T23:59:59.000Z');
    assert.equal(iso(parseTimestamp('Mar 27 10:06:14.250', ctx('UTC'))), '2024-03-27T10:06:14.250Z');
  });

  it('reads FreeSWITCH MM-DD and Asterisk 1.8 sec-usec forms; rejects garbage', () => {
    assert.equal(iso(parseTimestamp('08-03 07:56:53.026292', ctx('UTC', Date.UTC(2024, 7, 4)))), '2024-08-03T07:56:53.026Z');
    assert.equal(iso(parseTimestamp('1368439853-500975', ctx('UTC'))), '2013-05-13T10:10:53.500Z');
    for (const bad of ['', 'garbage', '2024-13-45', 'Foo 1 12:00:00']) assert.equal(parseTimestamp(bad, ctx('UTC')), null, bad);
  });

  it('the memo returns the same value for repeated text', () => {
    const cache = new TimestampCache();
    const a = cache.parse('2024-01-01 00:00:00', ctx('UTC'));
    assert.equal(cache.parse('2024-01-01 00:00:00', ctx('UTC')), a);
    assert.equal(cache.parse('2024-01-01 00:00:01', ctx('UTC')), (a as number) + 1000);
  });
});
