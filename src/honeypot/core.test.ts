import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../core/clock.js';
import { parseSipMessage } from '../parsers/sip/message.js';
import { SVMAP_OPTIONS, SVWAR_REGISTER } from '../parsers/sip/samples.js';
import { HoneypotCore, type HoneypotCoreOptions, type HoneypotPacket } from './core.js';
import { authorize, request, response, svcrackTag, type RequestShape } from './testing.js';

const T0 = 1_700_000_000_000;
const ATTACKER = { ip: '203.0.113.9', port: 40_000, transport: 'udp' as const };

function honeypot(over: Partial<HoneypotCoreOptions> = {}) {
  const clock = new ManualClock(T0);
  const core = new HoneypotCore({
    clock, userAgent: 'FPBX-16.0.40.7(18.20.2)', realm: 'asterisk', reject: 503,
    accounts: [{ user: '100', password: '100' }, { user: '1000', password: '1234' }],
    nonces: { secret: Buffer.alloc(32, 7) }, ...over,
  });
  const send = (shape: RequestShape | string, from: Partial<Omit<HoneypotPacket, 'message'>> = {}) =>
    core.handle({ ...ATTACKER, ...from, message: request(shape) });
  return { core, clock, send };
}

const kinds = (output: { events: { kind: string }[] }) => output.events.map((e) => e.kind);

describe('honeypot core: answers like a PBX', () => {
  it('answers svmap OPTIONS 200 with its User-Agent, records the source and names the tool', () => {
    const { send } = honeypot();
    const out = send(SVMAP_OPTIONS);
    const reply = response(out.reply);
    assert.equal(reply.status, 200);
    assert.equal(reply.server, 'FPBX-16.0.40.7(18.20.2)');
    assert.match(reply.headers.get('allow')?.[0] ?? '', /INVITE/);
    assert.equal(reply.callId, '991958991173954026818935');
    assert.equal(reply.cseq?.method, 'OPTIONS');
    assert.ok(reply.to?.tag, 'a To tag is added');
    // The Via names the sender's claim (127.0.0.1:15060); the answer records the real source beside it.
    assert.deepEqual(reply.vias[0], { transport: 'UDP', host: '127.0.0.1', port: 15060, branch: 'z9hG4bK-3202958379', received: '203.0.113.9', rport: 40_000 });
    assert.deepEqual(kinds(out), ['request', 'scanner']);
    assert.equal(out.events[0]?.evidence, 'spoofable', 'one UDP request proves nothing about its source');
    assert.equal(out.events[1]?.reason?.startsWith('svmap:'), true);
    assert.deepEqual(out.hit, {
      at: T0, ip: '203.0.113.9', port: 40_000, transport: 'udp', method: 'OPTIONS', outcome: 'answered', verified: false,
      userAgent: 'friendly-scanner', username: '100', toUser: '100', tool: 'svmap',
    });
  });

  it('answers svwar 404 for a user that is not bait and challenges a bait one, as Asterisk writes challenges', () => {
    const { send } = honeypot();
    const probe = send(SVWAR_REGISTER);
    assert.equal(response(probe.reply).status, 404, 'svwar learns what "no such user" looks like');
    assert.deepEqual(kinds(probe), ['request', 'scanner', 'unknown-account']);
    assert.deepEqual([probe.hit?.username, probe.hit?.tool, probe.hit?.outcome], ['3271232680', 'svwar', 'unknown-account']);
    const bait = send(SVWAR_REGISTER.replaceAll('3271232680', '100').replace('z9hG4bK-88254416', 'z9hG4bK-1'));
    const reply = response(bait.reply);
    assert.equal(reply.status, 401);
    const header = reply.headers.get('www-authenticate')?.[0] ?? '';
    assert.match(header, /^Digest realm="asterisk",nonce="\d+\/[0-9a-f]{32}",opaque="[0-9a-f]{32}",algorithm=md5,qop="auth"$/);
    assert.deepEqual(kinds(bait), ['request', 'challenge']);
    assert.equal(bait.hit?.outcome, 'challenged');
  });

  it('answers CANCEL and BYE 481, ignores ACK and never answers a response', () => {
    const { send, core } = honeypot();
    assert.equal(response(send({ method: 'BYE' }).reply).status, 481);
    assert.equal(response(send({ method: 'CANCEL', branch: 'z9hG4bK-2' }).reply).status, 481);
    const ack = send({ method: 'ACK', branch: 'z9hG4bK-3' });
    assert.equal(ack.reply, null);
    assert.equal(ack.hit, undefined);
    assert.deepEqual(kinds(ack), ['request']);
    const unsolicited = parseSipMessage('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n');
    assert.ok(unsolicited);
    assert.deepEqual(core.handle({ ...ATTACKER, message: unsolicited }), { reply: null, events: [] });
    assert.equal(core.stats.ignored, 1);
  });

  it('gives no answer to a request missing what a response copies, or built to inflate it', () => {
    const { send } = honeypot();
    const noCallId = 'OPTIONS sip:x@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@192.0.2.1>\r\nCSeq: 1 OPTIONS\r\n\r\n';
    const out = send(noCallId);
    assert.equal(out.reply, null);
    assert.deepEqual(kinds(out), ['request'], 'still seen and recorded');
    assert.equal(out.hit?.outcome, 'answered');
    const vias = Array.from({ length: 40 }, (_, i) => `Via: SIP/2.0/UDP 10.0.0.${i};branch=z9hG4bK-${'x'.repeat(90)}`);
    assert.equal(send({ method: 'OPTIONS', headers: vias, branch: 'z9hG4bK-big' }).reply, null, 'past the 4 KiB answer limit');
  });
});

describe('honeypot core: digest auth against bait accounts', () => {
  function crack(password: string, user = '100', over: Partial<HoneypotCoreOptions> = {}) {
    const hp = honeypot(over);
    const first = hp.send({ method: 'REGISTER', from: `"${user}" <sip:${user}@192.0.2.1>;tag=3206210844`, to: `"${user}" <sip:${user}@192.0.2.1>`, callId: '1054825643', contact: 'sip:123@1.1.1.1', userAgent: 'friendly-scanner' });
    const challenge = response(first.reply);
    const authorization = authorize(challenge, { username: user, password, method: 'REGISTER', uri: 'sip:192.0.2.1' });
    const second = hp.send({
      method: 'REGISTER', cseq: 2, branch: 'z9hG4bK-2', callId: '1054825643', userAgent: 'friendly-scanner', contact: 'sip:123@1.1.1.1',
      from: `"${user}" <sip:${user}@192.0.2.1>;tag=${svcrackTag(user, password)}`, to: `"${user}" <sip:${user}@192.0.2.1>`,
      headers: [`Authorization: ${authorization}`],
    });
    return { ...hp, first, second, challenge, authorization };
  }

  it('a wrong password on a bait account: a new challenge, auth-failure as verified evidence, the password recorded', () => {
    const hp = crack('zebra-77');
    const { second, challenge } = hp;
    const reply = response(second.reply);
    assert.equal(reply.status, 401);
    assert.notEqual(reply.wwwAuthenticate?.nonce, challenge.wwwAuthenticate?.nonce, 'a fresh nonce for the next guess');
    assert.deepEqual(kinds(second), ['request', 'challenge', 'auth-failure'], 'the scanner event came with the first request');
    assert.ok(second.events.every((e) => e.evidence === 'verified'), 'our nonce came back: the source is real');
    assert.equal(second.hit?.password, 'zebra-77', 'svcrack wrote it in its tag, and the response confirms it');
    assert.equal(second.hit?.outcome, 'wrong-password');
    assert.equal(second.hit?.verified, true);
    assert.equal(second.hit?.tool, 'svcrack');
    const uriPassword = hp.send({ method: 'OPTIONS', uri: 'sip:100:zebra-78@192.0.2.1', from: '<sip:100:zebra-79@192.0.2.1>;tag=1', branch: 'z9hG4bK-u' });
    assert.match(uriPassword.events[0]?.raw ?? '', /^OPTIONS sip:100@192\.0\.2\.1 \| From: sip:100@192\.0\.2\.1/);
    const everything = JSON.stringify([...second.events, ...uriPassword.events]);
    assert.equal(/zebra-7\d/.test(everything), false, 'no password in any event, from a tag or a URI');
    assert.equal(everything.includes(svcrackTag('100', 'zebra-77')), false, 'nor the tag that spells it');
  });

  it('the bait password registers: 200 with the bindings, auth-success, and svcrack reads its guess back', () => {
    const { second } = crack('100');
    const reply = response(second.reply);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('contact')?.[0], '<sip:123@1.1.1.1>;expires=3600');
    assert.equal(reply.expires, 3600);
    assert.equal(reply.from?.tag, svcrackTag('100', '100'));
    assert.deepEqual(kinds(second), ['request', 'auth-success']);
    assert.deepEqual([second.hit?.outcome, second.hit?.password, second.hit?.username], ['registered', '100', '100']);
  });

  it('a user that is not bait: 404 for REGISTER, whatever credentials come; a new challenge for INVITE', () => {
    const { send } = honeypot();
    const challenge = response(send({ method: 'REGISTER' }).reply);
    const credentials = (method: string) => authorize(challenge, { username: 'nobody', password: 'qwerty', method, uri: 'sip:192.0.2.1' });
    const register = send({ method: 'REGISTER', branch: 'z9hG4bK-2', cseq: 2, headers: [`Authorization: ${credentials('REGISTER')}`] });
    assert.equal(response(register.reply).status, 404);
    assert.deepEqual(kinds(register), ['request', 'unknown-account']);
    assert.equal(register.events[1]?.evidence, 'verified', 'our nonce came back, even for a user we never challenged');
    assert.deepEqual([register.hit?.username, register.hit?.password], ['nobody', 'qwerty']);
    const invite = send({ method: 'INVITE', uri: 'sip:192.0.2.1', branch: 'z9hG4bK-3', cseq: 3, headers: [`Proxy-Authorization: ${credentials('INVITE')}`] });
    assert.equal(response(invite.reply).status, 407);
    assert.deepEqual(kinds(invite), ['request', 'challenge', 'unknown-account', 'dialplan-miss']);
  });

  it('recovers common passwords without a tag, and records none it cannot recover', () => {
    const { send } = honeypot();
    const challenge = response(send({ method: 'REGISTER' }).reply);
    const guess = (password: string, branch: string) => send({
      method: 'REGISTER', branch, cseq: 2, headers: [`Authorization: ${authorize(challenge, { username: '1000', password, method: 'REGISTER', uri: 'sip:192.0.2.1' })}`],
    });
    assert.equal(guess('password', 'z9hG4bK-a').hit?.password, 'password');
    assert.equal(guess('1000', 'z9hG4bK-b').hit?.password, '1000', 'the user name itself');
    assert.equal(guess('Xq7#vLp2!', 'z9hG4bK-c').hit?.password, undefined);
    assert.equal(guess('1234', 'z9hG4bK-d').hit?.outcome, 'registered');
  });

  it('accepts answers without qop, and svcrack\'s qop=auth without cnonce', () => {
    for (const svcrackBug of [false, true]) {
      const { send } = honeypot({ qop: false });
      const challenge = response(send({ method: 'REGISTER' }).reply);
      assert.equal(challenge.wwwAuthenticate?.qop, undefined);
      const out = send({ method: 'REGISTER', branch: 'z9hG4bK-2', cseq: 2, headers: [`Authorization: ${authorize(challenge, { username: '100', password: '100', method: 'REGISTER', uri: 'sip:192.0.2.1', svcrackBug })}`] });
      assert.equal(out.hit?.outcome, 'registered', svcrackBug ? 'svcrack form' : 'RFC 2069 form');
    }
  });

  it('a nonce is bound to the address and port it was sent to', () => {
    const { send } = honeypot();
    const challenge = response(send({ method: 'REGISTER' }).reply);
    const auth = `Authorization: ${authorize(challenge, { username: '100', password: '100', method: 'REGISTER', uri: 'sip:192.0.2.1' })}`;
    for (const from of [{ port: 40_001 }, { ip: '198.51.100.1' }, { transport: 'tcp' as const }]) {
      const out = send({ method: 'REGISTER', branch: `z9hG4bK-${JSON.stringify(from)}`, cseq: 2, headers: [auth] }, from);
      assert.equal(out.hit?.outcome, 'challenged', `replayed from ${JSON.stringify(from)}`);
      assert.equal(kinds(out).includes('auth-success'), false);
    }
    assert.equal(send({ method: 'REGISTER', branch: 'z9hG4bK-forged', cseq: 2, headers: [auth.replace(/nonce="[^"]+"/, 'nonce="1700000000/0000000000000000000000000000000"')] }).hit?.outcome, 'challenged');
  });

  it('an expired nonce of ours is stale: challenged again with stale=true, still a round trip', () => {
    const { send, clock } = honeypot();
    const challenge = response(send({ method: 'REGISTER' }).reply);
    const auth = `Authorization: ${authorize(challenge, { username: '100', password: '100', method: 'REGISTER', uri: 'sip:192.0.2.1' })}`;
    clock.advance(40_000);
    const stale = send({ method: 'REGISTER', branch: 'z9hG4bK-2', cseq: 2, headers: [auth] });
    assert.match(response(stale.reply).headers.get('www-authenticate')?.[0] ?? '', /,stale=true$/);
    assert.deepEqual([stale.hit?.outcome, stale.hit?.verified, stale.hit?.password], ['stale', true, '100']);
    assert.deepEqual(kinds(stale), ['request', 'challenge']);
    clock.advance(10 * 60_000);
    assert.equal(send({ method: 'REGISTER', branch: 'z9hG4bK-3', cseq: 3, headers: [auth] }).hit?.outcome, 'challenged', 'too old to be trusted at all');
  });
});

describe('honeypot core: calls', () => {
  const NUMBER = '00972599000123';
  const invite = (over: Partial<RequestShape> = {}): RequestShape => ({
    method: 'INVITE', uri: `sip:${NUMBER}@192.0.2.1`, to: `<sip:${NUMBER}@192.0.2.1>`, callId: 'fraud-1', userAgent: 'sipcli/v1.8', ...over,
  });

  it('challenges an INVITE with 407, records the number, and rejects it once authenticated', () => {
    const { send } = honeypot();
    const first = send(invite());
    const challenge = response(first.reply);
    assert.equal(challenge.status, 407);
    assert.ok(challenge.headers.get('proxy-authenticate'));
    assert.deepEqual(kinds(first), ['request', 'scanner', 'challenge', 'dialplan-miss']);
    assert.equal(first.events.at(-1)?.destination, NUMBER);
    assert.equal(first.events.at(-1)?.evidence, 'spoofable');
    assert.deepEqual([first.hit?.destination, first.hit?.number, first.hit?.outcome], [NUMBER, '972599000123', 'challenged']);
    assert.deepEqual(first.dialled, { number: '972599000123', ip: '203.0.113.9', at: T0, verified: false });

    assert.equal(send(invite({ method: 'ACK', branch: 'z9hG4bK-1' })).reply, null);
    const auth = authorize(challenge, { username: '100', password: '100', method: 'INVITE', uri: `sip:${NUMBER}@192.0.2.1` });
    const second = send(invite({ cseq: 2, branch: 'z9hG4bK-2', headers: [`Proxy-Authorization: ${auth}`] }));
    assert.equal(response(second.reply).status, 503);
    assert.deepEqual(kinds(second), ['request', 'dialplan-miss']);
    assert.equal(second.events.at(-1)?.evidence, 'verified');
    assert.match(second.events.at(-1)?.reason ?? '', /rejected with 503 Service Unavailable/);
    assert.deepEqual([second.hit?.outcome, second.hit?.password, second.hit?.verified], ['rejected', '100', true]);
    assert.deepEqual(second.dialled, { number: '972599000123', ip: '203.0.113.9', at: T0, verified: true, retry: true }, 'the call counts once, now as verified');
    assert.equal(send(invite({ cseq: 3, branch: 'z9hG4bK-2b', headers: [`Proxy-Authorization: ${auth}`] })).dialled, undefined, 'and only once');
    assert.ok(send(invite({ callId: 'fraud-2', branch: 'z9hG4bK-3' })).dialled, 'a new call counts again');
  });

  it('rejects with the configured status; records short extensions without a hotlist number', () => {
    const { send } = honeypot({ reject: 404 });
    const out = send(invite({ uri: 'sip:101@192.0.2.1', to: '<sip:101@192.0.2.1>' }));
    assert.deepEqual([out.hit?.destination, out.hit?.number, out.dialled], ['101', undefined, undefined]);
    const challenge = response(out.reply);
    const auth = authorize(challenge, { username: '100', password: '100', method: 'INVITE', uri: 'sip:101@192.0.2.1' });
    assert.equal(response(send(invite({ uri: 'sip:101@192.0.2.1', cseq: 2, branch: 'z9hG4bK-2', headers: [`Proxy-Authorization: ${auth}`] })).reply).status, 404);
  });

  it('a retransmission is answered again but recorded once', () => {
    const { send, core } = honeypot();
    const first = send(invite());
    const again = send(invite());
    assert.equal(response(again.reply).status, 407);
    assert.deepEqual([again.events, again.hit], [[], undefined]);
    assert.ok(first.hit);
    assert.equal(core.stats.retransmissions, 1);
  });
});

describe('honeypot core: bounds', () => {
  it('caps hits per source per minute and counts the rest per minute and source', () => {
    const { send, core, clock } = honeypot({ limits: { hitsPerSourceMinute: 3 } });
    const hits = Array.from({ length: 5 }, (_, i) => send({ method: 'OPTIONS', branch: `z9hG4bK-${i}` }).hit);
    assert.equal(hits.filter(Boolean).length, 3);
    assert.equal(send({ method: 'OPTIONS', branch: 'z9hG4bK-o' }, { ip: '198.51.100.1' }).hit?.ip, '198.51.100.1', 'another source has its own cap');
    assert.deepEqual(core.takeSuppressed(), [], 'the minute is not over');
    clock.advance(60_000);
    assert.deepEqual(core.takeSuppressed(), [{ minute: T0 - (T0 % 60_000), ip: '203.0.113.9', count: 2 }]);
    assert.ok(send({ method: 'OPTIONS', branch: 'z9hG4bK-next' }).hit, 'a new minute, a new allowance');
    assert.deepEqual([core.stats.recorded, core.stats.suppressed], [5, 2]);
  });

  it('caps all sources together, and past the tracked counters counts under *', () => {
    const { send, core } = honeypot({ limits: { hitsPerMinute: 2, suppressedKeys: 1 } });
    for (let i = 0; i < 5; i++) send({ method: 'OPTIONS' }, { ip: `198.51.100.${i}` });
    const counts = core.takeSuppressed(true).map((s) => [s.ip, s.count]);
    assert.deepEqual(counts, [['198.51.100.2', 1], ['*', 2]]);
  });

  it('withholds UDP answers past the per-source budget, never TCP ones', () => {
    const { send, core, clock } = honeypot({ limits: { replyBurst: 2, repliesPerSecond: 1 } });
    const answered = () => send({ method: 'OPTIONS', branch: `z9hG4bK-${Math.random()}` }).reply !== null;
    assert.deepEqual([answered(), answered(), answered()], [true, true, false]);
    clock.advance(1000);
    assert.equal(answered(), true);
    assert.equal(core.stats.silenced, 1);
    for (let i = 0; i < 5; i++) assert.ok(send({ method: 'OPTIONS', branch: `z9hG4bK-t${i}` }, { transport: 'tcp' }).reply);
  });

  it('at most one scanner event per source per cooldown, and bounded per-source state', () => {
    const { send, clock } = honeypot({ limits: { sources: 2 } });
    const scanners = () => send({ method: 'OPTIONS', userAgent: 'friendly-scanner', branch: `z9hG4bK-${Math.random()}` }).events.filter((e) => e.kind === 'scanner').length;
    assert.deepEqual([scanners(), scanners()], [1, 0]);
    clock.advance(10_000);
    assert.equal(scanners(), 1);
    for (const ip of ['198.51.100.1', '198.51.100.2']) send({ method: 'OPTIONS' }, { ip });
    assert.equal(scanners(), 1, 'the oldest state was forgotten, so the source starts afresh');
  });

  it('a realm or User-Agent from the config cannot break out of its header', () => {
    const { send } = honeypot({ realm: 'pbx"\r\nX-Evil: 1', userAgent: 'PBX\r\nX-Evil: 2' });
    const text = send({ method: 'REGISTER' }).reply?.toString() ?? '';
    assert.equal(text.includes('X-Evil'), true, 'the text is kept...');
    assert.equal(/\r\nX-Evil/.test(text), false, '...but never as a header of its own');
  });
});
