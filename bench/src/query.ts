import { encodePushRequestProto, type PushStream, snappyCompress } from '@loki-lite/shared';
import { parseArgs } from './args.js';
import { LineGenerator } from './loglines.js';
import { peakRssBytes } from './proc.js';
import { startLokiLite } from './server.js';

/*
 * Query benchmark: the scan rate of LogQL queries that must read every line, against any Loki-compatible
 * endpoint. Without --url it starts loki-lite, loads --mb of training-cluster lines into it (protobuf
 * pushes), flushes, and also reports the server's peak RSS (`--load yes` loads into a --url endpoint too). Each query runs --runs times as an instant
 * query over the whole loaded range; GB/s is line bytes processed (the answer's stats when the server
 * gives them, else the loaded bytes) over the wall time of the request.
 *
 *   node bench/dist/query.js --mb 1100
 *   node bench/dist/query.js --url http://loki:3100 --query 'sum(count_over_time({app="x"} |= "y" [1h]))'
 */
const args = parseArgs(process.argv.slice(2), { url: '', load: '', mb: '1100', streams: '50', runs: '3', query: '', tenant: '', 'loki-lite-args': '' });
/** Load data first: by default only into a loki-lite the bench starts itself. */
const loadFirst = args.load ? args.load === 'yes' : !args.url;

const QUERIES = [
  ['regex line filter', 'sum(count_over_time({app="bench"} |~ "err(or)?.*timeout" [24h]))'],
  ['logfmt + label filter', 'sum(count_over_time({app="bench"} | logfmt | level="error" [24h]))'],
] as const;

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

async function runQuery(url: string, query: string): Promise<{ seconds: number; bytes: number | undefined; status: number }> {
  const started = process.hrtime.bigint();
  const res = await fetch(`${url}/loki/api/v1/query?${new URLSearchParams({ query, time: String(Date.now() / 1000) })}`, { headers: headers() });
  const text = await res.text();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${text.slice(0, 300)}`);
  const bytes = (JSON.parse(text) as { data?: { stats?: { summary?: { totalBytesProcessed?: number } } } }).data?.stats?.summary?.totalBytesProcessed;
  return { seconds, bytes, status: res.status };
}

async function main(): Promise<void> {
  const server = args.url ? undefined : await startLokiLite(args['loki-lite-args'] ? args['loki-lite-args'].split(' ') : []);
  const url = args.url || server!.url;
  try {
    let loaded: number | undefined;
    if (loadFirst) {
      loaded = await load(url, Number(args.mb), Number(args.streams));
      const flushed = await fetch(`${url}/flush`, { method: 'POST' });
      if (flushed.status >= 300) throw new Error(`flush answered ${flushed.status}`);
    }
    const rssBefore = server?.child.pid ? peakRssBytes(server.child.pid) : 0;
    const queries = args.query ? [['query', args.query] as const] : QUERIES;
    const results: Array<Record<string, string | number>> = [];
    for (const [name, query] of queries) {
      const runs = [];
      for (let i = 0; i < Number(args.runs); i++) {
        const r = await runQuery(url, query);
        runs.push(r);
        process.stderr.write(`${name}: ${r.seconds.toFixed(2)} s\n`);
      }
      const best = runs.reduce((a, b) => (a.seconds < b.seconds ? a : b));
      const bytes = best.bytes ?? loaded ?? 0;
      results.push({ query: name, logql: query, 'best seconds': Number(best.seconds.toFixed(2)), 'GB processed': Number((bytes / 1e9).toFixed(2)), 'GB/s': Number((bytes / 1e9 / best.seconds).toFixed(3)) });
    }
    const out: Record<string, unknown> = { endpoint: args.url || 'loki-lite (started by the bench)', results };
    if (loaded !== undefined) out['MB loaded'] = Math.round(loaded / 1024 / 1024);
    if (server?.child.pid) {
      out['server peak RSS MB after loading'] = Math.round(rssBefore / 1024 / 1024);
      out['server peak RSS MB after queries'] = Math.round(peakRssBytes(server.child.pid) / 1024 / 1024);
    }
    console.log(JSON.stringify(out, null, 2));
  } finally {
    server?.stop();
  }
}

await main();
