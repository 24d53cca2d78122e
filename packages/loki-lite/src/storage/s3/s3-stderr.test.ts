import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { type ChildServer, startChild } from '../../testing/child-server.js';
import { S3RVER_CREDENTIALS, startS3rver } from '../testing/s3rver.js';

/* A server on S3 writes only its own logfmt lines to stderr: nothing third-party (the AWS SDK's notices). */

describe('a server on S3', () => {
  it('writes nothing but logfmt lines to stderr while it stores and reads chunks', async () => {
    const s3 = await startS3rver();
    const dir = mkdtempSync(path.join(tmpdir(), 'loki-lite-s3-stderr-'));
    let server: ChildServer | undefined;
    try {
      await s3.createBucket('chunks');
      const port = await freePort();
      const config = path.join(dir, 'loki.yaml');
      writeFileSync(
        config,
        `
auth_enabled: false
server: {http_listen_address: 127.0.0.1, http_listen_port: ${port}, log_level: info}
common: {path_prefix: ${dir}}
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: s3, schema: v13, index: {prefix: index_, period: 24h}}]}
storage_config: {aws: {bucketnames: chunks, endpoint: ${s3.endpoint}, s3forcepathstyle: true, insecure: true, access_key_id: ${S3RVER_CREDENTIALS.accessKeyId}, secret_access_key: ${S3RVER_CREDENTIALS.secretAccessKey}}}
`,
      );
      server = await startChild(config, port);
      const now = BigInt(Date.now()) * 1_000_000n;
      const push = await fetch(`${server.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ streams: [{ stream: { app: 's3' }, values: [[now.toString(), 'a line for the bucket']] }] }),
      });
      expect(push.status).toBe(204);
      expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
      const read = await fetch(`${server.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="s3"}')}`);
      expect(JSON.stringify(await read.json())).toContain('a line for the bucket');
      const lines = server
        .stderr()
        .split('\n')
        .filter((l) => l !== '');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^level=(debug|info|warn|error) ts=\S+ /);
    } finally {
      server?.process.kill('SIGKILL');
      await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
