import type { EntryBatch, Label } from '@loki-lite/shared';
import type { Entry } from '../chunk/entry.js';

const keyOf = (timestamp: bigint, line: string, metadata: readonly Label[]) =>
  metadata.length === 0 ? `${timestamp}\n${line}` : `${timestamp}\n${line}\n${JSON.stringify(metadata)}`;

/**
 * A multiset of entries, for taking the entries of failed pushes back out of a stream: each entry added
 * takes back one equal entry (timestamp, line and metadata). Equal entries cannot be told apart, so which
 * of several copies goes does not matter. Used only when a WAL write fails, so it favours plainness over
 * speed.
 */
export class EntrySet {
  private readonly counts = new Map<string, number>();
  /** Timestamp and line of every entry added, for `hasLine`. */
  private readonly lines = new Set<string>();
  minTs = BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000_000n;
  maxTs = -1n;

  addBatch(batch: EntryBatch): void {
    for (let i = 0; i < batch.count; i++) this.add(batch.timestamp(i), batch.line(i), batch.structuredMetadata(i));
  }

  add(timestamp: bigint, line: string, metadata: readonly Label[]): void {
    const key = keyOf(timestamp, line, metadata);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.lines.add(keyOf(timestamp, line, []));
    if (timestamp < this.minTs) this.minTs = timestamp;
    if (timestamp > this.maxTs) this.maxTs = timestamp;
  }

  /** True if an entry at `timestamp` with this line (any metadata) was added. */
  hasLine(timestamp: bigint, line: string): boolean {
    return this.lines.has(keyOf(timestamp, line, []));
  }

  /** Takes one copy of `e` out of the set; true if there was one. */
  take(e: Entry): boolean {
    const key = keyOf(e.timestamp, e.line, e.structuredMetadata);
    const n = this.counts.get(key);
    if (n === undefined) return false;
    if (n === 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
    return true;
  }
}
