import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { manualBan, revokeBan } from '../../policy/manual.js';
import { MINUTE, startHarness, type Harness } from '../harness.test.js';

/** The server-sent event stream, read as a browser's EventSource would: one fetch, the body read as it comes. */

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

interface Message {
  event: string;
  id: string;
  data: any;
}

interface Stream {
  status: number;
  contentType: string;
  /** Waits for the next message of this event type (skipping others), or fails after `ms`. */
  next(event: string, ms?: number): Promise<Message>;
  close(): void;
}

async function open(token: string): Promise<Stream> {
  const abort = new AbortController();
  const response = await fetch(`${h.url}/api/v1/stream`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const messages: Message[] = [];
  const pump = async (): Promise<void> => {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended');
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) if (!line.startsWith(':')) fields.set(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2));
      if (fields.has('event')) messages.push({ event: fields.get('event')!, id: fields.get('id') ?? '', data: JSON.parse(fields.get('data') ?? 'null') });
    }
  };
  // One read in flight at a time; a wait that times out leaves it for the next wait.
  let reading: Promise<void> | undefined;
  const read = () => (reading ??= pump().finally(() => (reading = undefined)));
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    async next(event, ms = 2000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const at = messages.findIndex((m) => m.event === event);
        if (at >= 0) return messages.splice(at, 1)[0]!;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${event} message within ${ms} ms`);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, left)));
        await Promise.race([read(), timeout]);
        clearTimeout(timer);
      }
    },
    close() {
      reading?.catch(() => undefined); // the hang-up fails the read in flight; that is the point
      abort.abort();
    },
  };
}

describe('decision stream', () => {
  it('sends a new ban made through the API as event: decision, and its revoke as event: revoke, within 2 s', async () => {
    const stream = await open(h.tokens.viewer.secret);
    try {
      assert.equal(stream.status, 200);
      assert.match(stream.contentType, /^text\/event-stream/);
      const made = await h.call('POST', '/api/v1/decisions', { token: h.tokens.operator.secret, body: { target: '203.0.113.7', duration: '1h', reason: 'stream' } });
      const id = made.json.decision.id;
      const decision = await stream.next('decision');
      assert.deepEqual([decision.id, decision.data.id, decision.data.target, decision.data.reason], [String(id), id, '203.0.113.7', 'stream']);
      h.clock.advance(MINUTE);
      await h.call('POST', `/api/v1/decisions/${id}/revoke`, { token: h.tokens.operator.secret, body: { reason: 'lifted' } });
      const revoke = await stream.next('revoke');
      assert.deepEqual([revoke.data.id, revoke.data.revokedBy, revoke.data.revokeReason], [id, 'token:operator', 'lifted']);
    } finally {
      stream.close();
    }
  });

  it('sends decisions whoever wrote them (the CLI, the daemon) to every listener, each once', async () => {
    const [a, b] = [await open(h.tokens.viewer.secret), await open(h.tokens.admin.secret)];
    try {
      const first = await manualBan(h.store, { target: '198.51.100.1', durationMs: null, reason: 'cli', actor: 'root@pbx1', now: h.clock.now() });
      const second = await manualBan(h.store, { target: '198.51.100.2', durationMs: null, reason: 'cli', actor: 'root@pbx1', now: h.clock.now() });
      for (const stream of [a, b]) {
        assert.equal((await stream.next('decision')).data.id, first.id);
        assert.equal((await stream.next('decision')).data.id, second.id);
      }
      await assert.rejects(a.next('decision', 700), /no decision message/, 'nothing sent twice');
    } finally {
      a.close();
      b.close();
    }
  });

  it('sends a revoke stamped a moment before the poll that would have skipped it (the writer read its clock first)', async () => {
    const stream = await open(h.tokens.viewer.secret);
    try {
      const d = await manualBan(h.store, { target: '198.51.100.1', durationMs: null, reason: 'x', actor: 'root', now: h.clock.now() });
      await stream.next('decision');
      h.clock.advance(MINUTE);
      await new Promise((resolve) => setTimeout(resolve, 600)); // a poll has marked the new time
      await revokeBan(h.store, d.id, { reason: 'late stamp', actor: 'root', now: h.clock.now() - 1000 });
      assert.equal((await stream.next('revoke')).data.revokeReason, 'late stamp');
      await assert.rejects(stream.next('revoke', 700), /no revoke message/, 'and only once, though every poll in the look-back sees it');
    } finally {
      stream.close();
    }
  });

  it('does not replay decisions made before the listener connected', async () => {
    await manualBan(h.store, { target: '198.51.100.1', durationMs: null, reason: 'old', actor: 'root', now: h.clock.now() });
    const stream = await open(h.tokens.viewer.secret);
    try {
      await assert.rejects(stream.next('decision', 700), /no decision message/);
    } finally {
      stream.close();
    }
  });
});
