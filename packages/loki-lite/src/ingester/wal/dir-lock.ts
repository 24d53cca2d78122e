import { mkdir, readlink, rm, symlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StartupError } from '@loki-lite/shared';

/*
 * One process per WAL folder. A second loki-lite started on the same folder would replay the first one's
 * live segments, truncate what it takes for a torn tail, and write segments of the same numbers: so it
 * refuses to start, naming the holder. The lock is a symbolic link whose target names the holder's pid and
 * start time: made in one atomic step, with its text inside the inode, so it can be taken on a full disk
 * (a restart after the disk filled must replay the WAL). A lock whose process is gone (kill -9, a crash, a
 * container restarted under the same pid) is taken over.
 */

const LOCK_FILE = 'loki-lite.lock';

export class DirLock {
  private constructor(
    private readonly file: string,
    private readonly identity: string,
  ) {}

  /** Takes the folder's lock, or throws StartupError naming the process that holds it. */
  static async acquire(dir: string): Promise<DirLock> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, LOCK_FILE);
    const identity = identityOf(process.pid);
    for (let attempt = 0; ; attempt++) {
      try {
        await symlink(identity, file);
        return new DirLock(file, identity);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      }
      const holder = await readHolder(file);
      if (holder !== undefined && holdsIt(holder)) {
        throw new StartupError(
          `the WAL folder ${dir} is in use by another process (pid ${holder.pid}, see ${file}): two loki-lites on one ` +
            "folder would replay each other's live WAL. Stop that one, or give this one a folder of its own (ingester.wal.dir or common.path_prefix)",
        );
      }
      await rm(file, { force: true }); // stale: its process is gone
    }
  }

  /** Gives the lock up, if it is still ours. */
  async release(): Promise<void> {
    const now = await readlink(this.file).catch(() => undefined);
    if (now === this.identity) await rm(this.file, { force: true });
  }
}

interface Holder {
  readonly pid: number;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid; '' elsewhere. */
  readonly started: string;
}

async function readHolder(file: string): Promise<Holder | undefined> {
  const text = await readlink(file).catch(() => undefined);
  const m = text === undefined ? null : /^(\d+):(\S*)$/.exec(text);
  return m ? { pid: Number(m[1]), started: m[2]! } : undefined;
}

/** Whether the process a lock names still runs (and is not this one, restarted under the same pid). */
function holdsIt(holder: Holder): boolean {
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // The pid runs (or is another user's). On Linux, a different start time means the pid was reused.
  return holder.started === '' || startTimeOf(holder.pid) === holder.started;
}

function identityOf(pid: number): string {
  return `${pid}:${startTimeOf(pid)}`;
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces), or '' without /proc. */
function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}
