import { spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { type ChildServer, startChild, writeChildConfig } from '../testing/child-server.js';

/*
 * One process per WAL folder: a second server on the same folder refuses to start and names the first; a
 * lock left by a server killed with SIGKILL does not stop a restart; a clean stop gives the lock up.
 */

const BIN = fileURLToPath(new URL('../../bin/loki-lite.mjs', import.meta.url));

/** Runs the bin until it exits (a second server on a held folder refuses at once). */
function runToExit(configFile: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, `-config.file=${configFile}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  }).finally(() => child.kill('SIGKILL'));
}

const exited = (s: ChildServer) =>
  new Promise<void>((resolve) => (s.process.exitCode !== null || s.process.signalCode !== null ? resolve() : s.process.once('exit', () => resolve())));

describe('the WAL folder lock', () => {
  it('refuses a second server on the same folder, naming the first; a restart after SIGKILL starts; a clean stop gives the lock up', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loki-lite-lock-'));
    const servers: ChildServer[] = [];
    const start = async () => {
      const port = await freePort();
      const server = await startChild(writeChildConfig(dir, port, ''), port);
      servers.push(server);
      return server;
    };
    try {
      const first = await start();
      const lock = path.join(dir, 'wal', 'loki-lite.lock');
      expect(readlinkSync(lock)).toMatch(new RegExp(`^${first.process.pid}:`));

      const second = await runToExit(writeChildConfig(dir, await freePort(), ''));
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`the WAL folder ${path.join(dir, 'wal')} is in use by another process (pid ${first.process.pid}, see ${lock})`);
      expect(second.stderr).not.toMatch(/\n\s+at /);
      expect((await fetch(`${first.url}/ready`)).status).toBe(200); // the first runs on, its lock untouched
      expect(readlinkSync(lock)).toMatch(new RegExp(`^${first.process.pid}:`));

      first.process.kill('SIGKILL');
      await exited(first);
      const restarted = await start(); // the lock names a process that is gone
      expect(readlinkSync(lock)).toMatch(new RegExp(`^${restarted.process.pid}:`));

      restarted.process.kill('SIGTERM');
      await exited(restarted);
      expect(restarted.process.exitCode).toBe(0);
      expect(() => readlinkSync(lock)).toThrow(/ENOENT/);
    } finally {
      for (const s of servers) s.process.kill('SIGKILL');
      await Promise.all(servers.map(exited));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
