/**
 * A map whose entries leave in the order they came, by time: expiry and eviction are O(1) per entry.
 *
 * A plain Map cannot serve as the queue: V8 leaves a hole for each entry deleted at the front, and every new
 * iterator walks the holes again, so "delete the oldest, then look at the next" turns quadratic under load.
 * The queue here keeps key and time side by side; entries deleted out of order leave a stale queue slot that
 * is skipped (its time no longer matches), and the queue is rebuilt once stale slots outnumber live entries.
 */
export class TimedMap<V extends { at: number }> {
  private readonly map = new Map<string, V>();
  private keys: string[] = [];
  private times: number[] = [];
  private head = 0;

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Adds or replaces; a replaced entry moves to the back of the queue with its new time. */
  set(key: string, value: V): void {
    this.map.set(key, value);
    this.keys.push(key);
    this.times.push(value.at);
    this.compact();
  }

  delete(key: string): boolean {
    const deleted = this.map.delete(key);
    if (deleted) this.compact();
    return deleted;
  }

  /** Removes every entry with `at <= deadline` that is at the front of the queue, oldest first. */
  expire(deadline: number, onExpired?: (key: string, value: V) => void): void {
    while (this.head < this.keys.length) {
      const at = this.times[this.head]!;
      if (at > deadline) break;
      const key = this.keys[this.head]!;
      this.head++;
      const value = this.map.get(key);
      if (value !== undefined && value.at === at) {
        this.map.delete(key);
        onExpired?.(key, value);
      }
    }
    this.compact();
  }

  /** Removes and returns the oldest live entry. */
  shift(): [string, V] | undefined {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head]!;
      const at = this.times[this.head]!;
      this.head++;
      const value = this.map.get(key);
      if (value !== undefined && value.at === at) {
        this.map.delete(key);
        return [key, value];
      }
    }
    return undefined;
  }

  private compact(): void {
    const queued = this.keys.length - this.head;
    if (this.head > 4096 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    } else if (queued > 2 * this.map.size + 4096) {
      // Mostly stale slots: rebuild from the live entries, which the Map holds in insertion order.
      const keys: string[] = [];
      const times: number[] = [];
      for (const [key, value] of this.map) {
        keys.push(key);
        times.push(value.at);
      }
      this.keys = keys;
      this.times = times;
      this.head = 0;
    }
  }
}
