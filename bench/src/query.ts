import { readFileSync } from 'node:fs';
import { encodePushRequestProto, type PushStream, snappyCompress } from '@loki-lite/shared';
import { parseArgs } from './args.js';
import { LineGenerator } from './loglines.js';
import { peakRssBytes } from './proc.js';
import { median, networkReason, printResult } from './report.js';
import { startLokiLite } from './server.js';

/*
 * Query benchmark: LogQL queries against any Loki-compatible endpoint, each run --runs times, reporting
 * latency and the scan rate. Without --url it starts loki-lite, loads --mb of training-cluster lines into
 * it (protobuf pushes), flushes, and also reports the server's peak RSS (`--load yes` loads into a --url
 * endpoint too). By default the two built-in queries run as instant queries over the whole loaded range,
 * so every line is read; GB/s is the line bytes processed (the answer's stats when the server gives them,
 * else the loaded bytes) over the wall time of the request.
 *
 * `--queries FILE` takes one query per line (`#` starts a comment); a line `range: <query>` is a range
 * query over the last --since with --step, the others are instant queries.
 *
 *   pnpm bench query --mb 1100
 *   pnpm bench query --url http://loki:3100 --queries my-queries.logql --runs 5 --json
 */
const args = parseArgs(process.argv.slice(2), {
  url: '', load: '', mb: '1100', streams: '50', runs: '3', query: '', queries: '', since: '24h', step: '60', tenant: '', pid: '', json: '', 'loki-lite-args': '',
});
/** Load data first: by default only into a loki-lite the bench starts itself. */
const loadFirst = args.load ? args.load === 'yes' : !args.url;

interface QuerySpec {
  readonly name: string;
  readonly logql: string;
  readonly range: boolean;
}

const BUILT_IN: readonly QuerySpec[] = [
  { name: 'regex line filter', logql: 'sum(count_over_time({app="bench"} |~ "err(or)?.*timeout" [24h]))', range: false },
  // The filter above matches no line, and the prefilter skips them all on their bytes; this one runs the regex
  // on every line and keeps 9% (bench/queries/regex-scan.logql has more).
  { name: 'regex line filter, 9% kept', logql: 'sum(count_over_time({app="bench"} |~ `loss=1\\.[0-7]` [24h]))', range: false },
  { name: 'logfmt + label filter', logql: 'sum(count_over_time({app="bench"} | logfmt | level="error" [24h]))', range: false },
];

function querySpecs(): QuerySpec[] {
  if (args.query) return [{ name: 'query', logql: args.query, range: false }];
  if (!args.queries) return [...BUILT_IN];
  const specs: QuerySpec[] = [];
  for (const raw of readFileSync(args.queries, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const range = line.startsWith('range:');
    const logql = range ? line.slice('range:'.length).trim() : line;
    specs.push({ name: `${range ? 'range' : 'instant'} ${specs.length + 1}`, logql, range });
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

/** Pushes `mb` of lines over `streams` streams, timestamps one per 10 µs ending now. Returns the line bytes. */
async function load(url: string, mb: number, streams: number): Promise<number> {
  const gen = new LineGenerator(7);
  const target = mb * 1024 * 1024;
  const linesEstimate = Math.ceil(target / 125);
  let ts = BigInt(Date.now()) * 1_000_000n - BigInt(linesEstimate) * 10_000n;
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
      ts += 10_000n;
    }
    const body = snappyCompress(encodePushRequestProto({ streams: batch }));
    inFlight.push(fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { ...headers(), 'content-type': 'application/x-protobuf' }, body }).then(async (r) => {
      if (r.status !== 204) throw new Error(`push answered ${r.status}: ${await r.text()}`);
    }));
    if (inFlight.length >= 4) await inFlight.shift();
    if (bytes - lastReport > 100 * 1024 * 1024) {
      lastReport = bytes;
      process.stderr.write(`loaded ${Math.round(bytes / 1024 / 1024)} MB\n`);
    }
  }
  await Promise.all(inFlight);
  return bytes;
}

async function runQuery(url: string, q: QuerySpec): Promise<{ seconds: number; bytes: number | undefined }> {
  const nowS = Date.now() / 1000;
  const params: Record<string, string> = q.range
    ? { query: q.logql, start: String(nowS - sinceSeconds()), end: String(nowS), step: args.step }
    : { query: q.logql, time: String(nowS) };
  const target = `${url}/loki/api/v1/${q.range ? 'query_range' : 'query'}`;
  const started = process.hrtime.bigint();
  const res = await fetch(`${target}?${new URLSearchParams(params)}`, { headers: headers() }).catch((e: Error) => {
    throw new Error(`cannot reach ${target}: ${networkReason(e)}`);
  });
  const text = await res.text();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 200) throw new Error(`${q.name} (${q.logql}) answered HTTP ${res.status}: ${text.trim().slice(0, 300)}`);
  const bytes = (JSON.parse(text) as { data?: { stats?: { summary?: { totalBytesProcessed?: number } } } }).data?.stats?.summary?.totalBytesProcessed;
  return { seconds, bytes };
}

async function main(): Promise<void> {
  const specs = querySpecs();
  sinceSeconds(); // a bad --since fails before anything is loaded
  const server = args.url ? undefined : await startLokiLite(args['loki-lite-args'] ? args['loki-lite-args'].split(' ') : []);
  const url = (args.url || server!.url).replace(/\/$/, '');
  const pid = server?.child.pid ?? (args.pid ? Number(args.pid) : undefined);
  try {
    let loaded: number | undefined;
    if (loadFirst) {
      loaded = await load(url, Number(args.mb), Number(args.streams));
      const flushed = await fetch(`${url}/flush`, { method: 'POST' });
      if (flushed.status >= 300) throw new Error(`flush answered ${flushed.status}`);
    }
    const rssBefore = pid ? peakRssBytes(pid) : 0;
    const results: Array<Record<string, string | number>> = [];
    for (const q of specs) {
      const runs = [];
      for (let i = 0; i < Number(args.runs); i++) {
        const r = await runQuery(url, q);
        runs.push(r);
        process.stderr.write(`${q.name}: ${r.seconds.toFixed(2)} s\n`);
      }
      const best = runs.reduce((a, b) => (a.seconds < b.seconds ? a : b));
      const bytes = best.bytes ?? loaded ?? 0;
      results.push({
        query: q.name, logql: q.logql, type: q.range ? 'range' : 'instant', runs: runs.length,
        'best seconds': Number(best.seconds.toFixed(3)), 'median seconds': Number(median(runs.map((r) => r.seconds)).toFixed(3)),
        'GB processed': Number((bytes / 1e9).toFixed(3)), 'GB/s': Number((bytes / 1e9 / best.seconds).toFixed(3)),
      });
    }
    const out: Record<string, unknown> = { endpoint: args.url || 'loki-lite (started by the bench)', results };
    if (loaded !== undefined) out['MB loaded'] = Math.round(loaded / 1024 / 1024);
    if (pid) {
      out['server peak RSS MB after loading'] = Math.round(rssBefore / 1024 / 1024);
      out['server peak RSS MB after queries'] = Math.round(peakRssBytes(pid) / 1024 / 1024);
    }
    printResult(out, args.json === 'true');
  } finally {
    server?.stop();
  }
}

await main();
