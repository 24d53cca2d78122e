import type { Label } from '../labels/labels.js';
import { NO_METADATA } from '../labels/labels.js';
import { nanosOfParts, nanosPartOf, secondsOf } from './timestamp-parts.js';

/**
 * The entries of one push request (or WAL record), column-wise over the bytes they arrived in: per entry
 * its timestamp as seconds and nanoseconds (see timestamp-parts.ts) and the [start, end) of its line in
 * `buf`. A request's streams share one set of columns, so decoding a push allocates a few arrays per request
 * rather than per stream, and moving it through validation, the ingester and the WAL needs no string, BigInt
 * or object per line.
 */
export class EntryColumns {
  count = 0;
  seconds: Float64Array;
  nanos: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
  /** Per-entry structured metadata; undefined while no entry has any. */
  metadata: Array<readonly Label[]> | undefined;

  constructor(
    readonly buf: Buffer,
    capacity = 16,
  ) {
    this.seconds = new Float64Array(capacity);
    this.nanos = new Int32Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /** Appends an entry; nanoseconds outside [0, 1e9) are carried into the seconds. */
  add(seconds: number, nanos: number, start: number, end: number, metadata: readonly Label[]): void {
    const i = this.count;
    if (i === this.seconds.length) this.grow();
    if (nanos >= 0 && nanos < 1e9) {
      this.seconds[i] = seconds;
      this.nanos[i] = nanos;
    } else {
      const carry = Math.floor(nanos / 1e9); // a malformed Timestamp: whole seconds in its nanoseconds
      this.seconds[i] = seconds + carry;
      this.nanos[i] = nanos - carry * 1e9;
    }
    this.starts[i] = start;
    this.ends[i] = end;
    if (metadata.length > 0 || this.metadata) {
      this.metadata ??= new Array<readonly Label[]>(i).fill(NO_METADATA);
      this.metadata.push(metadata);
    }
    this.count = i + 1;
  }

  private grow(): void {
    const n = this.seconds.length * 2;
    this.seconds = grown(this.seconds, new Float64Array(n));
    this.nanos = grown(this.nanos, new Int32Array(n));
    this.starts = grown(this.starts, new Int32Array(n));
    this.ends = grown(this.ends, new Int32Array(n));
  }
}

function grown<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/**
 * The entries of one pushed stream: entries [first, first + count) of its request's columns. Index `i` of
 * the methods below counts from the batch's first entry.
 */
export class EntryBatch {
  constructor(
    readonly columns: EntryColumns,
    readonly first: number,
    readonly count: number,
  ) {}

  get buf(): Buffer {
    return this.columns.buf;
  }

  timestamp(i: number): bigint {
    const k = this.first + i;
    return nanosOfParts(this.columns.seconds[k]!, this.columns.nanos[k]!);
  }

  lineBytes(i: number): number {
    const k = this.first + i;
    return this.columns.ends[k]! - this.columns.starts[k]!;
  }

  line(i: number): string {
    const k = this.first + i;
    return this.columns.buf.toString('utf8', this.columns.starts[k], this.columns.ends[k]);
  }

  /** Cuts entry i's line to its first `bytes` bytes. */
  truncateLine(i: number, bytes: number): void {
    const k = this.first + i;
    this.columns.ends[k] = this.columns.starts[k]! + bytes;
  }

  get hasMetadata(): boolean {
    return this.columns.metadata !== undefined;
  }

  structuredMetadata(i: number): readonly Label[] {
    return this.columns.metadata?.[this.first + i] ?? NO_METADATA;
  }

  /** The entries at `indices`, sharing this batch's bytes. */
  select(indices: readonly number[]): EntryBatch {
    const c = this.columns;
    const out = new EntryColumns(c.buf, Math.max(indices.length, 1));
    for (const i of indices) {
      const k = this.first + i;
      out.add(c.seconds[k]!, c.nanos[k]!, c.starts[k]!, c.ends[k]!, this.structuredMetadata(i));
    }
    return new EntryBatch(out, 0, out.count);
  }

  /** Builds a batch from line strings (JSON pushes, tests, the agent). */
  static fromEntries(entries: ReadonlyArray<{ timestamp: bigint; line: string; structuredMetadata: readonly Label[] }>): EntryBatch {
    let size = 0;
    for (const e of entries) size += Buffer.byteLength(e.line);
    const buf = Buffer.allocUnsafe(size);
    const columns = new EntryColumns(buf, Math.max(entries.length, 1));
    let pos = 0;
    for (const e of entries) {
      const n = buf.write(e.line, pos, 'utf8');
      columns.add(secondsOf(e.timestamp), nanosPartOf(e.timestamp), pos, pos + n, e.structuredMetadata);
      pos += n;
    }
    return new EntryBatch(columns, 0, columns.count);
  }

  /** The entries as objects (tests and cold paths). */
  toEntries(): Array<{ timestamp: bigint; line: string; structuredMetadata: readonly Label[] }> {
    return Array.from({ length: this.count }, (_, i) => ({ timestamp: this.timestamp(i), line: this.line(i), structuredMetadata: this.structuredMetadata(i) }));
  }
}
