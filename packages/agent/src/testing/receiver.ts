import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@loki-lite/shared';
import { parseConfig, startLokiLite } from 'loki-lite';

/* A real loki-lite on 127.0.0.1 (random port, temporary folder) for the agent's tests to ship into. */

export interface StoredEntry {
  readonly labels: Record<string, string>;
  /** Nanoseconds since the epoch, as query_range gives it. */
  readonly ts: string;
  readonly line: string;
}

export interface Receiver {
  readonly url: string;
  readonly pushUrl: string;
  /** Every line of the streams matching `selector`, oldest first, with their labels. */
  lines(selector: string): Promise<StoredEntry[]>;
  stop(): Promise<void>;
}

const PAGE_LIMIT = 5000;

/**
 * Every entry the loki-lite at `url` stores for `selector` from `startNs` to `endNs`, a query_range page at a
 * time (forward, by stream). A page that comes back full is followed by one starting after its last
 * timestamp, so entries sharing that timestamp beyond the page are not returned: give lines timestamps of
 * their own where there can be more than a page.
 */
export async function queryEntries(url: string, selector: string, range: { startNs: bigint; endNs: bigint }): Promise<StoredEntry[]> {
  const entries: StoredEntry[] = [];
  for (let start = range.startNs; ; ) {
    const q = new URLSearchParams({ query: selector, start: String(start), end: String(range.endNs), limit: String(PAGE_LIMIT), direction: 'forward' });
    const res = await fetch(`${url}/loki/api/v1/query_range?${q}`);
    if (res.status !== 200) throw new Error(`query ${selector}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };
    let count = 0;
    let last = start;
    for (const s of body.data.result) {
      for (const [ts, line] of s.values) {
        entries.push({ labels: s.stream, ts, line });
        count++;
        if (BigInt(ts) > last) last = BigInt(ts);
      }
    }
    if (count < PAGE_LIMIT) return entries;
    start = last + 1n;
  }
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
      const entries = await queryEntries(server.url, selector, { startNs: 0n, endNs: BigInt(Date.now()) * 1_000_000n + 3_600_000_000_000n });
      return entries.sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : BigInt(a.ts) > BigInt(b.ts) ? 1 : 0));
    },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
