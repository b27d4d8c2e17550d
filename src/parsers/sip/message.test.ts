import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isProvisionalResponse, parseSipMessage, type SipMessage } from './message.js';
import {
  CHALLENGE_401, FORBIDDEN_403, INVITE_SDP_BODY, INVITE_WITH_SDP, REGISTER_OK, SIPP_REGISTER, SVCRACK_REGISTER,
  SVMAP_OPTIONS, SVWAR_REGISTER,
} from './samples.js';

function parse(text: string): SipMessage {
  const message = parseSipMessage(text);
  assert.ok(message !== null, `parses: ${text.slice(0, 60)}`);
  return message;
}

test('svmap OPTIONS: friendly-scanner, numeric branch with rport, quoted display glued to <', () => {
  const m = parse(SVMAP_OPTIONS);
  assert.equal(m.kind, 'request');
  assert.equal(m.method, 'OPTIONS');
  assert.ok(m.kind === 'request' && m.requestUri === 'sip:100@127.0.0.1');
  assert.equal(m.userAgent, 'friendly-scanner');
  assert.deepEqual(m.vias, [{ transport: 'UDP', host: '127.0.0.1', port: 15060, branch: 'z9hG4bK-3202958379', rport: true }]);
  assert.equal(m.from?.display, 'sipvicious');
  assert.equal(m.from?.user, '100');
  assert.equal(m.from?.host, '1.1.1.1');
  assert.equal(m.from?.tag, '3766303030303031313363340133303131333632333334');
  assert.deepEqual(m.contact, { uri: 'sip:100@127.0.0.1:15060', scheme: 'sip', user: '100', host: '127.0.0.1', port: 15060, params: {} });
  assert.deepEqual(m.cseq, { seq: 1, method: 'OPTIONS' });
  assert.equal(m.callId, '991958991173954026818935');
  assert.equal(m.maxForwards, 70);
  assert.equal(m.contentLength, 0);
  assert.equal(m.body, '');
  assert.deepEqual(m.headers.get('accept'), ['application/sdp']);
});

test('svwar REGISTER: the probed extension in To and From', () => {
  const m = parse(SVWAR_REGISTER);
  assert.equal(m.method, 'REGISTER');
  assert.equal(m.to?.user, '3271232680');
  assert.equal(m.to?.display, '3271232680');
  assert.equal(m.to?.tag, undefined);
  assert.equal(m.vias[0]?.branch, 'z9hG4bK-88254416');
});

test('svcrack REGISTER: Authorization with qop and neither cnonce nor nc', () => {
  const m = parse(SVCRACK_REGISTER);
  assert.deepEqual(m.authorization, {
    scheme: 'Digest', username: '100', realm: '127.0.0.1', nonce: 'awFTsGsBUoSEvMUgy12f2Np6dVzypcGe', uri: 'sip:127.0.0.1',
    algorithm: 'MD5', qop: 'auth', response: '4d7db21200596c16778d175a20f38ce3',
  });
  assert.equal(m.cseq?.seq, 2);
  assert.equal(m.from?.tag, '3130303a3132333401333432373234323235');
});

test('SIPp REGISTER: no User-Agent, token display names, Expires', () => {
  const m = parse(SIPP_REGISTER);
  assert.equal(m.userAgent, undefined);
  assert.equal(m.from?.display, 'sipp');
  assert.equal(m.from?.port, 5061);
  assert.equal(m.from?.tag, '4242SIPpTag001');
  assert.equal(m.to?.display, 'service');
  assert.equal(m.vias[0]?.branch, 'z9hG4bK-4242-1-0');
  assert.equal(m.expires, 3600);
  assert.equal(m.headers.get('subject')?.[0], 'Performance Test');
});

test('401: WWW-Authenticate with spaces after commas, Server separate from User-Agent, filled-in rport', () => {
  const m = parse(CHALLENGE_401);
  assert.ok(m.kind === 'response');
  assert.equal(m.status, 401);
  assert.equal(m.reason, 'Unauthorized');
  assert.equal(m.method, 'REGISTER');
  assert.equal(m.server, 'Asterisk PBX 18.20.0');
  assert.equal(m.userAgent, undefined);
  assert.deepEqual(m.wwwAuthenticate, {
    scheme: 'Digest', realm: 'asterisk', nonce: '1712345678/0a1b2c3d4e5f', opaque: '5c1e7d2a', algorithm: 'md5', qop: 'auth',
  });
  assert.equal(m.vias[0]?.rport, 15063);
  assert.equal(m.vias[0]?.received, '203.0.113.9');
  assert.equal(m.to?.tag, 'as1f2e3d4c');
});

test('403 to the second REGISTER', () => {
  const m = parse(FORBIDDEN_403);
  assert.ok(m.kind === 'response' && m.status === 403 && m.reason === 'Forbidden');
  assert.deepEqual(m.cseq, { seq: 2, method: 'REGISTER' });
});

test('200 to REGISTER: two bindings in one Contact line, sips:', () => {
  const m = parse(REGISTER_OK);
  assert.equal(m.contacts.length, 2);
  assert.equal(m.contact?.scheme, 'sips');
  assert.equal(m.contact?.host, 'client.biloxi.example.com');
  assert.equal(m.contact?.params.expires, '3600');
  assert.equal(m.contacts[1]?.host, '192.0.2.4');
  assert.equal(m.from?.scheme, 'sips');
  assert.equal(m.from?.display, 'Bob');
});

test('INVITE with SDP: body cut to Content-Length, toll-fraud destination in the Request-URI', () => {
  const m = parse(`${INVITE_WITH_SDP}trailing junk`);
  assert.equal(m.body, INVITE_SDP_BODY);
  assert.equal(m.contentLength, Buffer.byteLength(INVITE_SDP_BODY));
  assert.ok(m.kind === 'request' && m.requestUri === 'sip:011972598285108@192.0.2.10');
  assert.equal(m.to?.user, '011972598285108');
  assert.equal(m.headers.get('content-type')?.[0], 'application/sdp');
});

test('compact forms, case-insensitive names and bare LF line ends', () => {
  const m = parse([
    'INVITE sip:bob@example.com SIP/2.0', 'v: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKa', 'f: <sip:alice@example.com>;tag=1',
    't: sip:bob@example.com', 'i: abc@10.0.0.1', 'm: <sip:alice@10.0.0.1>', 'CSEQ: 7 INVITE', 'c: text/plain', 'k: timer',
    'L: 5', 's: hi', 'e: gzip', '', 'hello',
  ].join('\n'));
  assert.equal(m.vias[0]?.transport, 'TCP');
  assert.equal(m.vias[0]?.port, undefined);
  assert.equal(m.from?.tag, '1');
  assert.equal(m.to?.user, 'bob');
  assert.equal(m.callId, 'abc@10.0.0.1');
  assert.equal(m.contact?.host, '10.0.0.1');
  assert.deepEqual(m.cseq, { seq: 7, method: 'INVITE' });
  assert.equal(m.body, 'hello');
  for (const name of ['content-type', 'supported', 'subject', 'content-encoding']) assert.ok(m.headers.has(name), name);
});

test('folded header lines join with one space', () => {
  const m = parse(crlf([
    'REGISTER sip:example.com SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.1:5060', '  ;branch=z9hG4bKfold', 'Subject: I know you\'re there,',
    '\tpick up the phone', 'Authorization: Digest username="alice",', ' realm="example.com", nonce="n1",', '  response="abc"',
    'Content-Length: 0', '', '',
  ]));
  assert.equal(m.vias[0]?.branch, 'z9hG4bKfold');
  assert.equal(m.headers.get('subject')?.[0], 'I know you\'re there, pick up the phone');
  assert.equal(m.authorization?.realm, 'example.com');
  assert.equal(m.authorization?.response, 'abc');
});

test('Via: two lines and a comma-separated list, top-most first, IPv6 sent-by', () => {
  const m = parse(crlf([
    'SIP/2.0 180 Ringing', 'Via: SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bK1, SIP / 2.0 / tls [2001:db8::1]:5061;branch=z9hG4bK2',
    'Via: SIP/2.0/WS client.invalid;branch=z9hG4bK3;received=192.0.2.7', 'CSeq: 1 INVITE', '', '',
  ]));
  assert.deepEqual(m.vias.map((v) => [v.transport, v.host, v.port, v.branch]), [
    ['UDP', 'proxy.example.com', 5060, 'z9hG4bK1'], ['TLS', '2001:db8::1', 5061, 'z9hG4bK2'], ['WS', 'client.invalid', undefined, 'z9hG4bK3'],
  ]);
  assert.equal(m.method, 'INVITE');
});

test('quoted display name with escaped quote and backslash, digest params in any order with escapes', () => {
  const m = parse(crlf([
    'REGISTER sip:example.com SIP/2.0', 'From: "Mr \\"Evil\\" \\\\ Doe, Jr" <sip:evil@example.com>;tag=9',
    'To: "Mr \\"Evil\\" \\\\ Doe, Jr" <sip:evil@example.com>',
    'Proxy-Authorization: digest response="r", NONCE="n", username="ev\\"il", cnonce="c", nc=00000001, qop=auth, uri="sip:example.com", realm="x"',
    '', '',
  ]));
  assert.equal(m.from?.display, 'Mr "Evil" \\ Doe, Jr');
  assert.equal(m.from?.tag, '9');
  assert.deepEqual(m.authorization, {
    scheme: 'digest', username: 'ev"il', realm: 'x', nonce: 'n', response: 'r', uri: 'sip:example.com', qop: 'auth', cnonce: 'c', nc: '00000001',
  });
});

test('tel: URIs in the Request-URI and To; password in userinfo is not kept', () => {
  const m = parse(crlf([
    'INVITE tel:+442079460000;phone-context=example.com SIP/2.0', 'To: <tel:+442079460000>', 'From: <sip:alice:secret@example.com>;tag=1', '', '',
  ]));
  assert.ok(m.kind === 'request' && m.requestUri === 'tel:+442079460000;phone-context=example.com');
  assert.deepEqual(m.to, { uri: 'tel:+442079460000', scheme: 'tel', user: '+442079460000', params: {} });
  assert.equal(m.from?.user, 'alice');
});

test('not SIP: null', () => {
  for (const text of ['', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'OPTIONS sip:x SIP/3.0\r\n\r\n', 'SIP/2.0 99 Low\r\n\r\n',
    'OPTIONS http://x SIP/2.0\r\n\r\n', '\r\nOPTIONS sip:x SIP/2.0\r\n\r\n', 'OPTIONS  sip:x\r\n']) {
    assert.equal(parseSipMessage(text), null, JSON.stringify(text));
  }
  assert.equal(parse('SIP/2.0 200\r\n\r\n').kind, 'response');
});

test('bounds: past 64 KiB or 200 header fields is null; a truncated message still parses what it has', () => {
  assert.equal(parseSipMessage(SVMAP_OPTIONS + 'x'.repeat(64 * 1024)), null);
  assert.equal(parseSipMessage(Buffer.from(SVMAP_OPTIONS + 'x'.repeat(64 * 1024))), null);
  const many = `OPTIONS sip:x SIP/2.0\r\n${'X-A: 1\r\n'.repeat(201)}\r\n`;
  assert.equal(parseSipMessage(many), null);
  assert.ok(parseSipMessage(`OPTIONS sip:x SIP/2.0\r\n${'X-A: 1\r\n'.repeat(199)}\r\n`) !== null);
  const cut = parse(SVCRACK_REGISTER.slice(0, SVCRACK_REGISTER.indexOf('Authorization') + 40));
  assert.equal(cut.authorization?.scheme, 'Digest');
  assert.equal(cut.authorization?.response, undefined);
  const short = parse(`${INVITE_WITH_SDP.slice(0, -20)}`);
  assert.equal(short.body, INVITE_SDP_BODY.slice(0, -20));
});

function crlf(lines: string[]): string {
  return lines.join('\r\n');
}

test('provisional responses are recognised from their first bytes, and nothing else is', () => {
  assert.equal(isProvisionalResponse(Buffer.from('SIP/2.0 100 Trying\r\n\r\n')), true);
  assert.equal(isProvisionalResponse(Buffer.from('SIP/2.0 183 Session Progress\r\n\r\n')), true);
  assert.equal(isProvisionalResponse(Buffer.from('SIP/2.0 200 OK\r\n\r\n')), false);
  assert.equal(isProvisionalResponse(Buffer.from('SIP/2.0 1')), false);
  assert.equal(isProvisionalResponse(Buffer.from('INVITE sip:1@x SIP/2.0\r\n\r\n')), false);
});
