import type { Config } from '../config/schema.js';
import { FsObjectStore } from './fs/fs-store.js';
import type { IndexPeriod } from './log-store.js';
import { MemoryObjectStore } from './memory/memory-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore, type S3StoreOptions } from './s3/s3-store.js';

/**
 * The object store the schema config names (config validation has checked that one is configured);
 * `observeS3` is told of every S3 request (loki_s3_request_duration_seconds).
 */
export function objectStoreFromConfig(config: Config, observeS3?: S3StoreOptions['onRequest']): ObjectStore {
  const kind = config.schema_config.configs[0]!.object_store;
  switch (kind) {
    case 'filesystem':
      return new FsObjectStore(config.storage_config.filesystem!.directory);
    case 's3':
    case 'aws': {
      const s3 = config.storage_config.aws!;
      return new S3ObjectStore({
        bucket: s3.bucketnames,
        region: s3.region,
        endpoint: s3.endpoint,
        forcePathStyle: s3.s3forcepathstyle,
        insecure: s3.insecure,
        accessKeyId: s3.access_key_id,
        secretAccessKey: s3.secret_access_key,
        sessionToken: s3.session_token,
        ...(observeS3 ? { onRequest: observeS3 } : {}),
      });
    }
    case 'inmemory':
      return new MemoryObjectStore();
  }
}

export function indexPeriodsFromConfig(config: Config): IndexPeriod[] {
  return config.schema_config.configs.map((c) => ({ from: c.from, prefix: c.index.prefix }));
}
