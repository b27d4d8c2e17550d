import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../core/clock.js';
import type { AlertKind } from '../alerts/types.js';
import { EVENT_KINDS, type EventKind } from '../core/event.js';
import { Metrics, NO_RULE, OTHER } from './index.js';
import { parseExposition, sampleValue } from './testing/exposition.js';

const NOW = Date.UTC(2025, 0, 1, 12);

function metrics(clock = new ManualClock(NOW)): Metrics {
  return new Metrics({ version: '9.8.7', sources: ['ast', 'hep'], rules: ['bruteforce', 'scanner', 'kernel-guard'], clock });
}

describe('Metrics', () => {
  it('renders a strict text exposition with the build info and the process metrics', async () => {
    const m = metrics();
    m.eventsSeen('ast', [{ kind: 'auth-failure', at: NOW }]);
    assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(await m.render());
    assert.equal(sampleValue(samples, 'sipwarden_build_info', { version: '9.8.7' }), 1);
    assert.ok(samples.some((s) => s.name === 'process_cpu_user_seconds_total'), 'default process metrics');
    assert.ok(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds'), 'default Node.js metrics');
  });

  it('counts events by kind and source, and keeps the lag of the newest event per source', async () => {
    const clock = new ManualClock(NOW);
    const m = metrics(clock);
    m.eventsSeen('ast', [
      { kind: 'auth-failure', at: NOW - 4000 },
      { kind: 'auth-failure', at: NOW - 2500 },
      { kind: 'scanner', at: NOW - 3000 },
    ]);
    // An older event arriving late must not make the lag of the source look worse than it is.
    clock.advance(1000);
    m.eventsSeen('ast', [{ kind: 'auth-failure', at: NOW - 60_000 }]);
    m.eventsSeen('hep', [{ kind: 'request', at: NOW + 500 }]);
    const samples = parseExposition(await m.render());
    assert.equal(sampleValue(samples, 'sipwarden_events_total', { kind: 'auth-failure', source: 'ast' }), 3);
    assert.equal(sampleValue(samples, 'sipwarden_events_total', { kind: 'scanner', source: 'ast' }), 1);
    assert.equal(sampleValue(samples, 'sipwarden_events_total', { kind: 'request', source: 'hep' }), 1);
    assert.equal(sampleValue(samples, 'sipwarden_source_lag_seconds', { source: 'ast' }), 2.5);
    assert.equal(sampleValue(samples, 'sipwarden_source_lag_seconds', { source: 'hep' }), 0.5);
  });

  it('counts decisions, parse errors and alerts; sets the active bans', async () => {
    const m = metrics();
    m.decisionMade({ action: 'ban', origin: 'rule', rule: 'bruteforce' });
    m.decisionMade({ action: 'ban', origin: 'rule', rule: 'bruteforce' });
    m.decisionMade({ action: 'ban', origin: 'manual' });
    m.decisionMade({ action: 'report', origin: 'rule', rule: 'scanner' });
    m.parseError('ast');
    m.parseError('ast', 4);
    m.setActiveBans(17);
    m.alert('known-good-ban', 'email', 'sent');
    m.alert('known-good-ban', 'email', 'rate-limited');
    m.alert('known-good-ban', 'email', 'rate-limited');
    const samples = parseExposition(await m.render());
    assert.equal(sampleValue(samples, 'sipwarden_decisions_total', { action: 'ban', origin: 'rule', rule: 'bruteforce' }), 2);
    assert.equal(sampleValue(samples, 'sipwarden_decisions_total', { action: 'ban', origin: 'manual', rule: NO_RULE }), 1);
    assert.equal(sampleValue(samples, 'sipwarden_decisions_total', { action: 'report', origin: 'rule', rule: 'scanner' }), 1);
    assert.equal(sampleValue(samples, 'sipwarden_parse_errors_total', { source: 'ast' }), 5);
    assert.equal(sampleValue(samples, 'sipwarden_active_bans'), 17);
    assert.equal(sampleValue(samples, 'sipwarden_alerts_total', { kind: 'known-good-ban', channel: 'email', outcome: 'rate-limited' }), 2);
    assert.equal(sampleValue(samples, 'sipwarden_alerts_total', { kind: 'known-good-ban', channel: 'email', outcome: 'sent' }), 1);
  });

  it('never turns attacker text into a label value: the series count stays bounded under a flood', async () => {
    const m = metrics();
    // What an attacker controls and a careless caller might pass as a label: addresses, accounts, User-Agents.
    const hostile = (i: number) => [`203.0.113.${i % 256}`, `2001:db8::${i.toString(16)}`, `acct${i}`, `friendly-scanner <b>${i}</b>`];
    for (let i = 0; i < 2000; i++) {
      for (const text of hostile(i)) {
        m.eventsSeen(text, [{ kind: text as EventKind, at: NOW }]);
        m.parseError(text);
        m.decisionMade({ action: 'ban', origin: 'rule', rule: text });
        m.alert(text as AlertKind, text, 'sent');
      }
    }
    const samples = parseExposition(await m.render()).filter((s) => s.name.startsWith('sipwarden_'));
    const values = new Set(samples.flatMap((s) => Object.values(s.labels)));
    for (const value of values) {
      assert.doesNotMatch(value, /\d+\.\d+\.\d+\.\d+|::|acct|scanner </, `label value ${value} came from attacker text`);
    }
    const allowedLabels = new Set(['kind', 'source', 'action', 'origin', 'rule', 'op', 'channel', 'outcome', 'version', 'le']);
    for (const s of samples) for (const label of Object.keys(s.labels)) assert.ok(allowedLabels.has(label), `unexpected label ${label}`);
    assert.equal(sampleValue(samples, 'sipwarden_events_total', { kind: OTHER, source: OTHER }), 8000);
    assert.equal(sampleValue(samples, 'sipwarden_decisions_total', { rule: OTHER }), 8000);
    assert.ok(samples.length < 20, `${samples.length} sipwarden_ series after 8000 hostile calls`);
  });

  it('keeps every event kind as its own label value', async () => {
    const m = metrics();
    m.eventsSeen('ast', EVENT_KINDS.map((kind) => ({ kind, at: NOW })));
    const samples = parseExposition(await m.render());
    for (const kind of EVENT_KINDS) assert.equal(sampleValue(samples, 'sipwarden_events_total', { kind, source: 'ast' }), 1, kind);
  });

  it('keeps two daemons in one process apart', async () => {
    const a = metrics();
    const b = metrics();
    a.setActiveBans(3);
    b.setActiveBans(5);
    assert.equal(sampleValue(parseExposition(await a.render()), 'sipwarden_active_bans'), 3);
    assert.equal(sampleValue(parseExposition(await b.render()), 'sipwarden_active_bans'), 5);
  });
});
