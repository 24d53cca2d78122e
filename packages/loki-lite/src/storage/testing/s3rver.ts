import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore, type S3StoreOptions } from '../s3/s3-store.js';

export interface S3rverHandle {
  endpoint: string;
  /** A new empty bucket and a store on it. */
  /** A store on a bucket of its own; `options` adds to (or replaces) the connection settings. */
  newStore(options?: Partial<S3StoreOptions>): Promise<S3ObjectStore>;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./s3rver-child.mjs', import.meta.url));
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Starts a real S3-protocol server on 127.0.0.1 in a child process. */
export async function startS3rver(): Promise<S3rverHandle> {
  const dir = mkdtempSync(path.join(tmpdir(), 's3rver-'));
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const admin = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  let buckets = 0;
  const createBucket = async (name: string) => {
    await admin.send(new CreateBucketCommand({ Bucket: name }));
  };
  return {
    endpoint,
    createBucket,
    async newStore(options = {}) {
      const bucket = `bucket-${++buckets}`;
      await createBucket(bucket);
      return new S3ObjectStore({
        bucket,
        region: 'us-east-1',
        endpoint,
        forcePathStyle: true,
        insecure: true,
        ...S3RVER_CREDENTIALS,
        sessionToken: '',
        ...options,
      });
    },
    async stop() {
      admin.destroy();
      child.stdin!.end();
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
