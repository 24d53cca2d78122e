import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@loki-lite/shared';
import { parseConfig, startLokiLite } from 'loki-lite';

/* A real loki-lite on 127.0.0.1 (random port, temporary folder) for the agent's tests to ship into. */

export interface Receiver {
  readonly url: string;
  readonly pushUrl: string;
  /** Every line of the streams matching `selector`, oldest first, with their labels. */
  lines(selector: string): Promise<Array<{ labels: Record<string, string>; ts: string; line: string }>>;
  stop(): Promise<void>;
}

export async function startReceiver(port = 0, dir = mkdtempSync(path.join(tmpdir(), 'agent-receiver-'))): Promise<Receiver> {
  const { config } = parseConfig(`
auth_enabled: false
server: {http_listen_address: 127.0.0.1, http_listen_port: ${port}}
common: {path_prefix: ${dir}}
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]}
ingester: {chunk_encoding: snappy}
limits_config: {reject_old_samples: false, max_query_length: 0, split_queries_by_interval: 0, discover_service_name: [], discover_log_levels: false, max_line_size: 0}
`);
  const server = await startLokiLite(config, { log: silentLogger });
  return {
    url: server.url,
    pushUrl: `${server.url}/loki/api/v1/push`,
    async lines(selector) {
      const q = new URLSearchParams({ query: selector, start: '0', end: String(Date.now() * 1e6 + 3600e9), limit: '5000', direction: 'forward' });
      const res = await fetch(`${server.url}/loki/api/v1/query_range?${q}`);
      if (res.status !== 200) throw new Error(`query ${selector}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };
      return body.data.result
        .flatMap((s) => s.values.map(([ts, line]) => ({ labels: s.stream, ts, line })))
        .sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : BigInt(a.ts) > BigInt(b.ts) ? 1 : 0));
    },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
