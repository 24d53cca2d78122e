import { open } from 'node:fs/promises';

/** fsyncs a folder, so a file just created or renamed in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
