import type { FileHandle } from 'node:fs/promises';
import { ContainerLogDecoder, type DecodedEntry, type DecoderLimits, type LogFormat } from '../decode/container-log.js';
import { type FileIdentity, FileProgress, sameContentStart } from './progress.js';

/*
 * One open log file, read from an offset in chunks. A chunk is split at newlines and each line handed to the
 * decoder synchronously; only the bytes up to the last newline are consumed, the rest is read again with
 * the next chunk (a line being written is never cut). The file is followed by its descriptor, not its
 * path: after a rename it is still this file, read to its end before it is let go.
 */

const NEWLINE = 0x0a;
const CHUNK = 256 * 1024;
/** A "line" with no newline in this many bytes is emitted as it is, so one runaway line cannot stall a file. */
const MAX_LINE = 8 * 1024 * 1024;

export const FINGERPRINT_BYTES = 64;

export class TailedFile {
  /** Offset of the first byte not yet handed to the decoder. */
  offset: number;
  progress: FileProgress;
  decoder: ContainerLogDecoder;
  /** The path no longer names this file (rotated or deleted): read to the end, then close. */
  detached = false;
  /** Size, modification time and link count at the last stat (no links: the file was deleted). */
  size = 0;
  mtimeMs = 0;
  links = 1;
  readonly openedAt = Date.now();
  private buf = Buffer.allocUnsafe(CHUNK);

  constructor(
    readonly path: string,
    readonly handle: FileHandle,
    public identity: FileIdentity,
    startOffset: number,
    clients: number,
    private readonly limits: DecoderLimits,
    private readonly emit: (file: TailedFile, e: DecodedEntry) => void,
    private readonly format: LogFormat | undefined,
  ) {
    this.offset = startOffset;
    this.progress = new FileProgress(path, identity, startOffset, clients);
    this.decoder = this.newDecoder();
  }

  private newDecoder(): ContainerLogDecoder {
    return new ContainerLogDecoder(this.limits, (e) => this.emit(this, e), Date.now, this.format);
  }

  /**
   * Whether the file's first bytes are no longer the ones it had: it was truncated and written again
   * (copytruncate) to at least the length already read, which the size alone cannot show. A fingerprint
   * taken while the file was shorter is lengthened.
   */
  async rewritten(size: number): Promise<boolean> {
    const want = Math.min(FINGERPRINT_BYTES, size);
    const known = this.identity.fingerprint.length / 2;
    const head = Buffer.alloc(Math.max(want, 0));
    if (want > 0) await this.handle.read(head, 0, want, 0);
    const hex = head.toString('hex');
    if (!sameContentStart(hex, this.identity.fingerprint)) return true;
    if (want > known) {
      this.identity = { ...this.identity, fingerprint: hex };
      this.progress.identity = this.identity;
    }
    return false;
  }

  /** The file was truncated in place (copytruncate): start again at its beginning, as a new generation. */
  restartAfterTruncation(): void {
    this.progress.finished = true;
    this.identity = { ...this.identity, fingerprint: '' };
    this.progress = new FileProgress(this.path, this.identity, 0, this.progress.pending.length);
    this.offset = 0;
    this.decoder = this.newDecoder();
  }

  /**
   * Reads one chunk and decodes its complete lines. Returns the bytes consumed (0 at the end of the data
   * for now). With `final`, a last line without a newline is decoded too (the file will not grow again).
   */
  async readChunk(final: boolean): Promise<{ consumed: number; lines: number }> {
    const { bytesRead } = await this.handle.read(this.buf, 0, this.buf.length, this.offset);
    if (bytesRead === 0) {
      return { consumed: 0, lines: 0 };
    }
    const buf = this.buf;
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
        this.buf = Buffer.allocUnsafe(buf.length * 2);
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
    this.progress.readSafe = this.decoder.resumeOffset();
    if (this.buf.length > CHUNK && lineStart > 0) this.buf = Buffer.allocUnsafe(CHUNK);
    return { consumed: lineStart, lines };
  }

  /** Emits held partial lines that waited too long. */
  flushExpiredPartials(): void {
    if (!this.decoder.holdsPartial()) return;
    this.decoder.flushExpired();
    this.progress.readSafe = this.decoder.resumeOffset();
  }

  /** The file is done: emits what the decoder holds and marks the progress finished. */
  finish(): void {
    this.decoder.flushAll();
    this.progress.readSafe = this.decoder.resumeOffset();
    this.progress.finished = true;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}
