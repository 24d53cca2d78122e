/**
 * Line bytes one client has queued and not yet had acknowledged (or dropped). The tailer stops reading for
 * that client while it is over the limit (and is woken when a batch settles), so an outage fills the files'
 * backlog on disk instead of the agent's memory, and a slow endpoint holds back only its own reading.
 */
export class QueueBudget {
  private used = 0;

  constructor(
    readonly limit: number,
    private readonly onChange: (bytes: number) => void = () => {},
  ) {}

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
