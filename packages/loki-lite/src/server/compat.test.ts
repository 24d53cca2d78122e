import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { compactorFixture, workingDirectory } from '../testing/compactor-fixture.js';
import { FsObjectStore } from '../storage/fs/fs-store.js';
import { LogStore } from '../storage/log-store.js';

/*
 * Answers recorded from a real Loki for a fixed data set (../shared/compat beside the checkout), checked with
 * the kit's own runner over all of its cases. Rules:
 *  - no case may get a wrong answer;
 *  - a case may only differ from Loki by a 400 on a query that uses a LogQL feature listed below as not
 *    implemented yet. The list shrinks as the LogQL engine grows; everything else must match Loki.
 */
const COMPAT = fileURLToPath(new URL('../../../../../shared/compat/', import.meta.url));
const run = promisify(execFile);

const NOT_IMPLEMENTED_YET: ReadonlyArray<readonly [string, RegExp]> = [];

interface Case {
  id: string;
  params: Record<string, unknown>;
}

describe('Loki compatibility cases (../shared/compat)', () => {
  let server: TestServer;
  let cases: Case[];

  beforeAll(async () => {
    if (!existsSync(COMPAT)) throw new Error(`the compat kit is missing: expected it at ${COMPAT}`);
    // The kit's settings: Loki 2.8 had no service_name or detected_level; its default entries limit.
    server = await startTestServer(`
limits_config: {discover_service_name: [], discover_log_levels: false, max_entries_limit_per_query: 5000, reject_old_samples: false,
  ingestion_rate_mb: 1024, ingestion_burst_size_mb: 1024, per_stream_rate_limit: 1GB, per_stream_rate_limit_burst: 1GB}
ingester: {max_chunk_age: 2h}
`);
    const { stdout } = await run(process.execPath, [path.join(COMPAT, 'gen-dataset.mjs')], { maxBuffer: 1 << 30 });
    for (const line of stdout.split('\n')) {
      if (!line) continue;
      const res = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: line });
      if (res.status !== 204) throw new Error(`push failed: ${res.status} ${await res.text()}`);
    }
    cases = JSON.parse(readFileSync(path.join(COMPAT, 'cases.json'), 'utf8')) as Case[];
  }, 300_000);
  afterAll(() => server?.destroy());

  /** Runs the kit; returns the failure lines (`id: why`) and the passed count. */
  async function check(): Promise<{ failures: Map<string, string>; passed: number }> {
    let out: string;
    try {
      out = (
        await run(process.execPath, [
          path.join(COMPAT, 'compat.mjs'),
          'check',
          path.join(COMPAT, 'cases.json'),
          path.join(COMPAT, 'expected'),
          server.url,
          '--verbose',
        ])
      ).stdout;
    } catch (e) {
      out = (e as { stdout?: string }).stdout ?? String(e);
    }
    const failures = new Map<string, string>();
    for (const line of out.split('\n')) {
      const m = /^([a-z]+-\d+): (.*)$/.exec(line);
      if (m) failures.set(m[1]!, m[2]!);
    }
    const passed = Number(/^(\d+) passed, \d+ failed$/m.exec(out)?.[1] ?? -1);
    return { failures, passed };
  }

  function unexplained(failures: Map<string, string>): string[] {
    const problems: string[] = [];
    for (const [id, why] of failures) {
      const query = String(cases.find((c) => c.id === id)?.params.query ?? '');
      const missing = NOT_IMPLEMENTED_YET.find(([, re]) => re.test(query));
      if (why !== 'status 400, want 200' || !missing) problems.push(`${id}: ${why} (query ${query})`);
    }
    return problems;
  }

  it('matches Loki on every case it implements while the data is in the ingester', async () => {
    const { failures, passed } = await check();
    expect(unexplained(failures)).toEqual([]);
    expect(passed).toBe(cases.length - failures.size);
    expect(passed).toBe(cases.length);
  }, 120_000);

  it('and after everything is flushed to the store', async () => {
    expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
    const { failures, passed } = await check();
    expect(unexplained(failures)).toEqual([]);
    expect(passed).toBe(cases.length);
  }, 120_000);

  it('and while and after each table of many index files is compacted into one', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const wd = workingDirectory();
    try {
      const store = new LogStore(new FsObjectStore(server.dir), [{ from: 0n, prefix: 'index_' }], { waitBeforeDelete: () => gate });
      // as many index cuts would have left them: each table's series in files of three
      for (const table of await store.listAllTables()) {
        for (const key of await store.listTableFiles(table)) {
          const series = await store.readIndexFile(key);
          for (let i = 0; i < series.length; i += 3) {
            for (const file of store.planIndex(table.tenant, series.slice(i, i + 3))) if (file.table.name === table.name) await store.writeIndexFile(file);
          }
          await store.objects.delete(key);
        }
      }
      const tables = await store.listAllTables();
      const files = async () => (await Promise.all(tables.map((t) => store.listTableFiles(t)))).map((f) => f.length);
      expect(Math.max(...(await files()))).toBeGreaterThan(3);
      const { compactor } = compactorFixture({ store, workingDirectory: wd.dir });
      // the kit's queries run while the merged files are published beside the old ones
      const [run, during] = await Promise.all([compactor.runCompaction(false), check()]);
      expect(unexplained(during.failures)).toEqual([]);
      expect(during.passed).toBe(cases.length);
      openGate();
      await run.oldFilesDeleted;
      expect(await files()).toEqual(tables.map(() => 1));
      const after = await check();
      expect(unexplained(after.failures)).toEqual([]);
      expect(after.passed).toBe(cases.length);
    } finally {
      openGate();
      wd.remove();
    }
  }, 240_000);
});
