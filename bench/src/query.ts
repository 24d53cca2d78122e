import { readFileSync } from 'node:fs';
import { encodePushRequestProto, type PushStream, snappyCompress } from '@loki-lite/shared';
import { parseArgs } from './args.js';
import { LineGenerator } from './loglines.js';
import { peakRssBytes, resetPeakRss } from './proc.js';
import { countQuery, QUERY_SETS, type QuerySpec, userQuery } from './query-sets.js';
import { median, networkReason, printResult } from './report.js';
import { startLokiLite } from './server.js';

/*
 * Query benchmark: LogQL queries against any Loki-compatible endpoint, each run --runs times, reporting
 * latency, the scan rate and the lines the query matched, so a query whose lines were all ruled out
 * (0 matched) shows as such. Without --url it starts loki-lite and loads --mb of training-cluster lines into
 * it (protobuf pushes; `--load yes` loads into a --url endpoint too), and reports the server's peak RSS.
 *
 * Phases (`--phase memory,flushed`, both by default): the queries run first on the data as loaded (still in
 * the ingester's memory), then after POST /flush. loki-lite's /flush answers once every chunk is in the
 * store and indexed, and an indexed chunk leaves memory (ingester.ts flushAll, finishCut), so after it every
 * line is read from the store; Loki's /flush only starts the flush, so the bench then waits until the
 * server's loki_ingester_memory_chunks reads 0. Each phase reports that gauge and each query the chunks it
 * fetched from the store (the answer's stats), which shows where the lines came from.
 *
 * Without --query/--queries the built-in sets run (query-sets.ts). `--queries FILE` takes one query per line
 * (`#` starts a comment); `range: <query>` is a range query over the last --since with --step, a log query
 * runs over --since with --limit, the others are instant queries. GB/s is the line bytes processed (the
 * answer's stats when the server gives them, else the loaded bytes) over the best request's wall time.
 *
 *   pnpm bench query --mb 500 --streams 200
 *   pnpm bench query --url http://loki:3100 --queries my-queries.logql --runs 5 --json
 *   pnpm bench query --mb 500 --loki-lite-config 'querier: {worker_threads: 0}'   (shards on the server thread)
 */
const args = parseArgs(process.argv.slice(2), {
  url: '',
  load: '',
  mb: '1100',
  streams: '50',
  runs: '3',
  query: '',
  queries: '',
  since: '24h',
  step: '60',
  limit: '100',
  phase: 'memory,flushed',
  tenant: '',
  pid: '',
  json: '',
  'loki-lite-args': '',
  'loki-lite-config': '',
});
/** Load data first: by default only into a loki-lite the bench starts itself. */
const loadFirst = args.load ? args.load === 'yes' : !args.url;

const PHASES = ['memory', 'flushed'] as const;
type Phase = (typeof PHASES)[number];

/** --phase as a list in run order (memory before flushed: a flush cannot be undone). */
function phases(): Phase[] {
  const given = args.phase.split(',').map((p) => p.trim());
  const unknown = given.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0 || given.length === 0) throw new Error(`--phase takes memory, flushed or both (memory,flushed), not "${args.phase}"`);
  return PHASES.filter((p) => given.includes(p));
}

function querySpecs(): QuerySpec[] {
  const limit = Number(args.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a whole number of at least 1, not "${args.limit}"`);
  if (args.query) return [userQuery('query', args.query, 'instant', limit)];
  if (!args.queries) return [...QUERY_SETS];
  const specs: QuerySpec[] = [];
  for (const raw of readFileSync(args.queries, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const range = line.startsWith('range:');
    const spec = userQuery('', range ? line.slice('range:'.length).trim() : line, range ? 'range' : 'instant', limit);
    specs.push({ ...spec, name: `${spec.kind} ${specs.length + 1}` });
  }
  if (specs.length === 0) throw new Error(`${args.queries} holds no query`);
  return specs;
}

const SINCE_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** --since as seconds (`90s`, `15m`, `24h`, `7d`). */
function sinceSeconds(): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(args.since);
  if (!m) throw new Error(`--since must be a duration like 15m or 24h, not "${args.since}"`);
  return Number(m[1]) * SINCE_UNITS[m[2]!]!;
}

const headers = (): Record<string, string> => (args.tenant ? { 'x-scope-orgid': args.tenant } : {});

/** Time between two loaded lines: 500 MB (4.2 M lines) spans 70 minutes, as a training run's logs would. */
const LINE_SPACING_NS = 1_000_000n;

/** The newest loaded line's time, seconds: queries end no earlier, so every loaded line is in their range. */
let loadedUntilS = 0;

/** Where queries end (instant queries are at): now, or the newest loaded line if the load ran past now. */
const queryEndS = () => Math.max(Date.now() / 1000, loadedUntilS + 0.001);

/**
 * Pushes `mb` of lines over `streams` streams, timestamps one per LINE_SPACING_NS ending about now (the
 * line count is estimated from the bytes, so the last lines may be a little ahead). Returns the line bytes.
 */
async function load(url: string, mb: number, streams: number): Promise<number> {
  const gen = new LineGenerator(7);
  const target = mb * 1024 * 1024;
  const linesEstimate = Math.ceil(target / 125);
  let ts = BigInt(Date.now()) * 1_000_000n - BigInt(linesEstimate) * LINE_SPACING_NS;
  let bytes = 0;
  let seq = 0;
  const inFlight: Array<Promise<void>> = [];
  let lastReport = 0;
  while (bytes < target) {
    const batch: PushStream[] = Array.from({ length: streams }, (_, s) => ({ labels: `{app="bench", pod="worker-${s}"}`, entries: [] }));
    for (let n = 0; n < 2000; n++) {
      const line = gen.line(seq, new Date(Number(ts / 1_000_000n)).toISOString());
      batch[seq % streams]!.entries.push({ timestamp: ts, line, structuredMetadata: [] });
      bytes += Buffer.byteLength(line);
      seq++;
      ts += LINE_SPACING_NS;
    }
    const body = snappyCompress(encodePushRequestProto({ streams: batch }));
    inFlight.push(
      fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { ...headers(), 'content-type': 'application/x-protobuf' }, body }).then(async (r) => {
        if (r.status !== 204) throw new Error(`push answered ${r.status}: ${await r.text()}`);
      }),
    );
    if (inFlight.length >= 4) await inFlight.shift();
    if (bytes - lastReport > 100 * 1024 * 1024) {
      lastReport = bytes;
      process.stderr.write(`loaded ${Math.round(bytes / 1024 / 1024)} MB\n`);
    }
  }
  await Promise.all(inFlight);
  loadedUntilS = Number(ts / 1_000_000n) / 1000;
  return bytes;
}

/** The parts of a query answer the bench reads (Loki's JSON). */
interface Answer {
  readonly data?: {
    readonly resultType?: string;
    readonly result?: ReadonlyArray<{ readonly values?: readonly unknown[]; readonly value?: readonly [number, string] }>;
    readonly stats?: {
      readonly summary?: { readonly totalBytesProcessed?: number; readonly totalLinesProcessed?: number };
      readonly querier?: { readonly store?: { readonly totalChunksDownloaded?: number } };
    };
  };
}

/** Sends one query (a count query is `instant`); returns the wall time and the parsed answer. */
async function runQuery(url: string, q: QuerySpec): Promise<{ seconds: number; answer: Answer }> {
  const nowS = queryEndS();
  const params: Record<string, string> =
    q.kind === 'instant'
      ? { query: q.logql, time: String(nowS) }
      : { query: q.logql, start: String(nowS - sinceSeconds()), end: String(nowS), ...(q.kind === 'range' ? { step: args.step } : { limit: String(q.limit) }) };
  const target = `${url}/loki/api/v1/${q.kind === 'instant' ? 'query' : 'query_range'}`;
  const started = process.hrtime.bigint();
  const res = await fetch(`${target}?${new URLSearchParams(params)}`, { headers: headers() }).catch((e: Error) => {
    throw new Error(`cannot reach ${target}: ${networkReason(e)}`);
  });
  const text = await res.text();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 200) throw new Error(`${q.name} (${q.logql}) answered HTTP ${res.status}: ${text.trim().slice(0, 300)}`);
  return { seconds, answer: JSON.parse(text) as Answer };
}

/** Entries of a streams answer, or the sum of a vector's values (a count's answer). */
function answerCount(a: Answer): number {
  const result = a.data?.result ?? [];
  if (a.data?.resultType === 'streams') return result.reduce((n, s) => n + (s.values?.length ?? 0), 0);
  return result.reduce((n, s) => n + Number(s.value?.[1] ?? 0), 0);
}

/**
 * The lines a query matched, and the lines read to find them: a log query's entries returned; for a
 * metric query, what `sum(count_over_time(...))` of its selector and pipeline counts over the same
 * window (its own answer when it is that count already; else one more, untimed, request).
 */
async function linesMatched(url: string, q: QuerySpec, answer: Answer): Promise<{ matched: number; processed: number | undefined } | undefined> {
  const processedBy = (a: Answer) => a.data?.stats?.summary?.totalLinesProcessed;
  if (q.kind === 'log') return { matched: answerCount(answer), processed: processedBy(answer) };
  const count = countQuery(q, BigInt(Math.round(sinceSeconds() * 1e9)));
  if (!count) return undefined;
  const counted = count.same ? answer : (await runQuery(url, { name: `${q.name}, lines matched`, logql: count.logql, kind: 'instant' })).answer;
  return { matched: answerCount(counted), processed: processedBy(counted) };
}

/** One query's runs in one phase, as a result record. */
async function measure(url: string, q: QuerySpec, phase: Phase, loaded: number | undefined): Promise<Record<string, string | number>> {
  const runs = [];
  for (let i = 0; i < Number(args.runs); i++) {
    const r = await runQuery(url, q);
    runs.push(r);
    process.stderr.write(`${q.name} (${phase}): ${r.seconds.toFixed(2)} s\n`);
  }
  const best = runs.reduce((a, b) => (a.seconds < b.seconds ? a : b));
  const stats = best.answer.data?.stats;
  const bytes = stats?.summary?.totalBytesProcessed ?? loaded ?? 0;
  const lines = await linesMatched(url, q, best.answer);
  const record: Record<string, string | number> = {
    query: q.name,
    phase,
    ...(q.share ? { share: q.share } : {}),
    logql: q.logql,
    type: q.kind === 'log' ? `log, limit ${q.limit}` : q.kind,
    runs: runs.length,
    'best seconds': Number(best.seconds.toFixed(3)),
    'median seconds': Number(median(runs.map((r) => r.seconds)).toFixed(3)),
    'GB processed': Number((bytes / 1e9).toFixed(3)),
    'GB/s': Number((bytes / 1e9 / best.seconds).toFixed(3)),
    'lines processed': stats?.summary?.totalLinesProcessed ?? 'n/a',
    'lines matched': lines?.matched ?? 'n/a',
    'matched %': lines?.processed ? Number(((100 * lines.matched) / lines.processed).toPrecision(3)) : 'n/a',
  };
  const fromStore = stats?.querier?.store?.totalChunksDownloaded;
  if (fromStore !== undefined) record['chunks from store'] = fromStore;
  return record;
}

/** The server's loki_ingester_memory_chunks (summed over its series), or undefined if it has none. */
async function chunksInMemory(url: string): Promise<number | undefined> {
  const res = await fetch(`${url}/metrics`, { headers: headers() }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const values = [...(await res.text()).matchAll(/^loki_ingester_memory_chunks(?:\{[^}]*\})? (\S+)$/gm)].map((m) => Number(m[1]));
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

/** POST /flush, then waits (up to 10 minutes) until no chunk is left in memory, where the server tells. */
async function flush(url: string): Promise<void> {
  const res = await fetch(`${url}/flush`, { method: 'POST', headers: headers() });
  if (res.status >= 300) throw new Error(`flush answered ${res.status}: ${(await res.text()).trim().slice(0, 300)}`);
  for (const deadline = Date.now() + 600_000; ; ) {
    const left = await chunksInMemory(url);
    if (left === undefined || left === 0) return;
    if (Date.now() > deadline) throw new Error(`${left} chunks still in memory 10 minutes after POST /flush`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  const specs = querySpecs();
  const runPhases = phases();
  sinceSeconds(); // a bad --since fails before anything is loaded
  const server = args.url ? undefined : await startLokiLite(args['loki-lite-args'] ? args['loki-lite-args'].split(' ') : [], args['loki-lite-config']);
  const url = (args.url || server!.url).replace(/\/$/, '');
  const pid = server?.child.pid ?? (args.pid ? Number(args.pid) : undefined);
  try {
    const out: Record<string, unknown> = { endpoint: args.url || 'loki-lite (started by the bench)' };
    let loaded: number | undefined;
    if (loadFirst) {
      loaded = await load(url, Number(args.mb), Number(args.streams));
      out['MB loaded'] = Math.round(loaded / 1024 / 1024);
    }
    if (pid) out['server peak RSS MB while loading'] = Math.round(peakRssBytes(pid) / 1024 / 1024);
    const results: Array<Record<string, string | number>> = [];
    for (const phase of runPhases) {
      if (phase === 'flushed') await flush(url);
      const inMemory = await chunksInMemory(url);
      if (inMemory !== undefined) out[`chunks in memory, ${phase} phase`] = inMemory;
      const reset = pid !== undefined && resetPeakRss(pid);
      for (const q of specs) results.push(await measure(url, q, phase, loaded));
      if (pid)
        out[reset ? `server peak RSS MB, ${phase} phase queries` : `server peak RSS MB since start, after ${phase} phase`] = Math.round(
          peakRssBytes(pid) / 1024 / 1024,
        );
    }
    out.results = results;
    printResult(out, args.json === 'true');
  } finally {
    server?.stop();
  }
}

await main();
