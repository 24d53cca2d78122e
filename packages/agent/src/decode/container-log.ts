import { parseRFC3339Bytes, type Timestamp } from './rfc3339.js';

/*
 * Turns the lines of one container log file into log entries. The format is detected from the file's first
 * line (containerd/CRI-O's CRI format, docker's json-file, or anything else as raw lines), because one node
 * can run both runtimes and a pipeline should not have to know which wrote a file.
 *
 *   CRI:    2024-05-01T12:34:56.123456789Z stdout F the line        (P instead of F: a partial line)
 *   docker: {"log":"the line\n","stream":"stdout","time":"2024-05-01T12:34:56.123456789Z"}
 *
 * Runtimes split long lines (CRI at 16 KiB into P parts ended by an F part; docker at 16 KiB into `log`
 * values without the trailing newline). The parts are joined per stream, up to `maxPartialBytes` (then what
 * was joined is emitted and joining starts again) and for up to `maxPartialAgeMs` (see `flushExpired`).
 * While a stream holds a partial line, `resumeOffset` is where it began: a restart must read it again.
 *
 * The CRI path works on the read buffer: no string and no object per line.
 */

export type LogFormat = 'cri' | 'docker' | 'raw';
export const STREAM_NAMES = ['stdout', 'stderr'] as const;
export type StreamIndex = 0 | 1;

/** One decoded entry, in an object the decoder reuses: valid only during the `emit` call. */
export interface DecodedEntry {
  stream: StreamIndex;
  seconds: number;
  nanos: number;
  buf: Uint8Array;
  start: number;
  end: number;
  /** Where the file resumes once this entry is acknowledged: after its line, or at a partial line still held. */
  resumeOffset: number;
}

export interface DecoderLimits {
  readonly maxPartialBytes: number;
  readonly maxPartialAgeMs: number;
}

const SPACE = 0x20;

class PartialLine {
  buf = Buffer.allocUnsafe(0);
  length = 0;
  /** File offset of the first part, or -1 when empty. */
  startOffset = -1;
  startedAtMs = 0;
  seconds = 0;
  nanos = 0;

  append(src: Uint8Array, start: number, end: number): void {
    const need = this.length + end - start;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, 1024));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    this.buf.set(src.subarray(start, end), this.length);
    this.length = need;
  }

  clear(): void {
    this.length = 0;
    this.startOffset = -1;
  }
}

export class ContainerLogDecoder {
  format: LogFormat | undefined;
  private readonly partials = [new PartialLine(), new PartialLine()] as const;
  private readonly entry: DecodedEntry = { stream: 0, seconds: 0, nanos: 0, buf: Buffer.alloc(0), start: 0, end: 0, resumeOffset: 0 };
  /** File offset after the last line given to `line`. */
  private consumed = 0;
  private readonly ts: Timestamp = { seconds: 0, nanos: 0 };
  private readonly scratch = Buffer.allocUnsafe(64 * 1024);

  constructor(
    private readonly limits: DecoderLimits,
    private readonly emit: (e: DecodedEntry) => void,
    private readonly nowMs: () => number = Date.now,
    /** Fixes the format instead of detecting it (raw when the pipeline has no cri or docker stage). */
    format?: LogFormat,
  ) {
    this.format = format;
  }

  /** The file offset a restart must read from: the start of a held partial line, else after the last line. */
  resumeOffset(): number {
    const [a, b] = this.partials;
    let at = this.consumed;
    if (a.startOffset >= 0 && a.startOffset < at) at = a.startOffset;
    if (b.startOffset >= 0 && b.startOffset < at) at = b.startOffset;
    return at;
  }

  /**
   * Decodes the line `buf[start, end)` (without its newline) that begins at file offset `offset`; the next
   * line begins at `nextOffset`.
   */
  line(buf: Uint8Array, start: number, end: number, offset: number, nextOffset: number): void {
    this.consumed = nextOffset;
    this.format ??= detectFormat(buf, start, end);
    if (this.format === 'cri') this.criLine(buf, start, end, offset);
    else if (this.format === 'docker') this.dockerLine(buf, start, end, offset);
    else this.rawLine(buf, start, end);
  }

  /** Whether a partial line is held (the tailer then calls flushExpired now and then). */
  holdsPartial(): boolean {
    return this.partials[0].startOffset >= 0 || this.partials[1].startOffset >= 0;
  }

  /** Emits partial lines held longer than the limit (the runtime never wrote their end). */
  flushExpired(): void {
    const now = this.nowMs();
    for (let s = 0; s < 2; s++) {
      const p = this.partials[s]!;
      if (p.startOffset >= 0 && now - p.startedAtMs >= this.limits.maxPartialAgeMs) this.flushPartial(s as StreamIndex);
    }
  }

  /** Emits every held partial line (the file ended for good). */
  flushAll(): void {
    this.flushPartial(0);
    this.flushPartial(1);
  }

  private criLine(buf: Uint8Array, start: number, end: number, offset: number): void {
    const tsEnd = buf.indexOf(SPACE, start);
    if (tsEnd < 0 || tsEnd >= end || !parseRFC3339Bytes(buf, start, tsEnd, this.ts)) return this.rawLine(buf, start, end);
    const streamStart = tsEnd + 1;
    let stream: StreamIndex;
    if (end - streamStart >= 6 && matches(buf, streamStart, 'stdout')) stream = 0;
    else if (end - streamStart >= 6 && matches(buf, streamStart, 'stderr')) stream = 1;
    else return this.rawLine(buf, start, end);
    let tag = streamStart + 6;
    if (buf[tag] !== SPACE) return this.rawLine(buf, start, end);
    tag++;
    // The tag is `P`, `F`, or several `:`-separated fields whose first is P or F (CRI allows more later).
    const partial = buf[tag] === 0x50;
    let content = buf.indexOf(SPACE, tag);
    content = content < 0 || content >= end ? end : content + 1;
    this.part(stream, partial, buf, content, end, offset);
  }

  private dockerLine(buf: Uint8Array, start: number, end: number, offset: number): void {
    let record: { log?: unknown; stream?: unknown; time?: unknown };
    try {
      record = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8')) as typeof record;
    } catch {
      return this.rawLine(buf, start, end);
    }
    if (typeof record !== 'object' || record === null || typeof record.log !== 'string') return this.rawLine(buf, start, end);
    const time = typeof record.time === 'string' ? record.time : '';
    const timeBytes = Buffer.from(time);
    if (!parseRFC3339Bytes(timeBytes, 0, timeBytes.length, this.ts)) this.now();
    const stream: StreamIndex = record.stream === 'stderr' ? 1 : 0;
    const log = record.log;
    const complete = log.endsWith('\n');
    const text = complete ? log.slice(0, log.endsWith('\r\n') ? -2 : -1) : log;
    const length = Buffer.byteLength(text);
    const bytes = length <= this.scratch.length ? this.scratch : Buffer.allocUnsafe(length);
    bytes.write(text, 0, length, 'utf8');
    this.part(stream, !complete, bytes, 0, length, offset);
  }

  private rawLine(buf: Uint8Array, start: number, end: number): void {
    this.now();
    this.send(0, this.ts.seconds, this.ts.nanos, buf, start, end);
  }

  /** A part of a line: held when partial, else emitted joined to what its stream holds. */
  private part(stream: StreamIndex, partial: boolean, buf: Uint8Array, start: number, end: number, offset: number): void {
    const held = this.partials[stream];
    if (!partial && held.startOffset < 0) return this.send(stream, this.ts.seconds, this.ts.nanos, buf, start, end);
    if (held.startOffset < 0) {
      held.startOffset = offset;
      held.startedAtMs = this.nowMs();
    }
    if (held.length + end - start > this.limits.maxPartialBytes && held.length > 0) {
      // Too long to hold: what is held goes out as one entry, this part starts the next (so a restart
      // resumes at this part).
      this.flushPartial(stream, offset);
      held.startOffset = offset;
      held.startedAtMs = this.nowMs();
    }
    held.append(buf, start, end);
    held.seconds = this.ts.seconds;
    held.nanos = this.ts.nanos;
    if (!partial) this.flushPartial(stream);
  }

  /** Emits what `stream` holds; `heldFrom` is the offset of a part about to be held in its place. */
  private flushPartial(stream: StreamIndex, heldFrom = -1): void {
    const held = this.partials[stream];
    if (held.startOffset < 0) return;
    // Cleared before sending, so the entry's resume offset no longer points at it.
    const { buf, length, seconds, nanos } = held;
    held.clear();
    this.send(stream, seconds, nanos, buf, 0, length, heldFrom);
  }

  private send(stream: StreamIndex, seconds: number, nanos: number, buf: Uint8Array, start: number, end: number, heldFrom = -1): void {
    const e = this.entry;
    const resume = this.resumeOffset();
    e.resumeOffset = heldFrom >= 0 && heldFrom < resume ? heldFrom : resume;
    e.stream = stream;
    e.seconds = seconds;
    e.nanos = nanos;
    e.buf = buf;
    e.start = start;
    e.end = end;
    this.emit(e);
  }

  private now(): void {
    const ms = this.nowMs();
    this.ts.seconds = Math.floor(ms / 1000);
    this.ts.nanos = (ms % 1000) * 1_000_000;
  }
}

function matches(buf: Uint8Array, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word.charCodeAt(i)) return false;
  return true;
}

function detectFormat(buf: Uint8Array, start: number, end: number): LogFormat {
  if (buf[start] === 0x7b) return 'docker';
  const tsEnd = buf.indexOf(SPACE, start);
  const ts: Timestamp = { seconds: 0, nanos: 0 };
  if (tsEnd > start && tsEnd < end && parseRFC3339Bytes(buf, start, tsEnd, ts)) return 'cri';
  return 'raw';
}
