import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/*
 * A small tmpfs for a test, mounted without root: a holder process makes a user and mount namespace of its
 * own (util-linux `unshare`), mounts the tmpfs there and sleeps, keeping it alive while processes started in
 * it with `runWith` (`nsenter`) come and go, killed or not. The test itself reaches the files through the
 * holder's view of the filesystem in /proc.
 */
export interface PrivateTmpfs {
  /** Where the tmpfs is mounted, for processes started with `runWith`. */
  readonly dir: string;
  /** The same folder as the test process sees it. */
  readonly hostDir: string;
  readonly runWith: readonly string[];
  close(): void;
}

export async function privateTmpfs(sizeBytes: number): Promise<PrivateTmpfs> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tmpfs-'));
  const holder = spawn(
    'unshare',
    ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs -o size="$1" tmpfs "$0" && echo mounted && exec sleep 3600', dir, String(sizeBytes)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const close = () => {
    holder.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await mounted(holder);
  } catch (e) {
    close();
    throw e;
  }
  return {
    dir,
    hostDir: `/proc/${holder.pid}/root${dir}`,
    runWith: ['nsenter', `--target=${holder.pid}`, '--user', '--mount', '--preserve-credentials'],
    close,
  };
}

function mounted(holder: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    holder.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    holder.stdout!.on('data', (d: Buffer) => d.toString().includes('mounted') && resolve());
    holder.once('error', (e) => reject(new Error(`cannot start unshare (util-linux) to mount a tmpfs: ${e.message}`)));
    holder.once('exit', (code) => reject(new Error(`could not mount a tmpfs in a user namespace (exit ${code}): ${stderr}`)));
  });
}
