import { statfs } from 'node:fs/promises';
import { formatBytes, LokiError } from '@loki-lite/shared';

/** How the guard reads the free space of a folder's filesystem; tests pass their own. */
export type FreeBytesOf = (dir: string) => Promise<number>;

const freeBytesOf: FreeBytesOf = async (dir) => {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
};

export interface DiskSpaceEvents {
  /** Free space fell below the minimum (refusing) or came back above it. */
  onChange?(refusing: boolean, freeBytes: number): void;
}

/**
 * Keeps pushes off a nearly full WAL disk. Below `minFreeBytes` the ingester refuses pushes with a 503
 * instead of starting WAL writes that would fail halfway, and it takes them again by itself once the space
 * is back (flushes and checkpoints free segments; so may an operator). The room kept free is also what a
 * checkpoint needs to be written, and only a checkpoint lets old segments go.
 *
 * The space is read every `intervalMs` and whenever a WAL write fails, not per push: a statfs per push would
 * cost a thread-pool round trip, and a write that fails between two readings is rolled back anyway.
 */
export class DiskSpaceGuard {
  private freeBytes = Number.POSITIVE_INFINITY;
  private refusing = false;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly minFreeBytes: number,
    private readonly intervalMs: number,
    private readonly events: DiskSpaceEvents = {},
    private readonly readFree: FreeBytesOf = freeBytesOf,
  ) {}

  /** Reads the free space once, then on a timer. */
  async start(): Promise<void> {
    if (this.minFreeBytes <= 0) return;
    await this.check();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The error for a push while the disk is below the minimum; undefined while there is room. */
  get refusal(): LokiError | undefined {
    if (!this.refusing) return undefined;
    return new LokiError(
      'unavailable',
      'wal_disk_full',
      `the WAL disk is nearly full: ${formatBytes(this.freeBytes)} free in ${this.dir}, below ingester.wal.min_free_disk_space (${formatBytes(this.minFreeBytes)}); pushes are refused until space is freed`,
    );
  }

  /** Reads the free space now (one reading at a time); a failed reading keeps the last state. */
  check(): Promise<void> {
    if (this.minFreeBytes <= 0) return Promise.resolve();
    this.reading ??= this.readFree(this.dir)
      .then(
        (free) => this.update(free),
        () => {},
      )
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  private update(free: number): void {
    this.freeBytes = free;
    const refusing = free < this.minFreeBytes;
    if (refusing === this.refusing) return;
    this.refusing = refusing;
    this.events.onChange?.(refusing, free);
  }
}
