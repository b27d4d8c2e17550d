import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseDigest } from '../parsers/sip/fields.js';
import { credentialCheck, digestCheck } from './digest.js';
import { NonceIssuer } from './nonce.js';
import { recoverPassword, svcrackTagPassword } from './passwords.js';
import { svcrackTag } from './testing.js';

describe('digest: the RFC test vectors', () => {
  it('RFC 2617 §3.5 (MD5, qop=auth)', () => {
    const check = digestCheck({
      username: 'Mufasa', realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', uri: '/dir/index.html',
      method: 'GET', qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
    }, '6629fae49393a05397450978507c4ef1');
    assert.equal(check?.matches('Circle Of Life'), true);
    assert.equal(check?.matches('circle of life'), false);
  });

  it('RFC 7616 §3.9.1 (SHA-256 and MD5)', () => {
    const input = {
      username: 'Mufasa', realm: 'http-auth@example.org', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', uri: '/dir/index.html',
      method: 'GET', qop: 'auth', nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    assert.equal(digestCheck({ ...input, algorithm: 'SHA-256' }, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1')?.matches('Circle of Life'), true);
    assert.equal(digestCheck({ ...input, algorithm: 'MD5' }, '8CA523F5E9506FED4657C9700EEBDBEC')?.matches('Circle of Life'), true, 'hex case does not matter');
  });

  it('refuses what it cannot check: auth-int, unknown algorithms, sessions without cnonce, missing fields', () => {
    const base = { username: 'u', realm: 'r', nonce: 'n', uri: 'sip:x', method: 'REGISTER' };
    assert.equal(digestCheck({ ...base, qop: 'auth-int' }, 'x'), null);
    assert.equal(digestCheck({ ...base, algorithm: 'SHA-512-256' }, 'x'), null);
    assert.equal(digestCheck({ ...base, algorithm: 'MD5-sess' }, 'x'), null);
    assert.equal(credentialCheck(parseDigest('Digest username="u",realm="r",nonce="n",uri="sip:x"')!, 'REGISTER'), null, 'no response');
    assert.equal(credentialCheck(parseDigest('Basic dTpw')!, 'REGISTER'), null);
  });
});

describe('nonces', () => {
  const source = { transport: 'udp', ip: '203.0.113.9', port: 5060 };
  const T0 = 1_700_000_000_000;

  it('look like Asterisk\'s, are unique, and come back fresh, then stale, then foreign', () => {
    const issuer = new NonceIssuer({ secret: Buffer.alloc(32, 1), lifetimeMs: 32_000, staleMs: 60_000 });
    const nonce = issuer.issue(source, T0);
    assert.match(nonce, /^1700000000\/[0-9a-f]{32}$/);
    assert.notEqual(issuer.issue(source, T0), nonce);
    assert.equal(issuer.check(nonce, source, T0 + 32_000), 'fresh');
    assert.equal(issuer.check(nonce, source, T0 + 33_000), 'stale');
    assert.equal(issuer.check(nonce, source, T0 + 93_000), 'foreign');
    assert.equal(issuer.check(nonce, source, T0 - 120_000), 'foreign', 'from the future');
  });

  it('are bound to transport, address and port, and to the secret', () => {
    const issuer = new NonceIssuer({ secret: Buffer.alloc(32, 1) });
    const nonce = issuer.issue(source, T0);
    assert.equal(issuer.check(nonce, { ...source, port: 5061 }, T0), 'foreign');
    assert.equal(issuer.check(nonce, { ...source, ip: '203.0.113.10' }, T0), 'foreign');
    assert.equal(issuer.check(nonce, { ...source, transport: 'tcp' }, T0), 'foreign');
    assert.equal(new NonceIssuer().check(nonce, source, T0), 'foreign');
    const [seconds, rest] = nonce.split('/') as [string, string];
    assert.equal(issuer.check(`${Number(seconds) + 1}/${rest}`, source, T0), 'foreign', 'the time is covered by the MAC');
    assert.equal(issuer.check('garbage', source, T0), 'foreign');
  });
});

describe('password recovery', () => {
  it('reads svcrack\'s tag, and nothing from tags of other shapes', () => {
    assert.equal(svcrackTagPassword(svcrackTag('100', 'pa:ss')), 'pa:ss');
    assert.equal(svcrackTagPassword('3130303a3132333401333432373234323235'), '1234');
    assert.equal(svcrackTagPassword('333237313233323638300131343639333933303536'), undefined, 'svwar: no colon');
    assert.equal(svcrackTagPassword('3206210844'), undefined);
    assert.equal(svcrackTagPassword('zz'), undefined);
    assert.equal(svcrackTagPassword(undefined), undefined);
  });

  it('trusts a claimed password only when the response confirms it', () => {
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const input = { username: '100', realm: 'asterisk', nonce: 'n', uri: 'sip:x', method: 'REGISTER' };
    const answer = (password: string) => digestCheck(input, md5(`${md5(`100:asterisk:${password}`)}:n:${md5('REGISTER:sip:x')}`))!;
    assert.equal(recoverPassword(answer('wombat-9'), '100', 'wombat-9', []), 'wombat-9');
    assert.equal(recoverPassword(answer('wombat-9'), '100', 'claimed', ['100']), undefined, 'a tag that lies is not believed');
    assert.equal(recoverPassword(answer('100'), '100', 'claimed', []), '100', 'the user name as password');
    assert.equal(recoverPassword(answer('letmein'), '100', undefined, []), 'letmein');
  });
});
