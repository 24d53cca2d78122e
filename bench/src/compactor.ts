import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fingerprint, parseLabels, silentLogger } from '@loki-lite/shared';
import { parseConfig } from 'loki-lite';
import { MemChunk } from 'loki-lite/chunk';
import { chunkChecksum } from 'loki-lite/chunk-format';
import { Compactor } from 'loki-lite/compactor';
import { FsObjectStore } from 'loki-lite/fs-store';
import { Limits } from 'loki-lite/limits';
import { type IndexTable, LogStore } from 'loki-lite/log-store';
import { Metrics } from 'loki-lite/metrics';
import { parseArgs } from './args.js';
import { LineGenerator } from './loglines.js';
import { median, networkReason, percentile, printResult } from './report.js';
import { startLokiLite, writeLokiLiteConfig } from './server.js';

/*
 * Compactor benchmark, on the filesystem store in a temporary folder, with loki-lite's own classes:
 *
 * 1. One day of --streams streams, a line every --interval seconds, flushed as one chunk per stream and
 *    15-minute cut and listed by one index file per cut: 96 files, as a day of ingester index cuts leaves.
 *    A loki-lite started on that folder (its own compactor held off) answers a needle log query and a
 *    metric range query over the day, and the needle query over one stream, each on a fresh server, 1 + --runs times; then the bench compacts
 *    the table into one file (the Compactor, as the compactor module runs it) and fresh servers answer
 *    them again. Reported per
 *    query and state: the first answer (it reads and parses every index file of the table), the median and
 *    p90 of the runs after it (the server keeps parsed files; it lists the table again every 5 s), and the
 *    index files and bytes the first reads.
 * 2. Compaction: the 96 files' bytes and the wall time of the run that merged them.
 * 3. Retention: --retention-chunks chunks of a day ten days old, listed by 96 index files, a 24h
 *    retention_period and a clock the bench sets: the retention run (which marks them) and the sweep that
 *    deletes them, timed, per 10,000 chunks.
 *
 *   pnpm bench compactor
 *   pnpm bench compactor --streams 100 --interval 5 --runs 7 --retention-chunks 20000 --json
 */
const args = parseArgs(process.argv.slice(2), {
  streams: '50',
  interval: '10',
  runs: '5',
  limit: '100',
  'retention-chunks': '10000',
  json: '',
});

const NS_PER_S = 1_000_000_000n;
const DAY_NS = 86_400n * NS_PER_S;
const CUT_NS = 15n * 60n * NS_PER_S;
const CUTS_PER_DAY = Number(DAY_NS / CUT_NS);
/** auth_enabled: false */
const TENANT = 'fake';
/** Holds off the server's own compactor (every table is among the "latest"), so the bench decides when it runs. */
const SERVER_CONFIG = 'compactor: {skip_latest_n_tables: 100000}';

function positiveInt(name: keyof typeof args): number {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, not "${args[name]}"`);
  return n;
}

/** The data folder's config, as a server started on it reads it, and the store in it. */
function storeOf(dir: string, compactorYaml = '{}') {
  const { config } = parseConfig(readFileSync(writeLokiLiteConfig(dir, 0, `compactor: ${compactorYaml}`), 'utf8'));
  const periods = config.schema_config.configs.map((c) => ({ from: c.from, prefix: c.index.prefix }));
  // replaced index files go at once: no reader runs beside the bench's compactor
  const store = new LogStore(new FsObjectStore(config.storage_config.filesystem!.directory), periods, { waitBeforeDelete: async () => {} });
  return { config, store };
}

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Writes one day starting at `dayStart`: per 15-minute cut, one chunk per stream of the lines `lines(s, from,
 * to)` gives, and one index file listing that cut's chunks. Returns the chunk count and the line bytes.
 */
async function writeDay(
  store: LogStore,
  dayStart: bigint,
  streams: number,
  lines: (stream: number, from: bigint, to: bigint) => Array<{ timestamp: bigint; line: string }>,
): Promise<{ chunks: number; lineBytes: number }> {
  const labels = Array.from({ length: streams }, (_, s) => parseLabels(`{app="bench", pod="worker-${s}"}`));
  let chunks = 0;
  let lineBytes = 0;
  for (let cut = 0; cut < CUTS_PER_DAY; cut++) {
    const from = dayStart + BigInt(cut) * CUT_NS;
    const flushed = labels.map((ls, s) => {
      const chunk = new MemChunk('snappy', 256 * 1024, 1536 * 1024);
      for (const e of lines(s, from, from + CUT_NS)) chunk.append({ ...e, structuredMetadata: [] });
      const bytes = chunk.encode();
      const fp = fingerprint(ls);
      const ref = {
        fingerprint: fp,
        from: chunk.minTs,
        through: chunk.maxTs,
        checksum: chunkChecksum(bytes),
        size: bytes.length,
        entries: chunk.entries,
        lineBytes: chunk.lineBytes,
      };
      lineBytes += chunk.lineBytes;
      return { series: { labels: ls, fingerprint: fp, chunks: [ref] }, bytes };
    });
    await inParallel(flushed, 16, (f) => store.putChunk(TENANT, f.series.chunks[0]!, f.bytes));
    for (const file of store.planIndex(
      TENANT,
      flushed.map((f) => f.series),
    ))
      await store.writeIndexFile(file);
    chunks += flushed.length;
  }
  return { chunks, lineBytes };
}

/** The bench's lines: stream s has one every `interval` seconds, streams offset from each other. */
function benchLines(streams: number, intervalNs: bigint) {
  const gen = new LineGenerator(7);
  let seq = 0;
  return (s: number, from: bigint, to: bigint) => {
    const out = [];
    for (let ts = from + (BigInt(s) * intervalNs) / BigInt(streams); ts < to; ts += intervalNs)
      out.push({ timestamp: ts, line: gen.line(seq++, new Date(Number(ts / 1_000_000n)).toISOString()) });
    return out;
  };
}

async function indexFiles(store: LogStore, table: IndexTable): Promise<{ files: number; bytes: number }> {
  const keys = await store.listTableFiles(table);
  let bytes = 0;
  for (const key of keys) bytes += (await store.objects.get(key)).length;
  return { files: keys.length, bytes };
}

interface QuerySpec {
  readonly name: string;
  readonly logql: string;
  readonly params: Record<string, string>;
}

function queries(dayStart: bigint, limit: number): QuerySpec[] {
  const day = { start: String(dayStart), end: String(dayStart + DAY_NS) };
  return [
    { name: 'needle, log query', logql: '{app="bench"} |= "Traceback"', params: { ...day, limit: String(limit), direction: 'backward' } },
    { name: 'count by app, 5m steps', logql: 'sum by (app) (count_over_time({app="bench"}[5m]))', params: { ...day, step: '300' } },
    // one stream's chunks: little chunk work, so what the index costs shows
    {
      name: 'needle in one stream',
      logql: '{app="bench", pod="worker-0"} |= "Traceback"',
      params: { ...day, limit: String(limit), direction: 'backward' },
    },
  ];
}

interface Stats {
  readonly summary?: { readonly totalLinesProcessed?: number };
  readonly querier?: { readonly store?: { readonly totalChunksDownloaded?: number } };
}

async function timedQuery(url: string, q: QuerySpec): Promise<{ seconds: number; stats: Stats | undefined }> {
  const target = `${url}/loki/api/v1/query_range`;
  const started = process.hrtime.bigint();
  const res = await fetch(`${target}?${new URLSearchParams({ query: q.logql, ...q.params })}`).catch((e: Error) => {
    throw new Error(`cannot reach ${target}: ${networkReason(e)}`);
  });
  const text = await res.text();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 200) throw new Error(`${q.name} (${q.logql}) answered HTTP ${res.status}: ${text.trim().slice(0, 300)}`);
  return { seconds, stats: (JSON.parse(text) as { data?: { stats?: Stats } }).data?.stats };
}

/**
 * Each query on a server of its own, started on `dir`: its first answer reads and parses the table's index
 * files (`index`), the `runs` after it find them parsed.
 */
async function measureQueries(dir: string, specs: readonly QuerySpec[], runs: number, state: string, index: { files: number; bytes: number }) {
  const out = [];
  for (const q of specs) {
    const server = await startLokiLite([], SERVER_CONFIG, dir);
    try {
      const [first, ...rest] = await sequence(runs + 1, () => timedQuery(server.url, q));
      const sorted = rest.map((r) => r.seconds * 1000).sort((a, b) => a - b);
      process.stderr.write(`${q.name}, ${state}: first ${(first!.seconds * 1000).toFixed(0)} ms, median ${median(sorted).toFixed(0)} ms\n`);
      out.push({
        query: q.name,
        state,
        logql: q.logql,
        'index files': index.files,
        'index KB read by the first': Number((index.bytes / 1024).toFixed(1)),
        'first ms': Number((first!.seconds * 1000).toFixed(1)),
        runs: sorted.length,
        'median ms': Number(median(sorted).toFixed(1)),
        'p90 ms': percentile(sorted, 0.9),
        'lines processed': first!.stats?.summary?.totalLinesProcessed ?? 'n/a',
        'chunks from store': first!.stats?.querier?.store?.totalChunksDownloaded ?? 'n/a',
      });
    } finally {
      server.stop();
    }
  }
  return out;
}

async function sequence<T>(n: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

function compactorOf(config: ReturnType<typeof storeOf>['config'], store: LogStore, workingDirectory: string, now: () => number, retentionNs = 0n): Compactor {
  return new Compactor({
    config: { ...config.compactor, working_directory: workingDirectory },
    store,
    limits: new Limits({ ...config.limits_config, retention_period: retentionNs }),
    metrics: new Metrics('bench'),
    log: silentLogger,
    now,
  });
}

const seconds = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

/** Parts 1 and 2: queries over 96 files, the compaction, the same queries over the one file. */
async function compaction(dir: string) {
  const streams = positiveInt('streams');
  const intervalNs = BigInt(positiveInt('interval')) * NS_PER_S;
  const { config, store } = storeOf(dir);
  // yesterday's table: whole, and not the one the ingesters still write to
  const period = Math.floor(Date.now() / 86_400_000) - 1;
  const dayStart = BigInt(period) * DAY_NS;
  process.stderr.write(`writing one day: ${streams} streams, a line every ${args.interval} s, ${CUTS_PER_DAY} index cuts\n`);
  const written = await writeDay(store, dayStart, streams, benchLines(streams, intervalNs));
  const table = (await store.listAllTables()).find((t) => t.period === period)!;
  const specs = queries(dayStart, positiveInt('limit'));
  const runs = positiveInt('runs');

  const before = await indexFiles(store, table);
  const results = await measureQueries(dir, specs, runs, `${before.files} index files`, before);

  const started = process.hrtime.bigint();
  const run = await compactorOf(config, store, path.join(dir, 'compactor'), Date.now).runCompaction(false);
  await run.oldFilesDeleted;
  const compactionSeconds = seconds(started);
  const after = await indexFiles(store, table);
  if (after.files !== 1) throw new Error(`compaction left ${after.files} index files, not 1`);
  results.push(...(await measureQueries(dir, specs, runs, 'compacted', after)));
  return {
    day: {
      streams,
      'line interval s': Number(args.interval),
      chunks: written.chunks,
      'MB of lines': Number((written.lineBytes / 1024 / 1024).toFixed(1)),
    },
    queries: results,
    compaction: {
      'index files before': before.files,
      'index MB before': Number((before.bytes / 1024 / 1024).toFixed(3)),
      'index MB after': Number((after.bytes / 1024 / 1024).toFixed(3)),
      seconds: Number(compactionSeconds.toFixed(3)),
      's per index MB': Number((compactionSeconds / (before.bytes / 1024 / 1024)).toFixed(3)),
    },
  };
}

/** Part 3: a retention run marks every chunk of a day ten days old; the sweep after the delete delay deletes them. */
async function retention(dir: string) {
  const wanted = positiveInt('retention-chunks');
  const streams = Math.ceil(wanted / CUTS_PER_DAY);
  const { config, store } = storeOf(dir, '{retention_enabled: true, delete_request_store: filesystem}');
  const period = Math.floor(Date.now() / 86_400_000) - 10;
  const dayStart = BigInt(period) * DAY_NS;
  process.stderr.write(`writing ${streams * CUTS_PER_DAY} chunks ten days old for retention\n`);
  // two lines a chunk: the sweep's cost is one delete per chunk, whatever its size
  const { chunks } = await writeDay(store, dayStart, streams, (s, from) =>
    [0n, 1n].map((k) => ({ timestamp: from + k * NS_PER_S, line: `line ${k} of worker-${s}` })),
  );
  let now = Date.now();
  const compactor = compactorOf(config, store, path.join(dir, 'compactor'), () => now, DAY_NS);
  const markStarted = process.hrtime.bigint();
  const run = await compactor.runCompaction(true);
  await run.oldFilesDeleted;
  const markSeconds = seconds(markStarted);
  now += Number(config.compactor.retention_delete_delay / 1_000_000n) + 1;
  const sweepStarted = process.hrtime.bigint();
  const swept = await compactor.sweep();
  const sweepSeconds = seconds(sweepStarted);
  if (swept.deleted !== chunks) throw new Error(`the sweep deleted ${swept.deleted} of ${chunks} expired chunks (kept ${swept.kept})`);
  const per10k = (s: number) => Number(((s * 10_000) / chunks).toFixed(3));
  return {
    chunks,
    'index files': CUTS_PER_DAY,
    'marked by the retention run': run.markedChunks,
    'retention run s': Number(markSeconds.toFixed(3)),
    'retention run s per 10,000 chunks': per10k(markSeconds),
    'sweep workers': config.compactor.retention_delete_worker_count,
    'sweep s': Number(sweepSeconds.toFixed(3)),
    'sweep s per 10,000 chunks': per10k(sweepSeconds),
  };
}

async function main(): Promise<void> {
  const dirs = [0, 1].map(() => mkdtempSync(path.join(tmpdir(), 'bench-compactor-')));
  try {
    const { day, queries: results, compaction: compacted } = await compaction(dirs[0]!);
    const retained = await retention(dirs[1]!);
    const prefixed = (prefix: string, record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).map(([k, v]) => [`${prefix}${k}`, v]));
    printResult({ ...day, queries: results, ...prefixed('compaction: ', compacted), ...prefixed('retention: ', retained) }, args.json === 'true');
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
