import type { Label } from '../labels/labels.js';
import { NO_METADATA } from './types.js';

/**
 * The entries of one pushed stream, column-wise over the bytes they arrived in: a timestamp and the
 * [start, end) of the line in `buf` per entry. Decoding a push and moving it through validation, the
 * ingester and the WAL needs no string or object per line; a line becomes a string only when asked for.
 */
export class EntryBatch {
  count = 0;
  timestamps: bigint[] = [];
  starts: number[] = [];
  ends: number[] = [];
  /** Per-entry structured metadata; undefined while no entry has any. */
  metadata: Array<readonly Label[]> | undefined;

  constructor(readonly buf: Buffer) {}

  add(timestamp: bigint, start: number, end: number, metadata: readonly Label[]): void {
    const i = this.count++;
    this.timestamps.push(timestamp);
    this.starts.push(start);
    this.ends.push(end);
    if (metadata.length > 0 || this.metadata) {
      this.metadata ??= new Array<readonly Label[]>(i).fill(NO_METADATA);
      this.metadata.push(metadata);
    }
  }

  lineBytes(i: number): number {
    return this.ends[i]! - this.starts[i]!;
  }

  line(i: number): string {
    return this.buf.toString('utf8', this.starts[i], this.ends[i]);
  }

  structuredMetadata(i: number): readonly Label[] {
    return this.metadata?.[i] ?? NO_METADATA;
  }

  /** The entries at `indices`, sharing this batch's bytes. */
  select(indices: readonly number[]): EntryBatch {
    const out = new EntryBatch(this.buf);
    for (const i of indices) out.add(this.timestamps[i]!, this.starts[i]!, this.ends[i]!, this.structuredMetadata(i));
    return out;
  }

  /** Builds a batch from line strings (JSON pushes, tests, the agent). */
  static fromEntries(entries: ReadonlyArray<{ timestamp: bigint; line: string; structuredMetadata: readonly Label[] }>): EntryBatch {
    let size = 0;
    for (const e of entries) size += Buffer.byteLength(e.line);
    const buf = Buffer.allocUnsafe(size);
    const batch = new EntryBatch(buf);
    let pos = 0;
    for (const e of entries) {
      const n = buf.write(e.line, pos, 'utf8');
      batch.add(e.timestamp, pos, pos + n, e.structuredMetadata);
      pos += n;
    }
    return batch;
  }

  /** The entries as objects (tests and cold paths). */
  toEntries(): Array<{ timestamp: bigint; line: string; structuredMetadata: readonly Label[] }> {
    return Array.from({ length: this.count }, (_, i) => ({ timestamp: this.timestamps[i]!, line: this.line(i), structuredMetadata: this.structuredMetadata(i) }));
  }
}
