import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ObjectNotFoundError, type ObjectStore } from '../object-store.js';

type S3Sdk = typeof import('@aws-sdk/client-s3');

/**
 * The SDK is loaded when the first S3 store is made, not with this module: it costs about 20 MB of memory,
 * which a process on the filesystem store (the embedded default) would carry for nothing.
 */
let sdk: Promise<S3Sdk> | undefined;
const loadSdk = (): Promise<S3Sdk> => {
  // The SDK otherwise prints a ten-line notice on stderr that its 2027 releases will need Node 22: not
  // logfmt, and nothing an operator of this release can act on. A value the operator set is kept.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return (sdk ??= import('@aws-sdk/client-s3'));
};

export interface S3StoreOptions {
  bucket: string;
  region: string;
  /** Custom endpoint (MinIO, s3rver, ...); empty for AWS. A bare host gets https:// (http:// when insecure). */
  endpoint: string;
  forcePathStyle: boolean;
  insecure: boolean;
  /** Static credentials; when empty the AWS default chain is used (env, profile, IRSA web identity, IMDS). */
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /**
   * Told of every request: Loki's operation name (`S3.GetObject`, `S3.PutObject`, `S3.List`,
   * `S3.DeleteObject`), its status as Loki's instrument.ErrorCode gives it ("200", or "500" for any error,
   * a missing key included) and how long it took. Feeds loki_s3_request_duration_seconds.
   */
  onRequest?: (operation: S3Operation, statusCode: '200' | '500', seconds: number) => void;
}

export type S3Operation = 'S3.GetObject' | 'S3.PutObject' | 'S3.List' | 'S3.DeleteObject';

/** Objects in one S3 bucket through @aws-sdk/client-s3, which also retries throttling and 5xx answers. */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private readonly ready: Promise<{ sdk: S3Sdk; client: S3Client }>;
  private readonly bucket: string;
  private readonly onRequest: NonNullable<S3StoreOptions['onRequest']>;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.onRequest = opts.onRequest ?? (() => {});
    this.description = `s3:${opts.bucket}${opts.endpoint ? '@' + opts.endpoint : ''}`;
    const config: S3ClientConfig = { region: opts.region || 'us-east-1', forcePathStyle: opts.forcePathStyle, maxAttempts: 5 };
    if (opts.endpoint) config.endpoint = /^https?:\/\//.test(opts.endpoint) ? opts.endpoint : `${opts.insecure ? 'http' : 'https'}://${opts.endpoint}`;
    if (opts.accessKeyId) {
      config.credentials = {
        accessKeyId: opts.accessKeyId,
        secretAccessKey: opts.secretAccessKey,
        ...(opts.sessionToken ? { sessionToken: opts.sessionToken } : {}),
      };
    }
    this.ready = loadSdk().then((loaded) => ({ sdk: loaded, client: new loaded.S3Client(config) }));
    // A failure shows on the first use; until then it must not be an unhandled rejection (which ends node).
    this.ready.catch(() => {});
  }

  /** Runs one request (the SDK's own retries included), timed as Loki times its S3 requests. */
  private async timed<T>(operation: S3Operation, request: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let status: '200' | '500' = '500';
    try {
      const result = await request();
      status = '200';
      return result;
    } finally {
      this.onRequest(operation, status, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const { sdk: s3, client } = await this.ready;
    await this.timed('S3.PutObject', () => client.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.byteLength })));
  }

  async get(key: string): Promise<Buffer> {
    const { sdk: s3, client } = await this.ready;
    try {
      return await this.timed('S3.GetObject', async () => {
        const out = await client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: key }));
        if (!out.Body) throw new ObjectNotFoundError(key);
        return Buffer.from(await out.Body.transformToByteArray());
      });
    } catch (e) {
      if (
        e instanceof s3.NoSuchKey ||
        (e as { name?: string }).name === 'NoSuchKey' ||
        (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      ) {
        throw new ObjectNotFoundError(key);
      }
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const { sdk: s3, client } = await this.ready;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.timed('S3.List', () =>
        client.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of out.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const { sdk: s3, client } = await this.ready;
    await this.timed('S3.DeleteObject', () => client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  destroy(): void {
    void this.ready.then(({ client }) => client.destroy());
  }
}
