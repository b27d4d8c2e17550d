import type { Socket } from 'node:net';

/**
 * The hand-over between a listener's sockets and its consumer: items queue until the consumer takes a batch,
 * at most `maxBatch` at a time. Past `limit` the queue is full: the listener drops datagrams (and counts them),
 * and pauses its stream peers so the kernel pushes back on them; taking a batch that brings the queue under the
 * limit resumes them. Shared by the syslog and HEP listeners.
 */
export class BatchQueue<T> {
  private items: T[] = [];
  private wake: (() => void) | undefined;
  private readonly paused = new Set<Socket>();

  constructor(
    readonly limit: number,
    readonly maxBatch: number,
  ) {}

  get length(): number {
    return this.items.length;
  }

  get full(): boolean {
    return this.items.length >= this.limit;
  }

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  /** Pauses a stream peer if the queue is full; it resumes once the consumer catches up. */
  holdIfFull(socket: Socket): void {
    if (!this.full) return;
    socket.pause();
    this.paused.add(socket);
  }

  /** A closed peer is forgotten. */
  forget(socket: Socket): void {
    this.paused.delete(socket);
  }

  /** The oldest items, at most `maxBatch`; resumes paused peers once under the limit. */
  take(): T[] {
    let batch: T[];
    if (this.items.length <= this.maxBatch) {
      batch = this.items;
      this.items = [];
    } else {
      batch = this.items.splice(0, this.maxBatch);
    }
    if (this.items.length < this.limit) {
      for (const socket of this.paused) socket.resume();
      this.paused.clear();
    }
    return batch;
  }

  /** Resolves at the next push or `notify()` (a fault, a close). */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
