import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FraudFinding } from './engine.js';
import { IncidentBook } from './incidents.js';

const T0 = Date.UTC(2026, 10, 19, 2, 0, 0);
const finding = (over: Partial<FraudFinding>): FraudFinding => ({
  at: T0, account: '1001', rule: 'B', severity: 'warning', metric: 'destination-tier', value: 3, threshold: 3, windowMs: 0, callIds: ['c1'], detail: 'x', ...over,
});

describe('incidents', () => {
  it('one incident per account while the attack goes on: stable id, severity only rises, every rule kept', () => {
    const book = new IncidentBook(3_600_000);
    const first = book.add(finding({ ip: '185.220.101.7' }));
    assert.equal(first.opened, true);
    const second = book.add(finding({ at: T0 + 60_000, rule: 'A1', severity: 'critical', metric: 'calls-per-minute', value: 6, threshold: 5, callIds: ['c2'] }));
    assert.equal(second.opened, false);
    assert.equal(second.escalated, true);
    assert.equal(second.incident.id, first.incident.id);
    const third = book.add(finding({ at: T0 + 120_000, rule: 'A1', severity: 'warning', value: 3 }));
    assert.equal(third.incident.severity, 'critical');
    assert.deepEqual(third.incident.rules.map((r) => [r.rule, r.severity]), [['B', 'warning'], ['A1', 'critical']], 'a later warning does not lower a critical rule');
    assert.deepEqual(third.incident.sources, ['185.220.101.7']);
    assert.deepEqual(third.incident.callIds, ['c1', 'c2']);
  });

  it('counts the calls and minutes of an account with an open incident; closes after the quiet period', () => {
    const book = new IncidentBook(3_600_000);
    const { incident } = book.add(finding({}));
    book.observeCall({ at: T0 + 1000, kind: 'call-start', account: '1001', callId: 'k1', server: 'hep', evidence: 'verified', raw: '' });
    book.observeCall({ at: T0 + 1500, kind: 'call-answer', account: '1001', callId: 'k1', server: 'hep', evidence: 'verified', raw: '' });
    book.observeCall({ at: T0 + 91_000, kind: 'call-end', account: '1001', callId: 'k1', server: 'hep', evidence: 'verified', raw: '', call: { billSec: 90 } });
    assert.deepEqual([incident.calls, incident.answered, incident.minutes], [1, 1, 1.5], 'a call seen at its start and end counts once');
    book.observeCall({ at: T0 + 95_000, kind: 'call-end', account: '1001', callId: 'cdr-only', server: 'asterisk', evidence: 'verified', raw: '', call: { billSec: 30 } });
    assert.deepEqual([incident.calls, incident.answered, incident.minutes], [2, 2, 2], 'a call seen only at its end counts too');
    assert.equal(book.observeCall({ at: T0, kind: 'call-start', account: '2002', server: 'hep', evidence: 'verified', raw: '' }), undefined);
    const later = book.add(finding({ at: T0 + 95_000 + 3_600_001 }));
    assert.equal(later.opened, true, 'quiet for longer than an hour: a new incident');
    assert.notEqual(later.incident.id, incident.id);
  });
});
