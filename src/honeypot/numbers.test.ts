import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeDialled } from './numbers.js';

describe('dialled numbers', () => {
  it('folds the prefix variants toll-fraud probes dial (formats reference §5.3) to one key', () => {
    const variants = ['972598285108', '0972598285108', '00972598285108', '000972598285108', '011972598285108', '9011972598285108',
      '+972598285108', '++972598285108', '0+972598285108', '9011+972598285108', '%2B972598285108', '+972-59-828-5108', '+972 (59) 828.5108'];
    for (const variant of variants) assert.equal(normalizeDialled(variant), '972598285108', variant);
    assert.equal(normalizeDialled('011448708752617'), '448708752617');
    assert.equal(normalizeDialled('0018005551234'), '18005551234');
  });

  it('drops URI parameters and refuses what is not a phone number', () => {
    assert.equal(normalizeDialled('+4420794601234;phone-context=example.com'), '4420794601234');
    for (const text of ['100', '1000', 'admin', '12ab34567', '+', '', '%zz', '1234567890123456', '*97', '4420#79460123']) {
      assert.equal(normalizeDialled(text), undefined, text);
    }
  });
});
