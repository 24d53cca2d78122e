import { mkdir, open, readdir, readFile, rename, rm, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { scanRecords, type WalRecord } from './record.js';
import { fsyncDir } from '../../util/fsync.js';

const SEGMENT = /^segment-(\d{8})$/;
const CHECKPOINT = /^checkpoint-(\d{8})$/;
const name = (kind: 'segment' | 'checkpoint', n: number) => `${kind}-${String(n).padStart(8, '0')}`;

export interface WalEvents {
  onFsync?(seconds: number): void;
  onCorruption?(file: string, why: string): void;
  log?(message: string): void;
}

interface Batch {
  readonly segment: number;
  readonly buffers: Buffer[];
  readonly waiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
}

/**
 * The ingester's write-ahead log (format in README.md). `append` resolves once the record is on disk;
 * records appended while a write is in flight are written and fsynced together with the next one.
 */
export class Wal {
  private segment: number;
  private readonly batches: Batch[] = [];
  private writing = false;
  private file: { segment: number; fh: FileHandle } | undefined;
  /** Callers waiting until no record of segment <= `through` is still to be written. */
  private segmentWaiters: Array<{ through: number; resolve: () => void }> = [];
  private writingSegment = -1;
  private closed = false;

  private constructor(private readonly dir: string, firstSegment: number, private readonly events: WalEvents) {
    this.segment = firstSegment;
  }

  /**
   * Opens the WAL folder, hands every record of the newest checkpoint and later segments to `apply` in
   * order, and starts a fresh segment for new records.
   */
  static async open(dir: string, apply: (rec: WalRecord) => void, events: WalEvents = {}): Promise<Wal> {
    await mkdir(dir, { recursive: true });
    const files = await readdir(dir);
    for (const f of files) if (f.endsWith('.tmp')) await rm(path.join(dir, f), { force: true });
    const checkpoints = numbers(files, CHECKPOINT);
    const segments = numbers(files, SEGMENT);
    const checkpoint = checkpoints[checkpoints.length - 1];
    let replayed = 0;
    const replayFile = async (file: string, isLast: boolean) => {
      const bytes = await readFile(path.join(dir, file));
      const scan = scanRecords(bytes);
      for (const rec of scan.records) apply(rec);
      replayed += scan.records.length;
      if (scan.torn) {
        if (isLast) {
          events.log?.(`WAL: ${file}: ${scan.torn}; truncating the torn tail (it was never acknowledged)`);
          await truncate(path.join(dir, file), scan.goodLength);
        } else {
          events.onCorruption?.(file, scan.torn);
          events.log?.(`WAL: ${file}: ${scan.torn}; the rest of this file is skipped`);
        }
      }
    };
    if (checkpoint !== undefined) await replayFile(name('checkpoint', checkpoint), false);
    const later = segments.filter((s) => checkpoint === undefined || s > checkpoint);
    for (let i = 0; i < later.length; i++) await replayFile(name('segment', later[i]!), i === later.length - 1);
    if (replayed > 0) events.log?.(`WAL: replayed ${replayed} records from ${dir}`);
    const last = Math.max(checkpoint ?? 0, ...segments, 0);
    return new Wal(dir, last + 1, events);
  }

  /** Appends an encoded record (or the parts of one, in order); resolves when it is durable. */
  append(record: Buffer | readonly Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('WAL is closed'));
    let batch = this.batches[this.batches.length - 1];
    if (!batch || batch.segment !== this.segment) {
      batch = { segment: this.segment, buffers: [], waiters: [] };
      this.batches.push(batch);
    }
    if (Buffer.isBuffer(record)) batch.buffers.push(record);
    else batch.buffers.push(...record);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.writing) void this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.batches.length > 0) {
      const batch = this.batches.shift()!;
      this.writingSegment = batch.segment;
      try {
        const fh = await this.fileFor(batch.segment);
        const start = process.hrtime.bigint();
        await fh.writev(batch.buffers);
        await fh.datasync();
        this.events.onFsync?.(Number(process.hrtime.bigint() - start) / 1e9);
        for (const w of batch.waiters) w.resolve();
      } catch (e) {
        for (const w of batch.waiters) w.reject(e as Error);
      }
      this.writingSegment = -1;
      this.wakeSegmentWaiters();
    }
    this.writing = false;
  }

  private wakeSegmentWaiters(): void {
    const oldest = this.batches[0]?.segment ?? Infinity;
    this.segmentWaiters = this.segmentWaiters.filter((w) => {
      if (oldest <= w.through) return true;
      w.resolve();
      return false;
    });
  }

  private async fileFor(segment: number): Promise<FileHandle> {
    if (this.file?.segment === segment) return this.file.fh;
    if (this.file) await this.file.fh.close();
    this.file = undefined;
    const fh = await open(path.join(this.dir, name('segment', segment)), 'a');
    await fsyncDir(this.dir);
    this.file = { segment, fh };
    return fh;
  }

  /** Ends the current segment: records appended from now on go to the next one. Returns the ended number. */
  rotate(): number {
    return this.segment++;
  }

  /** Resolves when every record appended to segments <= `through` is on disk (later ones may be pending). */
  private segmentWritten(through: number): Promise<void> {
    const pending = this.writingSegment >= 0 && this.writingSegment <= through;
    if (!pending && (this.batches[0]?.segment ?? Infinity) > through) return Promise.resolve();
    return new Promise((resolve) => this.segmentWaiters.push({ through, resolve }));
  }

  /**
   * Writes checkpoint `segment` from `records` (the snapshot taken when `segment` was rotated out), then
   * deletes the segments it replaces and older checkpoints.
   */
  async writeCheckpoint(segment: number, records: Iterable<Buffer>): Promise<void> {
    await this.segmentWritten(segment);
    const final = path.join(this.dir, name('checkpoint', segment));
    const tmp = `${final}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      let pending: Buffer[] = [];
      let size = 0;
      for (const r of records) {
        pending.push(r);
        size += r.length;
        if (size >= 1 << 20) {
          await fh.writev(pending);
          pending = [];
          size = 0;
        }
      }
      if (pending.length > 0) await fh.writev(pending);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
    await fsyncDir(this.dir);
    const files = await readdir(this.dir);
    for (const n of numbers(files, SEGMENT)) if (n <= segment) await rm(path.join(this.dir, name('segment', n)), { force: true });
    for (const n of numbers(files, CHECKPOINT)) if (n < segment) await rm(path.join(this.dir, name('checkpoint', n)), { force: true });
  }

  async close(): Promise<void> {
    await this.segmentWritten(Number.MAX_SAFE_INTEGER);
    this.closed = true;
    await this.file?.fh.close();
    this.file = undefined;
  }
}

function numbers(files: readonly string[], re: RegExp): number[] {
  return files.map((f) => re.exec(f)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
}
