import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../core/clock.js';
import { RAW_LIMIT } from '../core/event.js';
import { parseSipMessage } from '../parsers/sip/message.js';
import { INVITE_WITH_SDP, SIPP_REGISTER, SVCRACK_REGISTER, SVMAP_OPTIONS, SVWAR_REGISTER } from '../parsers/sip/samples.js';
import { HoneypotCore } from './core.js';
import { RESPONSE_LIMIT } from './responses.js';

const SAMPLES = [SVMAP_OPTIONS, SVWAR_REGISTER, SVCRACK_REGISTER, SIPP_REGISTER, INVITE_WITH_SDP];
const PIECES = ['\r\n', ' ', ';', ',', '"', '<', '>', '@', '=', 'sip:', 'tel:+', ';rport', ';received=', 'Authorization: Digest ',
  'nonce="', 'username="100"', '%', '\0', '\u00ff', 'X'.repeat(300)];

const mutated = fc.tuple(
  fc.constantFrom(...SAMPLES),
  fc.array(fc.tuple(fc.nat(), fc.nat(8), fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 6 }))), { minLength: 1, maxLength: 6 }),
).map(([sample, edits]) => edits.reduce((text, [at, cut, insert]) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + insert + text.slice(i + cut);
}, sample));

test('whatever a sender writes: no throw, a well-formed bounded answer or none, bounded events, no password in them', () => {
  const core = new HoneypotCore({
    clock: new ManualClock(1_700_000_000_000), userAgent: 'PBX', realm: 'asterisk', reject: 503,
    accounts: [{ user: '100', password: 'bait-secret' }],
  });
  fc.assert(fc.property(mutated, fc.constantFrom('udp' as const, 'tcp' as const), (text, transport) => {
    const message = parseSipMessage(text);
    if (message === null) return;
    const out = core.handle({ ip: '203.0.113.9', port: 5060, transport, message });
    if (out.reply !== null) {
      assert.ok(out.reply.length <= RESPONSE_LIMIT);
      const reply = parseSipMessage(out.reply);
      assert.equal(reply?.kind, 'response', out.reply.toString());
      assert.ok(reply.vias.length >= 1);
    }
    for (const event of out.events) {
      assert.equal(event.ip, '203.0.113.9', 'the address is the packet\'s, never one from the message');
      assert.ok(event.raw.length <= RAW_LIMIT);
      assert.equal(JSON.stringify(event).includes('bait-secret'), false);
    }
    if (out.hit) assert.ok((out.hit.userAgent?.length ?? 0) <= 256 && (out.hit.destination?.length ?? 0) <= 128);
  }), { numRuns: 3000 });
});
