/**
 * A token bucket with golang.org/x/time/rate semantics, as Loki's rate limits use: it starts full, refills
 * at `ratePerSecond` up to `burst`, and a request for more than `burst` tokens is never allowed.
 * A rate of zero or less means no limit.
 */
export class TokenBucket {
  // Declared as numbers, not left undefined until the constructor runs: V8 then keeps them as unboxed
  // doubles updated in place, where a field that started undefined boxes every new value (an object per call).
  private tokens = 0;
  private last = 0;

  constructor(
    private ratePerSecond: number,
    private burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.last = nowMs;
  }

  get limit(): number {
    return this.ratePerSecond;
  }

  /**
   * A new rate and burst (a tenant's limits changed at a runtime config reload), as x/time/rate's SetLimit
   * and SetBurst: the tokens gathered at the old rate until `nowMs` are kept, up to the new burst.
   */
  setLimit(ratePerSecond: number, burst: number, nowMs: number): void {
    if (ratePerSecond === this.ratePerSecond && burst === this.burst) return;
    if (this.ratePerSecond > 0 && nowMs > this.last) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) / 1000) * this.ratePerSecond);
    this.last = Math.max(this.last, nowMs);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Takes `n` tokens if there are that many; otherwise takes none and returns false. */
  allowN(nowMs: number, n: number): boolean {
    if (this.ratePerSecond <= 0) return true;
    if (nowMs > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) / 1000) * this.ratePerSecond);
      this.last = nowMs;
    }
    if (n > this.tokens) return false;
    this.tokens -= n;
    return true;
  }
}
