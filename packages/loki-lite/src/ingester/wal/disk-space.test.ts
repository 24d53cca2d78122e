import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DiskSpaceGuard } from './disk-space.js';

describe('DiskSpaceGuard', () => {
  it('reads the real free space of the folder and refuses below the minimum', async () => {
    const changes: boolean[] = [];
    const tight = new DiskSpaceGuard(tmpdir(), 2 ** 60, 60_000, { onChange: (refusing) => changes.push(refusing) });
    await tight.start();
    expect(tight.refusal?.message).toContain(`free in ${tmpdir()}, below ingester.wal.min_free_disk_space`);
    expect(changes).toEqual([true]);
    tight.stop();
    const roomy = new DiskSpaceGuard(tmpdir(), 1, 60_000);
    await roomy.start();
    expect(roomy.refusal).toBeUndefined();
    roomy.stop();
  });

  it('takes pushes again once a reading finds room, and keeps its state when a reading fails', async () => {
    let free: number | Error = 10;
    const guard = new DiskSpaceGuard('/wal', 100, 60_000, {}, () => (free instanceof Error ? Promise.reject(free) : Promise.resolve(free)));
    await guard.start();
    expect(guard.refusal?.kind).toBe('unavailable');
    free = new Error('EIO');
    await guard.check();
    expect(guard.refusal).toBeDefined();
    free = 1000;
    await guard.check();
    expect(guard.refusal).toBeUndefined();
    guard.stop();
  });
});
