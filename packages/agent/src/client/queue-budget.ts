/**
 * Line bytes read but not yet acknowledged (or dropped) by every client. The tailer stops reading while it
 * is over the limit (and is woken when a batch settles), so an outage fills the files' backlog on disk
 * instead of the agent's memory.
 */
export class QueueBudget {
  private used = 0;

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

  /** Reports the level; called per read chunk, not per line. */
  settle(): void {
    this.onChange(this.used);
  }

  give(bytes: number): void {
    this.used -= bytes;
    this.onChange(this.used);
  }
}
