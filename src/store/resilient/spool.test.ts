import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sampleDecision } from '../contract.js';
import { isConnectionError } from './connection-error.js';
import { Spool } from './spool.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fleet spool', () => {
  it('gives back, in order, what is not marked done, with the stored ids of replayed decisions; a torn tail is ignored', () => {
    const path = join(dir, 'state', 'spool.ndjson');
    const first = Spool.open(path);
    assert.deepEqual(first.contents, { pending: [], replayed: new Map(), lowestId: 0 });
    const a = first.spool.append({ op: 'decision', id: -1, decision: sampleDecision({ target: '192.0.2.1' }) });
    const b = first.spool.append({ op: 'audit', entry: { at: 1, actor: 'root', action: 'ban', target: '192.0.2.1', reason: 'r', detail: 'decision -1' } });
    first.spool.append({ op: 'decision', id: -2, decision: sampleDecision({ target: '192.0.2.2' }) });
    first.spool.append({ op: 'known-good', ip: '192.0.2.9', account: '1001', at: 1 }, false);
    first.spool.done(a, 41);
    first.spool.done(b);
    first.spool.close();
    appendFileSync(path, '{"seq":9,"op":"decis');

    const second = Spool.open(path);
    assert.deepEqual(second.contents.pending.map((r) => r.op === 'decision' ? r.decision.target : r.op), ['192.0.2.2', 'known-good']);
    assert.deepEqual([...second.contents.replayed], [[-1, 41]]);
    assert.equal(second.contents.lowestId, -2, 'new provisional ids start below every id a spooled write may name');
    const next = second.spool.append({ op: 'known-good', ip: '192.0.2.9', account: '1001', at: 2 });
    assert.ok(next > 4, `sequence numbers go on after those in the file (${next})`);
    second.spool.clear();
    second.spool.close();
    assert.equal(readFileSync(path, 'utf8'), '');
    assert.deepEqual(Spool.open(path).contents.pending, []);
  });
});

describe('isConnectionError', () => {
  const wrapped = (cause: unknown): Error => new Error('store addDecision failed', { cause });
  const coded = (message: string, code: string): Error => Object.assign(new Error(message), { code });

  it('is true for a server that is down, restarting or gone mid-query, however deep the cause', () => {
    assert.ok(isConnectionError(wrapped(coded('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))));
    assert.ok(isConnectionError(wrapped(coded('the database system is starting up', '57P03'))));
    assert.ok(isConnectionError(coded('terminating connection due to administrator command', '57P01')));
    assert.ok(isConnectionError(coded('connection failure', '08006')));
    assert.ok(isConnectionError(wrapped(new Error('Connection terminated unexpectedly'))));
    assert.ok(isConnectionError(new AggregateError([coded('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed')));
  });

  it('is false for a write the server refused for what it is', () => {
    assert.ok(!isConnectionError(wrapped(coded('duplicate key value violates unique constraint', '23505'))));
    assert.ok(!isConnectionError(coded('invalid input syntax for type inet', '22P02')));
    assert.ok(!isConnectionError(coded('password authentication failed for user "sipwarden"', '28P01')));
    assert.ok(!isConnectionError('ECONNREFUSED'));
  });
});
