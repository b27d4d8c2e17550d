/**
 * Caps bans on spoofable evidence per period. A forged-source flood can otherwise make us ban thousands of
 * innocent addresses (lesson 3); past the cap we report instead of banning and tell the operator once.
 */
export class BanBudget {
  private readonly times: number[] = [];

  constructor(readonly max: number, readonly periodMs: number) {}

  /** Records a ban at `at` if the budget allows it; false when the period is full. */
  take(at: number): boolean {
    while (this.times.length > 0 && (this.times[0] as number) <= at - this.periodMs) this.times.shift();
    if (this.times.length >= this.max) return false;
    this.times.push(at);
    return true;
  }

  used(at: number): number {
    return this.times.filter((t) => t > at - this.periodMs).length;
  }
}
