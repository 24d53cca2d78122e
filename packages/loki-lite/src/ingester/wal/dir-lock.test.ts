import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StartupError } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { DirLock } from './dir-lock.js';

/* Whose lock is taken over: the process-level test (../wal-lock.test.ts) covers a live second server. */

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockAt = (target: string) => {
  dir = mkdtempSync(path.join(tmpdir(), 'dir-lock-'));
  symlinkSync(target, path.join(dir, 'loki-lite.lock'));
  return dir;
};
const startTime = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};

describe('DirLock', () => {
  it('takes over a lock whose process is gone, or that names this process (a container restarted under the same pid)', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    for (const target of [`${gone}:1`, `${process.pid}:${startTime(process.pid)}`, 'not a lock']) {
      const lock = await DirLock.acquire(lockAt(target));
      expect(readlinkSync(path.join(dir, 'loki-lite.lock'))).toBe(`${process.pid}:${startTime(process.pid)}`);
      await lock.release();
      expect(() => readlinkSync(path.join(dir, 'loki-lite.lock'))).toThrow(/ENOENT/);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a lock whose process runs, and takes over one whose pid now belongs to a process started later', async () => {
    await expect(DirLock.acquire(lockAt(`1:${startTime(1)}`))).rejects.toThrow(StartupError);
    await expect(DirLock.acquire(dir)).rejects.toThrow(/is in use by another process \(pid 1, see .*loki-lite\.lock\)/);
    rmSync(dir, { recursive: true, force: true });
    const lock = await DirLock.acquire(lockAt(`1:${Number(startTime(1)) + 1}`));
    expect(readlinkSync(path.join(dir, 'loki-lite.lock'))).toMatch(new RegExp(`^${process.pid}:`));
    await lock.release();
  });
});
