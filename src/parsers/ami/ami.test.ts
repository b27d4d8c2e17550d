import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { SecurityEvent } from '../../core/event.js';
import { RAW_LIMIT } from '../../core/event.js';
import { AmiDecoder } from '../../sources/ami/decoder.js';
import type { AmiMessage } from '../../sources/ami/decoder.js';
import { createAsteriskSecurityParser } from '../asterisk-security/index.js';
import { AMI_PATTERNS, parseAmiEvent } from './index.js';

const ctx = { timezone: 'UTC', referenceTime: Date.UTC(2024, 5, 1) };
const FILE = 'src/parsers/ami/ami.transcript';

interface Frame {
  lineNumber: number;
  expect: Record<string, unknown>;
  message: AmiMessage;
}

/**
 * The transcript without its `#` lines is the wire stream; each `#> ` expectation belongs to the frame that
 * starts after it. The stream goes through the real decoder, so the fixture tests the framing too.
 */
function loadTranscript(): Frame[] {
  const wire: string[] = [];
  const pending: { lineNumber: number; expect: Record<string, unknown> }[] = [];
  let expectation: Record<string, unknown> | null = null;
  let inFrame = false;
  readFileSync(FILE, 'utf8').split('\n').forEach((line, index) => {
    if (line.startsWith('#> ')) {
      expectation = JSON.parse(line.slice(3)) as Record<string, unknown>;
      return;
    }
    if (line.startsWith('#')) return;
    if (line !== '' && !inFrame) {
      if (!expectation) throw new Error(`${FILE}:${index + 1}: frame without a "#> " expectation`);
      pending.push({ lineNumber: index + 1, expect: expectation });
      expectation = null;
    }
    // The banner is a frame of one line, with no blank line after it.
    inFrame = line !== '' && !line.startsWith('Asterisk Call Manager/');
    wire.push(line);
  });
  const decoder = new AmiDecoder();
  const messages = decoder.push(wire.join('\r\n'));
  assert.equal(decoder.dropped, 0, 'the transcript decodes without dropping a frame');
  assert.equal(messages.length, pending.length, 'one message per annotated frame');
  return pending.map((p, i) => ({ ...p, message: messages[i] as AmiMessage }));
}

function pick(event: SecurityEvent, expected: Record<string, unknown>): Record<string, unknown> {
  const actual: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) actual[key] = (event as unknown as Record<string, unknown>)[key];
  return actual;
}

const frames = loadTranscript();

/** The class Asterisk writes for the event's kind: cdr_manager's `cdr`, the channel events' and CEL's `call`. */
function privilegeOf(event: SecurityEvent): string {
  if (event.pattern === 'ami-cdr') return 'cdr';
  return event.kind.startsWith('call-') ? 'call' : 'security';
}

describe('parseAmiEvent: annotated transcript', () => {
  for (const { lineNumber, expect, message } of frames) {
    const { pattern, none, ...fields } = expect;
    it(`${String(pattern ?? message.get('Event') ?? message.get('Response') ?? message.kind)} line ${lineNumber}`, () => {
      const events = parseAmiEvent(message, ctx);
      if (none) {
        assert.deepEqual(events, []);
        return;
      }
      assert.equal(events.length, 1, JSON.stringify(events));
      const event = events[0] as SecurityEvent;
      assert.equal(event.pattern, pattern);
      assert.deepEqual(pick(event, fields), fields);
      if (event.kind === 'tampered') assert.equal(event.ip, undefined);
      assert.ok(event.raw.startsWith(`Event: ${message.get('Event')}\nPrivilege: ${privilegeOf(event)},all\n`));
      if (event.kind.startsWith('call-')) assert.equal(event.ip, undefined);
    });
  }

  it('has a frame for every pattern and every event type of the reference table', () => {
    const seen = new Set(frames.map((f) => f.expect.pattern));
    for (const pattern of AMI_PATTERNS) assert.ok(seen.has(pattern), `no frame for ${pattern}`);
    const types = new Set(frames.map((f) => f.message.get('Event')));
    for (const type of ['MemoryLimit', 'LoadAverageLimit']) assert.ok(types.has(type), `no frame for ${type}`);
  });
});

/** The security log line that res_security_log writes for the same event (reference 1.4). */
function asLogLine(message: AmiMessage): string {
  const body = message.fields.filter(([key]) => key !== 'Event' && key !== 'Privilege').map(([k, v]) => `${k}="${v}"`);
  return [`SecurityEvent="${message.get('Event')}"`, ...body].join(',');
}

describe('parseAmiEvent: same decisions as the security log parser', () => {
  it('gives the log parser\'s events, but for pattern and raw, for every frame the log form can carry', () => {
    const log = createAsteriskSecurityParser();
    let compared = 0;
    for (const { lineNumber, message } of frames) {
      // The log form needs EventTV at its place and cannot carry a quote inside a value.
      if (message.fields[2]?.[0] !== 'EventTV' || message.fields.some(([, v]) => v.includes('"'))) continue;
      const strip = (events: readonly SecurityEvent[]) =>
        events.map(({ raw: _raw, pattern, ...rest }) => ({ ...rest, pattern: pattern?.replace(/^(ami|security)-/, '') }));
      assert.deepEqual(strip(parseAmiEvent(message, ctx)), strip(log.parse(asLogLine(message), ctx)), `line ${lineNumber}`);
      compared++;
    }
    assert.ok(compared >= 20, `only ${compared} frames compared`);
  });
});

describe('parseAmiEvent: contract', () => {
  const decode = (text: string): AmiMessage => {
    const [message] = new AmiDecoder().push(text);
    assert.ok(message);
    return message;
  };

  it('yields a tampered event for a duplicate RemoteAddress even with different key case', () => {
    const events = parseAmiEvent(
      decode('Event: FailedACL\r\nRemoteAddress: IPV4/UDP/198.51.100.7/5060\r\nremoteaddress: IPV6/UDP/2001:db8::9/5060\r\n\r\n'),
      ctx,
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]?.kind, 'tampered');
    assert.equal(events[0]?.ip, undefined);
    assert.deepEqual(events[0]?.candidates, ['198.51.100.7', '2001:db8::9']);
    assert.equal(events[0]?.at, ctx.referenceTime);
  });

  it('bounds raw and the client-written fields', () => {
    const long = 'a'.repeat(5000);
    const [event] = parseAmiEvent(
      decode(`Event: InvalidAccountID\r\nService: PJSIP\r\nAccountID: ${long}\r\nSessionID: ${long}\r\nRemoteAddress: IPV4/UDP/198.51.100.7/5060\r\n\r\n`),
      ctx,
    );
    assert.equal(event?.raw.length, RAW_LIMIT);
    assert.equal(event?.account?.length, 256);
    assert.equal(event?.callId?.length, 256);
  });

  it('yields nothing for the banner, responses and unknown events', () => {
    for (const text of ['Asterisk Call Manager/9.0.0\r\n', 'Response: Success\r\n\r\n', 'Event: Newchannel\r\nRemoteAddress: IPV4/UDP/1.2.3.4/5\r\n\r\n']) {
      assert.deepEqual(parseAmiEvent(decode(text), ctx), []);
    }
  });
});
