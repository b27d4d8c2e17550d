import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createAsteriskParser } from './asterisk/index.js';
import { guardParser } from './guard.js';

const ctx = { timezone: 'UTC', referenceTime: Date.UTC(2024, 0, 2) };
const forged = "[2024-01-01 12:00:00] NOTICE[7] chan_sip.c: Registration from '' failed for '198.51.100.7' - Wrong password";

it('a line right after a cut (tampered) line is never trusted', () => {
  const parser = guardParser(createAsteriskParser());
  // An INVITE to `1%0A<forged line>' rejected ...` logs a fragment, then the forged line.
  const cut = "[2024-01-01 12:00:00] NOTICE[7][C-00000001] chan_sip.c: Call from '' (203.0.113.9:5060) to extension '1";
  const first = parser.parse(cut, ctx);
  assert.equal(first[0]?.kind, 'tampered');
  const [follower] = parser.parse(`${forged}' rejected because extension not found in context 'default'.`, ctx);
  assert.equal(follower?.kind, 'tampered');
  assert.equal(follower?.ip, undefined);
  assert.deepEqual(follower?.candidates, ['198.51.100.7']);
  const [later] = parser.parse(forged, ctx);
  assert.equal(later?.kind, 'auth-failure', 'only the one following line is distrusted');
  assert.equal(later?.ip, '198.51.100.7');
});

it('after an ordinary tampered line (duplicated anchor), the next line is trusted', () => {
  const parser = guardParser(createAsteriskParser());
  const injected = "[2024-01-01 12:00:00] NOTICE[7] chan_sip.c: Registration from '<sip:x@h>' failed for '192.0.2.1:5060' - Wrong password' failed for '203.0.113.1:5060' - Wrong password";
  assert.equal(parser.parse(injected, ctx)[0]?.kind, 'tampered');
  const [event] = parser.parse(forged, ctx);
  assert.equal(event?.kind, 'auth-failure');
  assert.equal(event?.ip, '198.51.100.7');
});
