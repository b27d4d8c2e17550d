import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert, AlertKind } from './types.js';
import { DIGEST_TARGETS, RateWindows } from './window.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const MIN = 60_000;

const alert = (kind: AlertKind, target?: string, severity: Alert['severity'] = 'warning'): Alert =>
  ({ kind, severity, at: T0, subject: `${kind} ${target ?? ''}`, what: '', evidence: [], ...(target ? { target } : {}) });

describe('rate windows', () => {
  const limits = () => new RateWindows(() => ({ immediate: 3, windowMs: 10 * MIN }));

  it('sends the first `immediate` of a kind, holds the rest, and gives one batch when the window ends', () => {
    const windows = limits();
    const verdicts = Array.from({ length: 10_000 }, (_, i) => windows.admit(alert('known-good-ban', `10.0.${i >> 8}.${i & 255}`), T0 + i));
    assert.equal(verdicts.filter((v) => v === 'send').length, 3);
    assert.deepEqual(verdicts.slice(0, 4), ['send', 'send', 'send', 'held']);
    assert.equal(windows.held(), 9997);
    assert.deepEqual(windows.closeDue(T0 + 10 * MIN - 1), [], 'not before the window ends');
    const [batch, ...rest] = windows.closeDue(T0 + 10 * MIN);
    assert.equal(rest.length, 0);
    assert.equal(batch?.count, 9997);
    assert.equal(batch?.targets.length, DIGEST_TARGETS, 'a bounded list of targets');
    assert.deepEqual(batch?.targets[0], { target: '10.0.0.3', count: 1 });
    assert.equal(batch?.otherAlerts, 9997 - DIGEST_TARGETS);
    assert.equal(batch?.samples.length, 5);
    assert.equal(windows.held(), 0);
  });

  it('a flood that goes on gets one batch per window and no new immediate alerts; a quiet window resets', () => {
    const windows = limits();
    for (let i = 0; i < 5; i++) windows.admit(alert('source-down', 'ast'), T0);
    assert.equal(windows.closeDue(T0 + 10 * MIN).length, 1);
    assert.equal(windows.admit(alert('source-down', 'ast'), T0 + 11 * MIN), 'held', 'still flooding: held, not sent');
    const [second] = windows.closeDue(T0 + 20 * MIN);
    assert.deepEqual(second?.targets, [{ target: 'ast', count: 1 }]);
    assert.deepEqual(windows.closeDue(T0 + 30 * MIN), [], 'a window with nothing held ends quietly');
    assert.equal(windows.nextEnd(), undefined);
    assert.equal(windows.admit(alert('source-down', 'ast'), T0 + 31 * MIN), 'send');
  });

  it('limits each kind on its own, counts repeated targets, keeps the highest severity', () => {
    const windows = new RateWindows((kind) => ({ immediate: kind === 'fraud-incident' ? 1 : 3, windowMs: 10 * MIN }));
    for (let i = 0; i < 5; i++) windows.admit(alert('known-good-ban', '192.0.2.1'), T0);
    windows.admit(alert('fraud-incident', '1001'), T0);
    windows.admit(alert('fraud-incident', '1001', 'critical'), T0);
    windows.admit(alert('fraud-incident'), T0);
    const batches = windows.closeAll(T0 + MIN);
    const bans = batches.find((b) => b.kind === 'known-good-ban');
    const fraud = batches.find((b) => b.kind === 'fraud-incident');
    assert.deepEqual(bans?.targets, [{ target: '192.0.2.1', count: 2 }]);
    assert.equal(fraud?.count, 2);
    assert.equal(fraud?.severity, 'critical');
    assert.equal(fraud?.otherAlerts, 1, 'an alert without a target is counted, not listed');
  });
});
