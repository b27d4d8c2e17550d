import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slidingEstimate, windowStartOf } from './windows.js';

const W = 600_000;

describe('fleet windows', () => {
  it('files a time under the epoch-aligned window that holds it, whatever node computes it', () => {
    assert.equal(windowStartOf(0, W), 0);
    assert.equal(windowStartOf(W - 1, W), 0);
    assert.equal(windowStartOf(W, W), W);
    assert.equal(windowStartOf(1_700_000_123_456, W), 1_699_999_800_000);
  });

  it('counts all of the current window and the share of the previous one the sliding span still covers', () => {
    // A burst around a boundary: just after it, nearly all of the previous window counts.
    assert.equal(slidingEstimate(10, 40, 10 * W, W), 50);
    assert.ok(slidingEstimate(10, 40, 10 * W + 6_000, W) > 49);
    // Half-way through, half of the previous window.
    assert.equal(slidingEstimate(10, 40, 10 * W + W / 2, W), 30);
    // An even rate of 50 per window is estimated at 50 wherever the span ends.
    for (const at of [10 * W + 1, 10 * W + W / 4, 10 * W + W - 1]) {
      const elapsed = (at - 10 * W) / W;
      assert.ok(Math.abs(slidingEstimate(50 * elapsed, 50, at, W) - 50) < 1e-9);
    }
  });

  it('never reaches more than the events of both windows, so a key below the threshold in total never fires', () => {
    for (let at = 10 * W; at < 11 * W; at += W / 7) assert.ok(slidingEstimate(20, 29, at, W) <= 49);
  });
});
