import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { SecurityEvent } from '../core/event.js';
import type { LineParser, ParseContext } from './types.js';

/**
 * Annotated sample logs, in the spirit of fail2ban's `failJSON` files. A line starting with `#> ` holds a JSON
 * expectation for the next line that does not start with `#`:
 *
 *   #> {"pattern":"chan_sip-register-failed","kind":"auth-failure","ip":"1.2.3.4","account":"301"}
 *   [2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from '<sip:301@example.com>' failed for ...
 *   #> {"pattern":"chan_sip-register-failed","none":true}
 *   [2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from '<sip:301@example.com>' succeeded ...
 *
 * An expectation with `none: true` is a near miss: the line must yield no event. Otherwise the fields given
 * must equal those of the first event (`events: [...]` checks several), and an expected `tampered` event must
 * have no `ip`. Lines starting with `# ` are comments.
 */
export interface SampleExpectation {
  pattern: string;
  none?: boolean;
  events?: Record<string, unknown>[];
  [field: string]: unknown;
}

export interface Sample {
  file: string;
  lineNumber: number;
  line: string;
  expect: SampleExpectation;
}

export function loadSamples(file: string): Sample[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const samples: Sample[] = [];
  let pending: SampleExpectation | null = null;
  lines.forEach((line, index) => {
    if (line.startsWith('#> ')) {
      if (pending) throw new Error(`${file}:${index + 1}: two expectations in a row`);
      pending = JSON.parse(line.slice(3)) as SampleExpectation;
      if (typeof pending.pattern !== 'string') throw new Error(`${file}:${index + 1}: expectation needs "pattern"`);
      return;
    }
    if (line.startsWith('#') || (line === '' && !pending)) return;
    if (!pending) throw new Error(`${file}:${index + 1}: sample line without a "#> " expectation`);
    samples.push({ file, lineNumber: index + 1, line, expect: pending });
    pending = null;
  });
  if (pending) throw new Error(`${file}: expectation at the end without a sample line`);
  return samples;
}

function pick(event: SecurityEvent, expected: Record<string, unknown>): Record<string, unknown> {
  const actual: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) actual[key] = (event as unknown as Record<string, unknown>)[key];
  return actual;
}

/** Asserts one sample against the parser; the message names the file and line. */
export function checkSample(parser: LineParser, sample: Sample, ctx: ParseContext): void {
  const where = `${sample.file}:${sample.lineNumber}`;
  const events = parser.parse(sample.line, ctx);
  const { pattern, none, events: many, ...first } = sample.expect;
  if (none) {
    assert.deepEqual(events, [], `${where}: near miss of ${pattern} must yield nothing`);
    return;
  }
  const expected = many ?? [first];
  assert.equal(events.length, expected.length, `${where}: expected ${expected.length} event(s), got ${JSON.stringify(events)}`);
  expected.forEach((fields, i) => {
    const event = events[i] as SecurityEvent;
    assert.equal(event.pattern, pattern, `${where}: pattern`);
    assert.deepEqual(pick(event, fields), fields, `${where}: fields of event ${i}`);
    if (event.kind === 'tampered') {
      assert.equal(event.ip, undefined, `${where}: a tampered event must not carry an ip`);
      assert.equal(event.tampered, true, `${where}: tampered flag`);
    }
  });
}

/** Every pattern the parser declares has at least one matching sample and one near miss. */
export function checkCoverage(parser: LineParser, samples: readonly Sample[]): void {
  for (const id of parser.patterns) {
    const hits = samples.filter((s) => s.expect.pattern === id && !s.expect.none).length;
    const misses = samples.filter((s) => s.expect.pattern === id && s.expect.none).length;
    assert.ok(hits > 0, `${parser.format}: pattern ${id} has no matching sample`);
    assert.ok(misses > 0, `${parser.format}: pattern ${id} has no near-miss sample`);
  }
  for (const sample of samples) {
    assert.ok(
      parser.patterns.includes(sample.expect.pattern) || sample.expect.pattern === 'noise',
      `${sample.file}:${sample.lineNumber}: unknown pattern ${sample.expect.pattern}`,
    );
  }
}
