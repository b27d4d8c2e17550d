import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findAddresses, maskIp, normalizeIp, parseCidr, parseEndpoint, PrefixSet } from './ip.js';

describe('ip', () => {
  it('normalizes spellings of one address to one key', () => {
    assert.equal(normalizeIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(normalizeIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(normalizeIp('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(normalizeIp('::ffff:c000:201'), '192.0.2.1');
    assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1');
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1:::2', ':1::2', '1::2::3', 'x', '', '1.2.3.4:5060']) {
      assert.equal(normalizeIp(bad), null, bad);
    }
  });

  it('the dotted-quad fast path agrees with net.isIPv4', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '', 'a', '-1'));
    const candidate = fc.oneof(fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')), fc.string({ maxLength: 16 }));
    fc.assert(fc.property(candidate, (text) => (normalizeIp(text) === text) === isIPv4(text) || text.includes(':')), { numRuns: 5000 });
  });

  it('parses the endpoints servers print', () => {
    assert.deepEqual(parseEndpoint('192.0.2.1:5060'), { ip: '192.0.2.1', port: 5060 });
    assert.deepEqual(parseEndpoint('[2001:db8::1]:5061'), { ip: '2001:db8::1', port: 5061 });
    assert.deepEqual(parseEndpoint('2001:db8::1'), { ip: '2001:db8::1' });
    assert.equal(parseEndpoint('192.0.2.1:70000'), null);
    assert.equal(parseEndpoint('[2001:db8::1'), null);
  });

  it('prefixes: masking, parsing and the most specific match', () => {
    assert.equal(maskIp('2001:db8:1:2:3:4:5:6', 64), '2001:db8:1:2::');
    assert.equal(maskIp('192.0.2.77', 24), '192.0.2.0');
    assert.deepEqual(parseCidr('192.0.2.77/24'), { family: 4, network: '192.0.2.0', prefix: 24 });
    assert.throws(() => parseCidr('192.0.2.0/33'), /prefix length must be 0-32/);
    const set = PrefixSet.of(['10.0.0.0/8', '10.1.0.0/16', '2001:db8::/32']);
    assert.equal(set.match('10.1.2.3'), '10.1.0.0/16');
    assert.equal(set.match('10.2.2.3'), '10.0.0.0/8');
    assert.equal(set.match('2001:db8:ffff::1'), '2001:db8::/32');
    assert.equal(set.match('192.0.2.1'), null);
  });

  it('finds every address in a text, glued to a prefix or not', () => {
    assert.deepEqual(findAddresses("failed for '192.0.2.1:5060' (IP:198.51.100.2:5060) sip:2001:db8::9 [2001:db8::7]:5060"),
      ['192.0.2.1', '198.51.100.2', '2001:db8::9', '2001:db8::7']);
  });
});
