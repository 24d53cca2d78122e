import { afterAll, beforeAll } from 'vitest';
import { describeObjectStoreConformance } from '../testing/conformance.js';
import { type S3rverHandle, startS3rver } from '../testing/s3rver.js';

let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});

describeObjectStoreConformance('s3 (s3rver on 127.0.0.1)', () => s3.newStore());
