import { open, type FileHandle } from 'node:fs/promises';
import type { OpenWalFile, WalFile } from '../ingester/wal/wal.js';

/*
 * A pretend disk for WAL tests: real files, but only `capacity` bytes may be written through it in all.
 * As on a filesystem that fills up, the write that reaches the end comes up short, and the next one fails
 * with ENOSPC. `failFsyncs` and `failTruncates` make the next fsyncs or truncates fail with EIO, as a disk
 * error would.
 */
export class LimitedDisk {
  used = 0;
  failFsyncs = 0;
  failTruncates = 0;

  constructor(public capacity: number) {}

  readonly open: OpenWalFile = async (file, flags) => new LimitedFile(this, await open(file, flags));

  readonly freeBytes = (): Promise<number> => Promise.resolve(Math.max(0, this.capacity - this.used));
}

class LimitedFile implements WalFile {
  private size = 0;

  constructor(
    private readonly disk: LimitedDisk,
    private readonly fh: FileHandle,
  ) {}

  async writev(buffers: Buffer[]): Promise<{ bytesWritten: number }> {
    const room = this.disk.capacity - this.disk.used;
    if (room <= 0) throw errno('ENOSPC', 'no space left on device, write');
    const fitting = firstBytes(buffers, room);
    const { bytesWritten } = await this.fh.writev(fitting);
    this.disk.used += bytesWritten;
    this.size += bytesWritten;
    return { bytesWritten };
  }

  async datasync(): Promise<void> {
    if (this.disk.failFsyncs > 0) {
      this.disk.failFsyncs--;
      throw errno('EIO', 'i/o error, fdatasync');
    }
    await this.fh.datasync();
  }

  sync(): Promise<void> {
    return this.datasync();
  }

  async truncate(length: number): Promise<void> {
    if (this.disk.failTruncates > 0) {
      this.disk.failTruncates--;
      throw errno('EIO', 'i/o error, ftruncate');
    }
    await this.fh.truncate(length);
    this.disk.used -= this.size - length;
    this.size = length;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

function firstBytes(buffers: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of buffers) {
    if (n <= 0) break;
    out.push(b.length <= n ? b : b.subarray(0, n));
    n -= b.length;
  }
  return out;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
