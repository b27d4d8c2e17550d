import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChains, parseElements, parseNftDuration } from './parse.js';

describe('nft output parsing', () => {
  it('reads durations as nft prints them', () => {
    assert.equal(parseNftDuration('1h59m59s992ms'), 7_199_992);
    assert.equal(parseNftDuration('2d'), 172_800_000);
    assert.equal(parseNftDuration('30s'), 30_000);
    assert.equal(parseNftDuration('soon'), null);
    assert.equal(parseNftDuration(''), null);
  });

  it('reads elements with counters and expiries, over several lines', () => {
    const listing = `table inet sipwarden {
\tset bannet4 {
\t\ttype ipv4_addr
\t\tflags interval,timeout
\t\tcounter
\t\telements = { 10.0.0.0/8 counter packets 12 bytes 720 timeout 1h expires 59m56s768ms,
\t\t\t     192.0.2.0/24 counter packets 0 bytes 0 }
\t}
}`;
    assert.deepEqual(parseElements(listing), [
      { key: '10.0.0.0/8', packets: 12, expiresIn: 3_596_768 },
      { key: '192.0.2.0/24', packets: 0 },
    ]);
    assert.deepEqual(parseElements('table inet sipwarden {\n\tset ban6 {\n\t}\n}'), []);
    assert.deepEqual(parseElements('elements = { 2001:db8::/32 timeout 1m expires 5s }'), [{ key: '2001:db8::/32', expiresIn: 5000 }]);
  });

  it('ignores garbage in element lists', () => {
    assert.deepEqual(parseElements('elements = { @@@, , 10.0.0.1 expires nonsense }'), [{ key: '10.0.0.1' }]);
  });

  it('reads the chains of one table only', () => {
    const listing = `table inet other {
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t}
}
table inet sipwarden {
\tchain guard {
\t}
\tchain prerouting {
\t\tcomment "sipwarden layout 1"
\t\ttype filter hook prerouting priority raw; policy accept;
\t}
}`;
    assert.deepEqual(parseChains(listing, 'sipwarden'), [
      { name: 'guard' },
      { name: 'prerouting', comment: 'sipwarden layout 1', hook: 'type filter hook prerouting priority raw; policy accept;' },
    ]);
    assert.equal(parseChains(listing, 'missing'), null);
  });
});
