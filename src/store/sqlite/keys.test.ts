import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSipwardenError } from '../../core/errors.js';
import { cidrRange, containingStarts, ipKey } from './keys.js';

describe('address keys', () => {
  it('encodes the family and the address as fixed-width hex', () => {
    assert.equal(ipKey('203.0.113.9'), '4cb007109');
    assert.equal(ipKey('0.0.0.0'), '400000000');
    assert.equal(ipKey('2001:db8::1'), '620010db8000000000000000000000001');
    assert.equal(ipKey('::'), '6' + '0'.repeat(32));
    assert.equal(ipKey('not an address'), null);
  });

  it('gives both spellings of an address one key', () => {
    assert.equal(ipKey('::ffff:203.0.113.9'), ipKey('203.0.113.9'));
    assert.equal(ipKey('2001:DB8:0:0::1'), ipKey('2001:db8::1'));
  });

  it('sorts keys in numeric address order', () => {
    const ordered = ['0.0.0.1', '9.255.255.255', '10.0.0.0', '203.0.113.9', '255.255.255.255', '::1', '2001:db8::', 'fe80::1'];
    const keys = ordered.map((ip) => ipKey(ip) as string);
    assert.deepEqual([...keys].sort(), keys);
  });

  it('turns a prefix into the keys of its first and last address', () => {
    assert.deepEqual(cidrRange('203.0.113.77/24'), { family: 4, prefix: 24, start: '4cb007100', end: '4cb0071ff' });
    const v6 = cidrRange('2001:db8:1:2::/64');
    assert.equal(v6.start, '620010db800010002' + '0'.repeat(16));
    assert.equal(v6.end, '620010db800010002' + 'f'.repeat(16));
    assert.deepEqual(cidrRange('0.0.0.0/0'), { family: 4, prefix: 0, start: '400000000', end: '4ffffffff' });
    assert.throws(() => cidrRange('1.2.3.4/40'), (e) => isSipwardenError(e, 'SW_ERR_IP'));
  });

  it('lists the start key of every prefix containing an address', () => {
    const starts = containingStarts(cidrRange('203.0.113.9'));
    assert.ok(starts.includes(cidrRange('203.0.113.0/24').start));
    assert.ok(starts.includes(cidrRange('203.0.112.0/20').start));
    assert.ok(starts.includes(cidrRange('0.0.0.0/0').start));
    assert.ok(starts.includes(ipKey('203.0.113.9') as string));
    assert.ok(!starts.includes(ipKey('203.0.113.10') as string));
    assert.ok(containingStarts(cidrRange('2001:db8:1:2::5')).includes(cidrRange('2001:db8:1:2::/64').start));
    assert.deepEqual(containingStarts(cidrRange('10.0.0.0/8')), ['400000000', '408000000', '40a000000']);
  });
});
