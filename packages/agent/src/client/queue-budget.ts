/**
 * Line bytes read but not yet acknowledged (or dropped) by every client. Reading pauses while it is over
 * the limit, so an outage fills the files' backlog on disk instead of the agent's memory.
 */
export class QueueBudget {
  private used = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly limit: number, private readonly onChange: (bytes: number) => void = () => {}) {}

  get bytes(): number {
    return this.used;
  }

  get full(): boolean {
    return this.used >= this.limit;
  }

  take(bytes: number): void {
    this.used += bytes;
  }

  /** Called per batch, not per line. */
  settle(): void {
    this.onChange(this.used);
  }

  give(bytes: number): void {
    this.used -= bytes;
    this.onChange(this.used);
    if (this.used < this.limit && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves once there is room again. */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
