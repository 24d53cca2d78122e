import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ObjectNotFoundError, type ObjectStore } from '../object-store.js';
import { fsyncDir } from '../../util/fsync.js';

/**
 * The errors of reading a path where no object is: nothing there, a folder there, or an object where a folder
 * would have to be (`a/b/c` when `a/b` is an object). S3 answers all three with NoSuchKey.
 */
const NO_OBJECT_HERE = new Set(['ENOENT', 'EISDIR', 'ENOTDIR']);

/**
 * Objects as files under a root folder; a key's `/` separators become folders. A write goes to a temporary
 * file that is fsynced and then renamed into place, and the folder is fsynced, so an object is either whole
 * or absent after a crash.
 */
export class FsObjectStore implements ObjectStore {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = `filesystem:${this.root}`;
  }

  private pathOf(key: string): string {
    const p = path.resolve(this.root, key);
    if (key === '' || key.includes('\0') || !p.startsWith(this.root + path.sep)) throw new Error(`invalid object key ${JSON.stringify(key)}`);
    return p;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    await mkdir(dir, { recursive: true });
    const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    await fsyncDir(dir);
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (e) {
      if (NO_OBJECT_HERE.has((e as NodeJS.ErrnoException).code ?? '')) throw new ObjectNotFoundError(key);
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    // Only walk the folder the prefix points into; list the rest of the prefix by filtering.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash + 1);
    const keys: string[] = [];
    await this.walk(base, prefix, keys);
    return keys.sort();
  }

  private async walk(dirKey: string, prefix: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(path.join(this.root, dirKey), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw e;
    }
    for (const entry of entries) {
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        if (prefix.startsWith(key + '/') || (key + '/').startsWith(prefix) || key.startsWith(prefix)) await this.walk(key + '/', prefix, out);
      } else if (key.startsWith(prefix) && !entry.name.includes('.tmp-')) {
        out.push(key);
      }
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
