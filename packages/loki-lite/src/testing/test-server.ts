import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodePushRequestProto, type PushRequest, snappyCompress } from '@loki-lite/shared';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../config/load.js';
import { type RunningServer, startLokiLite } from '../main.js';
import type { Ticker } from '../util/ticker.js';
import type { ObjectStore } from '../storage/object-store.js';
import { type Logger, silentLogger } from '@loki-lite/shared';

export interface TestServer extends RunningServer {
  readonly dir: string;
  pushJson(body: unknown, headers?: Record<string, string>): Promise<Response>;
  pushProto(req: PushRequest, headers?: Record<string, string>): Promise<Response>;
  get(pathAndQuery: string, headers?: Record<string, string>): Promise<Response>;
  /** Stops the server and removes its folder. */
  destroy(): Promise<void>;
}

type Tree = Record<string, unknown>;

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof b === 'object' && b !== null && !Array.isArray(b) ? merge(b as Tree, v as Tree) : v;
  }
  return out;
}

/**
 * A real loki-lite on 127.0.0.1 with a random port, its WAL and store in a fresh temporary folder.
 * `yaml` is merged over a base config (auth off, filesystem store, old samples allowed, no service_name).
 */
export async function startTestServer(
  yaml = '',
  opts: { dir?: string; objectStore?: ObjectStore; log?: Logger; runtimeConfigTicker?: Ticker } = {},
): Promise<TestServer> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'loki-lite-test-'));
  const base: Tree = {
    auth_enabled: false,
    server: { http_listen_address: '127.0.0.1', http_listen_port: 0 },
    common: { path_prefix: dir },
    schema_config: { configs: [{ from: '2020-01-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }] },
    ingester: { chunk_encoding: 'snappy' },
    // Like the compat kit: no service_name or detected_level discovery, so tests see exactly the labels
    // they push (push.test.ts and grafana.test.ts test the discovery itself).
    limits_config: { reject_old_samples: false, discover_service_name: [], discover_log_levels: false },
    // Where query shards run, when the test run says (vitest.config.ts runs the query tests several ways).
    ...(process.env.LOKI_LITE_TEST_QUERIER ? { querier: JSON.parse(process.env.LOKI_LITE_TEST_QUERIER) as Tree } : {}),
  };
  const { config } = parseConfig(stringify(merge(base, (parse(yaml) as Tree | null) ?? {})));
  const server = await startLokiLite(config, {
    log: opts.log ?? silentLogger,
    ...(opts.objectStore ? { objectStore: opts.objectStore } : {}),
    ...(opts.runtimeConfigTicker ? { runtimeConfigTicker: opts.runtimeConfigTicker } : {}),
  });
  const request = (p: string, init: RequestInit) => fetch(server.url + p, init);
  return {
    ...server,
    dir,
    pushJson: (body, headers = {}) =>
      request('/loki/api/v1/push', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    pushProto: (req, headers = {}) =>
      request('/loki/api/v1/push', {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...headers },
        body: snappyCompress(encodePushRequestProto(req)),
      }),
    get: (p, headers = {}) => request(p, { headers }),
    async destroy() {
      await server.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Query-string helper: qs({query: '{a="b"}', limit: 10}). */
export function qs(params: Record<string, string | number | bigint>): string {
  return new URLSearchParams(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]))).toString();
}
