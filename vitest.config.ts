import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources; the alias points workspace imports at src so a test never needs a
// stale dist/ of another package. Tests that spawn the real server (WAL crash test) use the built bin.
const QUERY_TESTS = [
  'packages/loki-lite/src/server/{compat,query,query-admission,dedup,grafana,detected,storage-backends,multi-tenant,delete}.test.ts',
  'packages/loki-lite/src/{querier,frontend,shard}/**/*.test.ts',
];

export default defineConfig({
  resolve: {
    alias: {
      '@loki-lite/shared': fileURLToPath(new URL('./packages/shared/src/index.ts', import.meta.url)),
      // The agent's tests ship into a real loki-lite started in-process.
      'loki-lite': fileURLToPath(new URL('./packages/loki-lite/src/main.ts', import.meta.url)),
    },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'all', include: ['packages/*/src/**/*.test.ts', 'bench/src/**/*.test.ts'] } },
      // The query tests again with the query shards run other ways (test servers read the querier
      // settings from LOKI_LITE_TEST_QUERIER): the answers must not depend on how a query is cut or where
      // its shards run. The default run above uses the worker pool with two shards per thread.
      queryProject('one worker thread', { worker_threads: 1 }),
      queryProject('small shards', { worker_threads: 2, shards_per_query: 64 }),
      queryProject('shards on the server thread', { worker_threads: 0, shards_per_query: 5 }),
    ],
  },
});

function queryProject(name: string, querier: Record<string, number>) {
  return {
    extends: true,
    test: { name: `query: ${name}`, include: QUERY_TESTS, env: { LOKI_LITE_TEST_QUERIER: JSON.stringify(querier) } },
  } as const;
}
