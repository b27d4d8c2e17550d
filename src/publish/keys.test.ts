import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PublishKeyConfig } from '../config/schema.js';
import { findPublishKey } from './keys.js';

describe('publish keys', () => {
  const keys: PublishKeyConfig[] = [
    { key: 'partners-0123456789', name: 'partners', evidence: 'verified', minHits: 3 },
    { key: 'honeypot-0123456789', name: 'honeypot', evidence: 'any', minHits: 1 },
  ];

  it('finds the key presented, exactly', () => {
    assert.equal(findPublishKey(keys, 'honeypot-0123456789')?.name, 'honeypot');
    assert.equal(findPublishKey(keys, 'partners-0123456789')?.name, 'partners');
    for (const wrong of ['', 'honeypot-012345678', 'honeypot-0123456789 ', 'HONEYPOT-0123456789', 'honeypot-0123456789x']) {
      assert.equal(findPublishKey(keys, wrong), undefined, JSON.stringify(wrong));
    }
    assert.equal(findPublishKey([], 'honeypot-0123456789'), undefined);
  });
});
