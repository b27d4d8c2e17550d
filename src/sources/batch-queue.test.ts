import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { BatchQueue } from './batch-queue.js';

/** A stand-in with only what the queue calls on a socket: pause and resume, counted. */
function peer(): Socket & { pauses: number; resumes: number } {
  const fake = { pauses: 0, resumes: 0, pause() { fake.pauses++; }, resume() { fake.resumes++; } };
  return fake as unknown as Socket & { pauses: number; resumes: number };
}

describe('BatchQueue', () => {
  it('hands over at most maxBatch items, oldest first', () => {
    const queue = new BatchQueue<number>(100, 3);
    for (let i = 0; i < 7; i++) queue.push(i);
    assert.deepEqual([queue.take(), queue.take(), queue.take(), queue.take()], [[0, 1, 2], [3, 4, 5], [6], []]);
  });

  it('pauses a stream peer only when full, and resumes it once a batch brings it under the limit', () => {
    const queue = new BatchQueue<number>(4, 2);
    const socket = peer();
    queue.push(1);
    queue.holdIfFull(socket);
    assert.equal(socket.pauses, 0, 'not full: not paused');
    for (let i = 0; i < 4; i++) queue.push(i);
    assert.equal(queue.full, true);
    queue.holdIfFull(socket);
    assert.equal(socket.pauses, 1);
    queue.take();
    assert.equal(socket.resumes, 1, 'three left, under the limit of four');
    queue.take();
    assert.equal(socket.resumes, 1, 'resumed once, not again');
  });

  it('wakes a waiting consumer on push', async () => {
    const queue = new BatchQueue<string>(10, 10);
    const waited = queue.wait().then(() => queue.take());
    queue.push('x');
    assert.deepEqual(await waited, ['x']);
  });
});
