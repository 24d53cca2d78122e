import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources; the alias points workspace imports at src so a test never needs a
// stale dist/ of another package. Tests that spawn the real server (WAL crash test) use the built bin.
export default defineConfig({
  resolve: {
    alias: {
      '@loki-lite/shared': fileURLToPath(new URL('./packages/shared/src/index.ts', import.meta.url)),
      // The agent's tests ship into a real loki-lite started in-process.
      'loki-lite': fileURLToPath(new URL('./packages/loki-lite/src/main.ts', import.meta.url)),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'bench/src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
