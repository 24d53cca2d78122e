/*
 * How far each tailed file is safe to resume from, per client. Each client reads the file on its own, in
 * file order, and sends its batches in order, so for one client the acknowledged offset only grows. A
 * client with nothing in flight for the file is at its `readSafe` (everything it read is either
 * acknowledged or produced no entry), otherwise at the offset its last acknowledged entry allows. The
 * positions file records each client's and the smallest.
 */

export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  /** Hex of the file's first bytes (up to FINGERPRINT_BYTES), to tell it from a new file with a reused inode. */
  readonly fingerprint: string;
}

export class FileProgress {
  /** Entries queued or in flight per client. */
  readonly pending: number[];
  /** Per client: the resume offset its last acknowledged entry allows. */
  readonly acked: number[];
  /** Per client: the resume offset after everything it read so far (the start of a held partial line, if any). */
  readonly readSafe: number[];
  /** The file ended for good (deleted or rotated, and read to its end). */
  finished = false;
  /** When it was first seen done (finished and fully acknowledged). */
  doneAtMs: number | undefined;

  /** `starts`: where each client's reading starts (one entry per client). */
  constructor(
    public path: string,
    public identity: FileIdentity,
    starts: readonly number[],
  ) {
    this.pending = new Array<number>(starts.length).fill(0);
    this.acked = [...starts];
    this.readSafe = [...starts];
  }

  get key(): string {
    return identityKey(this.identity);
  }

  /** The offset client `c` resumes from after a restart. */
  clientPosition(c: number): number {
    return this.pending[c]! > 0 ? Math.min(this.acked[c]!, this.readSafe[c]!) : this.readSafe[c]!;
  }

  /** Every client's resume offset. */
  clientPositions(): number[] {
    return this.pending.map((_, c) => this.clientPosition(c));
  }

  /** True once the file is finished and every client has acknowledged all of it. */
  done(): boolean {
    return this.finished && this.pending.every((n) => n === 0);
  }
}

/** One start offset per client: `start` for all, or the per-client list when it has one per client. */
export function startOffsets(start: number | readonly number[], clients: number): number[] {
  if (typeof start === 'number') return new Array<number>(clients).fill(start);
  if (start.length === clients) return [...start];
  return new Array<number>(clients).fill(Math.min(...start));
}

/** Device and inode: unique among the files that exist at one time. */
export function identityKey(id: Pick<FileIdentity, 'dev' | 'ino'>): string {
  return `${id.dev}:${id.ino}`;
}

/**
 * Whether two fingerprints can belong to the same file: one is a prefix of the other, because a file first
 * seen shorter than FINGERPRINT_BYTES has a shorter fingerprint.
 */
export function sameContentStart(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}
