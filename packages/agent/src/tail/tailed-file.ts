import type { Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { ContainerLogDecoder, type DecodedEntry, type DecoderLimits, type LogFormat } from '../decode/container-log.js';
import { type FileIdentity, FileProgress, sameContentStart, startOffsets } from './progress.js';

/*
 * One open log file and a reader of it per client. A reader reads from its own offset in chunks; a chunk is
 * split at newlines and each line handed to the reader's decoder synchronously; only the bytes up to the
 * last newline are consumed, the rest is read again with the next chunk (a line being written is never
 * cut). The readers are separate so that a client whose queue is full (a slow or unreachable endpoint)
 * falls behind on its own, re-reading later from where it stopped, while the others go on. The file is
 * followed by its descriptor, not its path: after a rename it is still this file, read to its end by every
 * reader before it is let go.
 */

const NEWLINE = 0x0a;
const CHUNK = 256 * 1024;
/** A "line" with no newline in this many bytes is emitted as it is, so one runaway line cannot stall a file. */
const MAX_LINE = 8 * 1024 * 1024;

export const FINGERPRINT_BYTES = 64;

/** What a reader hands on: the entry, for its client. */
export type EmitEntry = (file: TailedFile, client: number, e: DecodedEntry) => void;

/**
 * The one buffer every reader reads into. Reads happen one at a time and a chunk's lines are decoded (and
 * copied on, into batches or held partial lines) before the next read, so one buffer serves all files and
 * clients: memory does not grow with the number of files tailed. It grows for a line longer than it (up to
 * MAX_LINE) and stays that size: shrinking it after another file's read would make the long line's reader
 * start over, again and again.
 */
export class ReadBuffer {
  buf = Buffer.allocUnsafe(CHUNK);
}

/** One client's reading of a file: its offset and its decoder (which holds that client's partial lines). */
class FileReader {
  /** Offset of the first byte not yet handed to the decoder. */
  offset: number;
  decoder: ContainerLogDecoder;

  constructor(
    private readonly file: TailedFile,
    readonly client: number,
    startOffset: number,
  ) {
    this.offset = startOffset;
    this.decoder = this.newDecoder();
  }

  newDecoder(): ContainerLogDecoder {
    return this.file.newDecoder((e) => this.file.emit(this.file, this.client, e));
  }

  /** See TailedFile.readChunk. */
  async readChunk(final: boolean): Promise<{ consumed: number; lines: number }> {
    const shared = this.file.readBuffer;
    const { bytesRead } = await this.file.handle.read(shared.buf, 0, shared.buf.length, this.offset);
    if (bytesRead === 0) return { consumed: 0, lines: 0 };
    const buf = shared.buf;
    if (this.offset === 0) this.file.noteHead(buf, bytesRead);
    let lineStart = 0;
    let lines = 0;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, lineStart);
      if (nl < 0 || nl >= bytesRead) break;
      const end = nl > lineStart && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      this.decoder.line(buf, lineStart, end, this.offset + lineStart, this.offset + nl + 1);
      lines++;
      lineStart = nl + 1;
    }
    const atEnd = bytesRead < buf.length;
    if (lineStart === 0 && !atEnd) {
      // No newline in a full buffer: grow it, or give up on finding one.
      if (buf.length < MAX_LINE) {
        shared.buf = Buffer.allocUnsafe(buf.length * 2);
        return { consumed: 0, lines: 0 };
      }
      this.decoder.line(buf, 0, bytesRead, this.offset, this.offset + bytesRead);
      lineStart = bytesRead;
      lines++;
    } else if (final && atEnd && lineStart < bytesRead) {
      this.decoder.line(buf, lineStart, bytesRead, this.offset + lineStart, this.offset + bytesRead);
      lineStart = bytesRead;
      lines++;
    }
    this.offset += lineStart;
    this.noteReadSafe();
    return { consumed: lineStart, lines };
  }

  noteReadSafe(): void {
    this.file.progress.readSafe[this.client] = this.decoder.resumeOffset();
  }
}

export class TailedFile {
  progress: FileProgress;
  readonly readers: FileReader[];
  /** The path no longer names this file (rotated or deleted): read to the end, then close. */
  detached = false;
  /** Size, modification time and link count at the last stat (no links: the file was deleted). */
  size = 0;
  mtimeMs = 0;
  links = 1;
  readonly openedAt = Date.now();

  constructor(
    readonly path: string,
    readonly handle: FileHandle,
    public identity: FileIdentity,
    /** Where reading starts: for every client, or per client (from a positions file that has them). */
    start: number | readonly number[],
    clients: number,
    private readonly limits: DecoderLimits,
    readonly emit: EmitEntry,
    private readonly fixedFormat: LogFormat | undefined,
    readonly readBuffer: ReadBuffer,
  ) {
    const starts = startOffsets(start, clients);
    this.progress = new FileProgress(path, identity, starts);
    this.readers = starts.map((offset, c) => new FileReader(this, c, offset));
  }

  newDecoder(emit: (e: DecodedEntry) => void): ContainerLogDecoder {
    return new ContainerLogDecoder(this.limits, emit, Date.now, this.fixedFormat);
  }

  /** The format the readers detected from the file's first line (undefined until one has read it). */
  get format(): LogFormat | undefined {
    for (const r of this.readers) if (r.decoder.format !== undefined) return r.decoder.format;
    return undefined;
  }

  /** The furthest any reader has read. */
  get maxOffset(): number {
    let m = 0;
    for (const r of this.readers) if (r.offset > m) m = r.offset;
    return m;
  }

  /** How far every reader has read. */
  get minOffset(): number {
    let m = Infinity;
    for (const r of this.readers) if (r.offset < m) m = r.offset;
    return m === Infinity ? 0 : m;
  }

  /**
   * Whether the file's first bytes are no longer the ones it had: it was truncated and written again
   * (copytruncate) to at least the length already read, which the size alone cannot show. A fingerprint
   * taken while the file was shorter is lengthened.
   */
  async rewritten(size: number): Promise<boolean> {
    const head = await readHead(this.handle, size);
    return !this.matchHead(head.toString('hex'));
  }

  /**
   * Lengthens a fingerprint taken while the file was shorter, from `length` bytes read at its start. A
   * full fingerprint is what tells this file from a later one given its inode after it is deleted.
   */
  noteHead(buf: Uint8Array, length: number): void {
    const bytes = Math.min(FINGERPRINT_BYTES, length);
    if (bytes <= this.identity.fingerprint.length / 2) return;
    // No match: rewritten since, which poll finds out.
    this.matchHead(Buffer.from(buf.buffer, buf.byteOffset, bytes).toString('hex'));
  }

  /** Whether `hex` of the file's first bytes fits its fingerprint; if so and it is longer, it becomes the fingerprint. */
  private matchHead(hex: string): boolean {
    if (!sameContentStart(hex, this.identity.fingerprint)) return false;
    if (hex.length > this.identity.fingerprint.length) {
      this.identity = { ...this.identity, fingerprint: hex };
      this.progress.identity = this.identity;
    }
    return true;
  }

  /** The file was truncated in place (copytruncate): every reader starts again at 0, as a new generation. */
  restartAfterTruncation(): void {
    this.progress.finished = true;
    this.identity = { ...this.identity, fingerprint: '' };
    this.progress = new FileProgress(this.path, this.identity, startOffsets(0, this.readers.length));
    for (const r of this.readers) {
      r.offset = 0;
      r.decoder = r.newDecoder();
    }
  }

  /**
   * Reads one chunk for `client` and decodes its complete lines. Returns the bytes consumed (0 at the end
   * of the data for now). With `final`, a last line without a newline is decoded too (the file will not
   * grow again).
   */
  readChunk(client: number, final: boolean): Promise<{ consumed: number; lines: number }> {
    return this.readers[client]!.readChunk(final);
  }

  /** Emits held partial lines that waited too long. */
  flushExpiredPartials(): void {
    for (const r of this.readers) {
      if (!r.decoder.holdsPartial()) continue;
      r.decoder.flushExpired();
      r.noteReadSafe();
    }
  }

  /** Gives up what is unread (the deleted-file bound): every reader is put at the end. */
  skipToEnd(): void {
    for (const r of this.readers) {
      r.offset = Math.max(r.offset, this.size);
      this.progress.readSafe[r.client] = Math.max(this.progress.readSafe[r.client]!, this.size);
    }
  }

  /** The file is done: emits what the decoders hold and marks the progress finished. */
  finish(): void {
    for (const r of this.readers) {
      r.decoder.flushAll();
      r.noteReadSafe();
    }
    this.progress.finished = true;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}

/** The first bytes of a file of `size` bytes (up to FINGERPRINT_BYTES): hex of them is its fingerprint. */
export async function readHead(handle: FileHandle, size: number): Promise<Buffer> {
  const head = Buffer.alloc(Math.max(0, Math.min(FINGERPRINT_BYTES, size)));
  const { bytesRead } = head.length > 0 ? await handle.read(head, 0, head.length, 0) : { bytesRead: 0 };
  return head.subarray(0, bytesRead);
}

/** A file as it is now: its stat, and the hex of its first bytes (its fingerprint). */
export interface FileHead {
  readonly stat: Stats;
  readonly fingerprint: string;
}

/** The stat and fingerprint of an open file. */
export async function readIdentity(handle: FileHandle): Promise<FileHead> {
  const stat = await handle.stat();
  return { stat, fingerprint: (await readHead(handle, stat.size)).toString('hex') };
}

/** The stat and fingerprint of the file at `path`; undefined when it cannot be opened (gone, or out of descriptors). */
export async function readIdentityAt(path: string): Promise<FileHead | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    return await readIdentity(handle);
  } finally {
    await handle.close();
  }
}
