import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectNotFoundError } from '../object-store.js';
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

describe('S3 request timing (loki_s3_request_duration_seconds)', () => {
  it("tells every request with Loki's operation name and instrument.ErrorCode status: 500 for any error, a missing key too", async () => {
    const seen: Array<[string, string]> = [];
    const store = await s3.newStore({
      onRequest: (operation, status, seconds) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        seen.push([operation, status]);
      },
    });
    try {
      await store.put('a/1', Buffer.from('x'));
      expect((await store.get('a/1')).toString()).toBe('x');
      await expect(store.get('a/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.list('a/')).toEqual(['a/1']);
      await store.delete('a/1');
    } finally {
      store.destroy();
    }
    expect(seen).toEqual([
      ['S3.PutObject', '200'],
      ['S3.GetObject', '200'],
      ['S3.GetObject', '500'],
      ['S3.List', '200'],
      ['S3.DeleteObject', '200'],
    ]);
  });
});
