import { mkdir, open, readdir, readFile, rename, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { scanRecords, type WalRecord } from './record.js';
import { fsyncDir } from '../../util/fsync.js';

const SEGMENT = /^segment-(\d{8})$/;
const CHECKPOINT = /^checkpoint-(\d{8})$/;
const name = (kind: 'segment' | 'checkpoint', n: number) => `${kind}-${String(n).padStart(8, '0')}`;

export interface WalEvents {
  onFsync?(seconds: number): void;
  onCorruption?(file: string, why: string): void;
  /**
   * A write or fsync failed: none of `records` is durable, and each append of them rejects right after this
   * returns. Called synchronously first, so the owner can undo what the records did before anyone else (a
   * waiting flush, a checkpoint) looks at its memory.
   */
  onWriteFailed?(records: readonly Buffer[], error: Error): void;
  log?(message: string): void;
}

/** The few file operations the WAL needs (a FileHandle has them); tests pass files that run out of space. */
export interface WalFile {
  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export type OpenWalFile = (file: string, flags: 'a' | 'w') => Promise<WalFile>;

const openFile: OpenWalFile = (file, flags) => open(file, flags);

export interface WalOptions extends WalEvents {
  readonly openFile?: OpenWalFile;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

interface Batch {
  readonly segment: number;
  readonly buffers: Buffer[];
  readonly waiters: Waiter[];
}

/** The segment being appended to, and how much of it is known to be good. */
interface SegmentFile {
  readonly segment: number;
  readonly file: WalFile;
  /** Bytes of whole, fsynced records: everything acknowledged lies before this offset. */
  goodLength: number;
  /** A failed write may have left part of a record past goodLength; it is cut off before the next write. */
  torn: boolean;
}

/**
 * The ingester's write-ahead log (format in README.md). `append` resolves once the record is on disk;
 * records appended while a write is in flight are written and fsynced together with the next one.
 *
 * A batch is acknowledged only when every byte of it was written and fsynced. When a write comes up short
 * or fails (a full disk) or the fsync fails, the batch's appends reject and the segment is cut back to its
 * last good record before anything else is written to it, so an acknowledged record never lies behind a
 * torn one (replay stops at a torn record).
 */
export class Wal {
  private segment: number;
  private readonly batches: Batch[] = [];
  /** The batch being written, or undefined. */
  private inFlight: Batch | undefined;
  private current: SegmentFile | undefined;
  /** Callers waiting until no record of segment <= `through` is still to be written. */
  private segmentWaiters: Array<{ through: number; resolve: () => void }> = [];
  private closed = false;
  private failures = 0;
  private lastFailure: Error = new Error('no WAL write failed');

  private constructor(
    private readonly dir: string,
    firstSegment: number,
    private readonly events: WalEvents,
    private readonly openFile: OpenWalFile,
  ) {
    this.segment = firstSegment;
  }

  /**
   * Opens the WAL folder, hands every record of the newest checkpoint and later segments to `apply` in
   * order, and starts a fresh segment for new records.
   */
  static async open(dir: string, apply: (rec: WalRecord) => void, options: WalOptions = {}): Promise<Wal> {
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
          options.log?.(`WAL: ${file}: ${scan.torn}; truncating the torn tail (it was never acknowledged)`);
          await truncate(path.join(dir, file), scan.goodLength);
        } else {
          options.onCorruption?.(file, scan.torn);
          options.log?.(`WAL: ${file}: ${scan.torn}; the rest of this file is skipped`);
        }
      }
    };
    if (checkpoint !== undefined) await replayFile(name('checkpoint', checkpoint), false);
    const later = segments.filter((s) => checkpoint === undefined || s > checkpoint);
    for (let i = 0; i < later.length; i++) await replayFile(name('segment', later[i]!), i === later.length - 1);
    if (replayed > 0) options.log?.(`WAL: replayed ${replayed} records from ${dir}`);
    const last = Math.max(checkpoint ?? 0, ...segments, 0);
    return new Wal(dir, last + 1, options, options.openFile ?? openFile);
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
    if (!this.inFlight) void this.drain();
    return done;
  }

  /**
   * Resolves once every record appended so far is durable; rejects if any of them failed. A caller whose
   * answer depends on earlier records (a push whose entries all repeated ones still being written) waits
   * on this before it answers.
   */
  barrier(): Promise<void> {
    const last = this.batches[this.batches.length - 1] ?? this.inFlight;
    if (!last) return Promise.resolve();
    // Batches are written in order, so when the last one settles every earlier one has too.
    const failedBefore = this.failures;
    return new Promise<void>((resolve, reject) =>
      last.waiters.push({
        resolve: () => (this.failures === failedBefore ? resolve() : reject(this.lastFailure)),
        reject,
      }),
    );
  }

  private async drain(): Promise<void> {
    while (this.batches.length > 0) {
      const batch = (this.inFlight = this.batches.shift()!);
      try {
        await this.write(batch);
        for (const w of batch.waiters) w.resolve();
      } catch (e) {
        this.failures++;
        this.lastFailure = e as Error;
        this.events.onWriteFailed?.(batch.buffers, e as Error);
        for (const w of batch.waiters) w.reject(e as Error);
      }
      this.inFlight = undefined;
      this.wakeSegmentWaiters();
    }
  }

  /** Writes and fsyncs one batch whole, or leaves its segment marked torn and throws. */
  private async write(batch: Batch): Promise<void> {
    const seg = await this.segmentFile(batch.segment);
    if (seg.torn) await this.cutBack(seg);
    const start = process.hrtime.bigint();
    try {
      const bytes = await writeFully(seg.file, batch.buffers);
      await seg.file.datasync();
      seg.goodLength += bytes;
    } catch (e) {
      // Part of the batch may have reached the file (a short write before ENOSPC, or pages an fsync failed
      // to write): cut it off now if the disk lets us, else before the next write.
      seg.torn = true;
      await this.cutBack(seg).catch(() => {});
      throw e;
    }
    this.events.onFsync?.(Number(process.hrtime.bigint() - start) / 1e9);
  }

  /** Truncates a torn segment back to its last good record, durably. */
  private async cutBack(seg: SegmentFile): Promise<void> {
    await seg.file.truncate(seg.goodLength);
    await seg.file.datasync();
    seg.torn = false;
  }

  private wakeSegmentWaiters(): void {
    const oldest = this.inFlight?.segment ?? this.batches[0]?.segment ?? Infinity;
    this.segmentWaiters = this.segmentWaiters.filter((w) => {
      if (oldest <= w.through) return true;
      w.resolve();
      return false;
    });
  }

  private async segmentFile(segment: number): Promise<SegmentFile> {
    const current = this.current;
    if (current?.segment === segment) return current;
    if (current) {
      // Replay reads a torn record in any but the newest segment as corruption: leave none behind.
      if (current.torn) await this.cutBack(current);
      await current.file.close();
      this.current = undefined;
    }
    const file = await this.openFile(path.join(this.dir, name('segment', segment)), 'a');
    try {
      await fsyncDir(this.dir);
    } catch (e) {
      await file.close();
      throw e;
    }
    this.current = { segment, file, goodLength: 0, torn: false };
    return this.current;
  }

  /** Batches that failed so far; a checkpoint whose snapshot saw a failed batch's records is abandoned. */
  get failedBatches(): number {
    return this.failures;
  }

  /** Ends the current segment: records appended from now on go to the next one. Returns the ended number. */
  rotate(): number {
    return this.segment++;
  }

  /** Resolves when every record appended to segments <= `through` is written or failed (later ones may be pending). */
  private segmentWritten(through: number): Promise<void> {
    const oldest = this.inFlight?.segment ?? this.batches[0]?.segment ?? Infinity;
    if (oldest > through) return Promise.resolve();
    return new Promise((resolve) => this.segmentWaiters.push({ through, resolve }));
  }

  /**
   * Writes checkpoint `segment` from `records` (the snapshot taken when `segment` was rotated out), then
   * deletes the segments it replaces and older checkpoints. `failedBatchesAtSnapshot` is `failedBatches`
   * when the snapshot was taken: if a batch fails after that, the snapshot may hold entries that were never
   * acknowledged (and that the ingester has since taken out of memory), so the checkpoint is abandoned and
   * the segments stay. The file is written whole and fsynced under a temporary name, then renamed.
   */
  async writeCheckpoint(segment: number, records: Iterable<Buffer>, failedBatchesAtSnapshot = this.failures): Promise<void> {
    await this.segmentWritten(segment);
    if (this.failures !== failedBatchesAtSnapshot) throw new Error(`WAL checkpoint ${segment} abandoned: a WAL write failed after its snapshot was taken`);
    const final = path.join(this.dir, name('checkpoint', segment));
    const tmp = `${final}.tmp`;
    try {
      await this.writeWhole(tmp, records);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await rename(tmp, final);
    await fsyncDir(this.dir);
    const files = await readdir(this.dir);
    for (const n of numbers(files, SEGMENT)) if (n <= segment) await rm(path.join(this.dir, name('segment', n)), { force: true });
    for (const n of numbers(files, CHECKPOINT)) if (n < segment) await rm(path.join(this.dir, name('checkpoint', n)), { force: true });
  }

  private async writeWhole(file: string, records: Iterable<Buffer>): Promise<void> {
    const fh = await this.openFile(file, 'w');
    try {
      let pending: Buffer[] = [];
      let size = 0;
      for (const r of records) {
        pending.push(r);
        size += r.length;
        if (size >= 1 << 20) {
          await writeFully(fh, pending);
          pending = [];
          size = 0;
        }
      }
      if (pending.length > 0) await writeFully(fh, pending);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {
    await this.segmentWritten(Number.MAX_SAFE_INTEGER);
    this.closed = true;
    await this.current?.file.close();
    this.current = undefined;
  }
}

/**
 * Writes every byte of `buffers`, going on after a short write (a single writev may write less, as it does
 * just before a disk fills up); the next call then fails with the reason. Returns the bytes written.
 */
async function writeFully(file: WalFile, buffers: readonly Buffer[]): Promise<number> {
  let rest = buffers.filter((b) => b.length > 0);
  let total = 0;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest);
    if (bytesWritten === 0) throw new Error('write made no progress');
    total += bytesWritten;
    rest = remainingAfter(rest, bytesWritten);
  }
  return total;
}

/** What is left of `buffers` once the first `written` bytes are gone. */
function remainingAfter(buffers: readonly Buffer[], written: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && written >= buffers[i]!.length) written -= buffers[i++]!.length;
  const rest = buffers.slice(i);
  if (written > 0) rest[0] = rest[0]!.subarray(written);
  return rest;
}

function numbers(files: readonly string[], re: RegExp): number[] {
  return files
    .map((f) => re.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}
