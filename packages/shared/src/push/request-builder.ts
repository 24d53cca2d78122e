import type { Label } from '../labels/labels.js';

/*
 * Builds a logproto.PushRequest (layout in protobuf.ts) straight from line bytes, for shippers: each entry
 * is encoded into its stream's byte buffer as it arrives, so a batch costs one copy of each line and no
 * object per line. The request is assembled by `finish`, which writes each stream's header in front of its
 * already-encoded entries. Buffers are kept across batches (`reset`), so a busy shipper stops allocating.
 */

const TAG_STREAM = (1 << 3) | 2;
const TAG_STREAM_LABELS = (1 << 3) | 2;
const TAG_STREAM_ENTRY = (2 << 3) | 2;
const TAG_ENTRY_TIMESTAMP = (1 << 3) | 2;
const TAG_ENTRY_LINE = (2 << 3) | 2;
const TAG_ENTRY_METADATA = (3 << 3) | 2;
const TAG_TS_SECONDS = 1 << 3;
const TAG_TS_NANOS = 2 << 3;
const TAG_LABEL_NAME = (1 << 3) | 2;
const TAG_LABEL_VALUE = (2 << 3) | 2;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Size of a non-negative int64 or of a negative one (always 10 bytes in protobuf). */
function int64Size(n: number): number {
  return n < 0 ? 10 : varintSize(n);
}

class GrowableBytes {
  buf: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  varint(n: number): void {
    const buf = this.buf;
    let pos = this.length;
    while (n >= 0x80) {
      buf[pos++] = n % 128 | 0x80;
      n = Math.floor(n / 128);
    }
    buf[pos++] = n;
    this.length = pos;
  }

  /** int64 as protobuf writes it: negative numbers as their 64-bit two's complement. */
  int64(n: number): void {
    if (n >= 0) return this.varint(n);
    let big = BigInt.asUintN(64, BigInt(n));
    const buf = this.buf;
    for (let i = 0; i < 9; i++) {
      buf[this.length++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    buf[this.length++] = Number(big);
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n < 64) {
      // A loop beats the native copy for short runs (no call into C++).
      const buf = this.buf;
      let pos = this.length;
      for (let i = start; i < end; i++) buf[pos++] = src[i]!;
    } else {
      this.buf.set(src.subarray(start, end), this.length);
    }
    this.length += n;
  }

  string(s: string, byteLength: number): void {
    this.buf.write(s, this.length, byteLength, 'utf8');
    this.length += byteLength;
  }
}

class StreamEntries {
  readonly entries = new GrowableBytes(4096);
  count = 0;
  constructor(
    readonly labels: string,
    readonly labelsBytes: number,
  ) {}
}

export class PushRequestBuilder {
  private readonly streams = new Map<string, StreamEntries>();
  /** Streams with entries in the current batch, in first-use order. */
  private readonly active: StreamEntries[] = [];
  private readonly out = new GrowableBytes(1 << 16);
  private entryCount = 0;
  private encodedBytes = 0;

  /** Entries added since the last reset. */
  get entries(): number {
    return this.entryCount;
  }

  /** The size the encoded request will have (before compression), within a few bytes per stream. */
  get size(): number {
    return this.encodedBytes;
  }

  /**
   * Adds one entry: `line[start, end)` with the timestamp as Unix seconds and nanoseconds (0 ≤ nanos < 1e9),
   * to the stream with the label string `labels` (printed and sorted by the caller).
   */
  add(labels: string, seconds: number, nanos: number, line: Uint8Array, start: number, end: number, metadata: readonly Label[] | undefined = undefined): void {
    const stream = this.streamFor(labels);
    const lineLength = end - start;
    const tsLength = (seconds !== 0 ? 1 + int64Size(seconds) : 0) + (nanos !== 0 ? 1 + varintSize(nanos) : 0);
    let metadataLength = 0;
    if (metadata !== undefined) for (const l of metadata) metadataLength += labelPairSize(l);
    const entryLength = 1 + varintSize(tsLength) + tsLength + 1 + varintSize(lineLength) + lineLength + metadataLength;

    const w = stream.entries;
    w.ensure(1 + varintSize(entryLength) + entryLength);
    w.buf[w.length++] = TAG_STREAM_ENTRY;
    w.varint(entryLength);
    w.buf[w.length++] = TAG_ENTRY_TIMESTAMP;
    w.varint(tsLength);
    if (seconds !== 0) {
      w.buf[w.length++] = TAG_TS_SECONDS;
      w.int64(seconds);
    }
    if (nanos !== 0) {
      w.buf[w.length++] = TAG_TS_NANOS;
      w.varint(nanos);
    }
    w.buf[w.length++] = TAG_ENTRY_LINE;
    w.varint(lineLength);
    w.bytes(line, start, end);
    if (metadata !== undefined) for (const l of metadata) writeLabelPair(w, l);

    stream.count++;
    this.entryCount++;
    this.encodedBytes += 1 + varintSize(entryLength) + entryLength;
  }

  private streamFor(labels: string): StreamEntries {
    let stream = this.streams.get(labels);
    if (stream === undefined) {
      stream = new StreamEntries(labels, Buffer.byteLength(labels));
      this.streams.set(labels, stream);
    }
    if (stream.count === 0) {
      this.active.push(stream);
      // stream tag + its length (≤ 5 bytes) + the labels field
      this.encodedBytes += 6 + 1 + varintSize(stream.labelsBytes) + stream.labelsBytes;
    }
    return stream;
  }

  /**
   * The encoded PushRequest of everything added since the last reset. The view is valid until the next
   * `finish` or `reset`.
   */
  finish(): Buffer {
    const out = this.out;
    out.length = 0;
    for (const s of this.active) {
      const labelsField = 1 + varintSize(s.labelsBytes) + s.labelsBytes;
      const body = labelsField + s.entries.length;
      out.ensure(1 + varintSize(body) + body);
      out.buf[out.length++] = TAG_STREAM;
      out.varint(body);
      out.buf[out.length++] = TAG_STREAM_LABELS;
      out.varint(s.labelsBytes);
      out.string(s.labels, s.labelsBytes);
      out.bytes(s.entries.buf, 0, s.entries.length);
    }
    return out.buf.subarray(0, out.length);
  }

  /** Empties the batch. Streams unused for a whole batch are forgotten, so their buffers can be freed. */
  reset(): void {
    const used = new Set(this.active);
    for (const [key, s] of this.streams) if (!used.has(s)) this.streams.delete(key);
    for (const s of this.active) {
      s.entries.length = 0;
      s.count = 0;
    }
    this.active.length = 0;
    this.entryCount = 0;
    this.encodedBytes = 0;
  }
}

function labelPairSize(l: Label): number {
  const n = Buffer.byteLength(l.name);
  const v = Buffer.byteLength(l.value);
  const body = 1 + varintSize(n) + n + 1 + varintSize(v) + v;
  return 1 + varintSize(body) + body;
}

function writeLabelPair(w: GrowableBytes, l: Label): void {
  const n = Buffer.byteLength(l.name);
  const v = Buffer.byteLength(l.value);
  w.buf[w.length++] = TAG_ENTRY_METADATA;
  w.varint(1 + varintSize(n) + n + 1 + varintSize(v) + v);
  w.buf[w.length++] = TAG_LABEL_NAME;
  w.varint(n);
  w.string(l.name, n);
  w.buf[w.length++] = TAG_LABEL_VALUE;
  w.varint(v);
  w.string(l.value, v);
}
