import type { Labels } from '@loki-lite/shared';

/*
 * A range aggregation's samples of one stream, as an ingester answers them (Loki's QuerySample): every line
 * of the stream that passed the pipeline, as its series (the labels after the pipeline and grouping), time,
 * size and value, with a hash of the line as read. The querier folds them with the lines it reads from the
 * store, and the hash is how it recognises a line it reads there that the ingester already counted (a chunk
 * flushed while the query ran, or still held for chunk_retain_period): samples are deduplicated before they
 * are aggregated, because a sum cannot be deduplicated after.
 */

export interface StreamSampleList {
  /** The stream's labels (with __tenant_id__ in a multi-tenant query), and printed: the join key with the store. */
  readonly labels: Labels;
  readonly key: string;
  /** The series the samples fall in; `seriesIndex` points into it. */
  readonly series: Labels[];
  /*
   * Columns, one entry per sample: typed arrays, so that a list crosses to and from a worker thread (or a
   * network peer) as a few buffers, not as half a million objects.
   */
  readonly seriesIndex: Uint32Array;
  /** Sorted, forward. */
  readonly timestamps: BigInt64Array;
  /** Each line's size in UTF-8 bytes (0 unless the query's function reads it). */
  readonly bytes: Float64Array;
  /** The unwrapped value (0 without unwrap). */
  readonly values: Float64Array;
  /** lineHash of each sample's line as read, before the pipeline changed it. */
  readonly hashes: Float64Array;
}

/**
 * A 53-bit identity of a line: FNV-1a over its UTF-16 code units with the length beside it. With the
 * timestamp and the stream it tells a line from the others at the same time; Loki hashes a sample's line
 * for the same purpose (xxhash). Code units, not UTF-8 bytes: both sides hash the same decoded string.
 */
export function lineHash(line: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193);
  return (h >>> 0) * 0x200000 + (line.length & 0x1fffff);
}

/** Collects one stream's samples into a StreamSampleList, its series numbered in the order they appear. */
export class SampleListBuilder {
  private readonly series: Labels[] = [];
  /** The shard's series id -> this list's series index. */
  private readonly local = new Map<number, number>();
  private n = 0;
  private seriesIndex = new Uint32Array(64);
  private timestamps = new BigInt64Array(64);
  private bytes = new Float64Array(64);
  private values = new Float64Array(64);
  private hashes = new Float64Array(64);

  constructor(
    private readonly labels: Labels,
    private readonly key: string,
  ) {}

  get size(): number {
    return this.n;
  }

  add(series: number, seriesLabels: Labels, ts: bigint, bytes: number, value: number, line: string): void {
    let index = this.local.get(series);
    if (index === undefined) this.local.set(series, (index = this.series.push(seriesLabels) - 1));
    if (this.n === this.timestamps.length) this.grow();
    const i = this.n++;
    this.seriesIndex[i] = index;
    this.timestamps[i] = ts;
    this.bytes[i] = bytes;
    this.values[i] = value;
    this.hashes[i] = lineHash(line);
  }

  /** The list, its columns cut to size (so that their buffers hold nothing else). */
  build(): StreamSampleList {
    const { n } = this;
    return {
      labels: this.labels,
      key: this.key,
      series: this.series,
      seriesIndex: this.seriesIndex.slice(0, n),
      timestamps: this.timestamps.slice(0, n),
      bytes: this.bytes.slice(0, n),
      values: this.values.slice(0, n),
      hashes: this.hashes.slice(0, n),
    };
  }

  private grow(): void {
    const size = this.n * 2;
    const grown = <T extends Uint32Array | BigInt64Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a as never);
      return b;
    };
    this.seriesIndex = grown(this.seriesIndex, (k) => new Uint32Array(k));
    this.timestamps = grown(this.timestamps, (k) => new BigInt64Array(k));
    this.bytes = grown(this.bytes, (k) => new Float64Array(k));
    this.values = grown(this.values, (k) => new Float64Array(k));
    this.hashes = grown(this.hashes, (k) => new Float64Array(k));
  }
}

/** The list's samples with lo <= timestamp < hi (a shard's time range), or undefined when none. */
export function sampleListWithin(list: StreamSampleList, lo: bigint, hi: bigint): StreamSampleList | undefined {
  const a = firstAtOrAfter(list.timestamps, lo);
  const b = firstAtOrAfter(list.timestamps, hi);
  if (a >= b) return undefined;
  if (a === 0 && b === list.timestamps.length) return list;
  // Copies, not views: a view posted to a worker would carry its whole buffer.
  return {
    labels: list.labels,
    key: list.key,
    series: list.series,
    seriesIndex: list.seriesIndex.slice(a, b),
    timestamps: list.timestamps.slice(a, b),
    bytes: list.bytes.slice(a, b),
    values: list.values.slice(a, b),
    hashes: list.hashes.slice(a, b),
  };
}

/** The buffers of sample lists, for a postMessage transfer list. */
export function sampleListBuffers(lists: readonly StreamSampleList[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const l of lists) for (const a of [l.seriesIndex, l.timestamps, l.bytes, l.values, l.hashes]) out.push(a.buffer as ArrayBuffer);
  return out;
}

function firstAtOrAfter(sorted: BigInt64Array, t: bigint): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Walks an ingester's samples of a stream beside the merge of its stored chunks: the samples are handed on
 * in time order between the stored lines, and a stored line that is one of them (same time, same line) is
 * recognised so that it is not counted twice.
 */
export class SampleListCursor {
  private at = 0;

  /** `emit` gets each sample with the list's series index. */
  constructor(
    private readonly list: StreamSampleList,
    private readonly emit: (seriesIndex: number, ts: bigint, bytes: number, value: number) => void,
  ) {}

  /** Hands on the samples before `ts`. */
  emitBefore(ts: bigint): void {
    const { list } = this;
    const n = list.timestamps.length;
    while (this.at < n && list.timestamps[this.at]! < ts) this.emitAt(this.at++);
  }

  /** Whether a stored line at `ts` (after emitBefore(ts)) is one of the samples. Hashes only on a time match. */
  has(ts: bigint, line: string): boolean {
    const { timestamps, hashes } = this.list;
    if (this.at >= timestamps.length || timestamps[this.at] !== ts) return false;
    const hash = lineHash(line);
    for (let i = this.at; i < timestamps.length && timestamps[i] === ts; i++) if (hashes[i] === hash) return true;
    return false;
  }

  /** Hands on the samples left. */
  emitRest(): void {
    const n = this.list.timestamps.length;
    while (this.at < n) this.emitAt(this.at++);
  }

  private emitAt(i: number): void {
    const { list } = this;
    this.emit(list.seriesIndex[i]!, list.timestamps[i]!, list.bytes[i]!, list.values[i]!);
  }
}
