import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ChunkId } from '../../index/types.js';
import { fsyncDir } from '../../util/fsync.js';

/** A chunk retention (or a delete) took out of the index, to be deleted from the store later. */
export interface Mark {
  readonly tenant: string;
  readonly chunk: ChunkId;
}

/** A marker file: its name, and when it was written (ns), from the name as Loki's sweeper reads its age. */
export interface MarkerFile {
  readonly name: string;
  readonly createdNs: bigint;
}

/**
 * The marker files under `<working_directory>/retention/markers/`: the chunks a compaction removed from the
 * index, kept on local disk until the sweeper has deleted them, so a compactor killed at any point finds
 * them again. Each file is written whole (a temporary file, fsync'd, renamed, the folder fsync'd) before the
 * index swap that drops its chunks, and rewritten the same way with what is left. Loki keeps these in
 * BoltDB files named by their creation time in ns; here they are JSON lines, one chunk per line, named
 * `<creation ns>-<random>` so two written in the same nanosecond of an injected clock differ.
 */
export class MarkerFiles {
  readonly dir: string;

  constructor(workingDirectory: string) {
    this.dir = path.join(workingDirectory, 'retention', 'markers');
  }

  /** Writes one marker file with `marks` (none: no file), durable when this resolves. */
  async write(marks: readonly Mark[], nowNs: bigint): Promise<MarkerFile | undefined> {
    if (marks.length === 0) return undefined;
    const file = { name: `${nowNs}-${randomBytes(4).toString('hex')}`, createdNs: nowNs };
    await this.writeWhole(file.name, marks);
    return file;
  }

  /** Every marker file, oldest first. Leftover temporary files of a write that died are removed. */
  async list(): Promise<MarkerFile[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const files: MarkerFile[] = [];
    for (const name of names) {
      const m = /^(\d+)-[0-9a-f]+$/.exec(name);
      if (m) files.push({ name, createdNs: BigInt(m[1]!) });
      else if (name.includes('.tmp-')) await rm(path.join(this.dir, name), { force: true });
    }
    return files.sort((a, b) => (a.createdNs < b.createdNs ? -1 : a.createdNs > b.createdNs ? 1 : a.name < b.name ? -1 : 1));
  }

  async read(file: MarkerFile): Promise<Mark[]> {
    const text = await readFile(path.join(this.dir, file.name), 'utf8');
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const m = JSON.parse(line) as { tenant: string; fingerprint: string; from: string; through: string; checksum: number };
        return { tenant: m.tenant, chunk: { fingerprint: m.fingerprint, from: BigInt(m.from), through: BigInt(m.through), checksum: m.checksum } };
      });
  }

  /** Keeps only `left` of a file (its chunks not deleted yet); with none left, the file goes. */
  async rewrite(file: MarkerFile, left: readonly Mark[]): Promise<void> {
    if (left.length === 0) {
      await rm(path.join(this.dir, file.name), { force: true });
      await fsyncDir(this.dir);
    } else {
      await this.writeWhole(file.name, left);
    }
  }

  private async writeWhole(name: string, marks: readonly Mark[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const target = path.join(this.dir, name);
    const tmp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(marks.map(markLine).join(''));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    await fsyncDir(this.dir);
  }
}

function markLine({ tenant, chunk }: Mark): string {
  return `${JSON.stringify({ tenant, fingerprint: chunk.fingerprint, from: String(chunk.from), through: String(chunk.through), checksum: chunk.checksum })}\n`;
}
