import { encodePushRequestJson, encodePushRequestProto, type PushRequest, snappyCompress } from '@loki-lite/shared';
import { parseArgs } from './args.js';
import { type LineTemplate, LINE_TEMPLATES } from './loglines.js';
import { buildRequests } from './push-bodies.js';
import { cpuSeconds, peakRssBytes, resetPeakRss } from './proc.js';
import { HEAVY_QUERY, startQueryLoad } from './query-load.js';
import { countError, type ErrorsByStatus, networkReason, percentile, Progress, printResult } from './report.js';
import { startLokiLite } from './server.js';

/*
 * Ingest benchmark: pushes generated logs to any Loki-compatible endpoint over the real wire format
 * (protobuf + snappy, as Promtail and Alloy send them, or JSON). Every request body is built before the
 * clock starts, so the generator does not measure itself. Without --url it starts loki-lite
 * (embedded-default style: filesystem store, WAL on, snappy chunks) in a temporary folder; with --pid it
 * watches a server you started. Either way it reports that server's CPU seconds per 100 MB and peak RSS.
 * The first body is pushed once before the clock starts, to fail clearly on an endpoint that cannot be
 * reached or refuses the load; the figures count the timed pushes only.
 *
 * Push latency while queries run: --preload-mb pushes that much (older lines, untimed) before the clock
 * starts, so queries have work from the first second; --query-load N clients then run --load-query (an
 * instant query over everything by default) back to back while the timed pushes run (query-load.ts).
 *
 *   pnpm bench ingest --streams 200 --mb 500
 *   pnpm bench ingest --url http://loki:3100 --pid 1234 --streams 5000 --template json --json
 *   pnpm bench ingest --streams 200 --mb 300 --preload-mb 300 --query-load 4
 */
const args = parseArgs(process.argv.slice(2), {
  url: '',
  streams: '200',
  mb: '300',
  total: '',
  duration: '',
  'line-bytes': '',
  template: 'mixed',
  'lines-per-push': '1000',
  'batch-kb': '',
  concurrency: '4',
  format: 'protobuf',
  tenant: '',
  user: '',
  password: '',
  pid: '',
  json: '',
  'loki-lite-args': '',
  'loki-lite-config': '',
  'preload-mb': '0',
  'query-load': '0',
  'load-query': HEAVY_QUERY,
});

interface Options {
  readonly streams: number;
  readonly targetBytes: number;
  readonly totalLines: number;
  readonly durationMs: number;
  readonly lineBytes: number;
  readonly template: LineTemplate;
  readonly linesPerPush: number;
  readonly batchBytes: number;
  readonly concurrency: number;
  readonly format: 'protobuf' | 'json';
  readonly preloadBytes: number;
  readonly queryClients: number;
}

function options(): Options {
  const positive = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not "${value}"`);
    return n;
  };
  const wholeOrZero = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, 0 or more, not "${value}"`);
    return n;
  };
  if (!(LINE_TEMPLATES as readonly string[]).includes(args.template))
    throw new Error(`--template must be one of ${LINE_TEMPLATES.join(', ')}, not "${args.template}"`);
  if (args.format !== 'protobuf' && args.format !== 'json') throw new Error(`--format must be protobuf or json, not "${args.format}"`);
  return {
    streams: Math.floor(positive('streams', args.streams)),
    targetBytes: positive('mb', args.mb) * 1024 * 1024,
    totalLines: args.total ? Math.floor(positive('total', args.total)) : Infinity,
    durationMs: args.duration ? positive('duration', args.duration) * 1000 : Infinity,
    lineBytes: args['line-bytes'] ? Math.floor(positive('line-bytes', args['line-bytes'])) : 0,
    template: args.template as LineTemplate,
    linesPerPush: Math.floor(positive('lines-per-push', args['lines-per-push'])),
    batchBytes: args['batch-kb'] ? positive('batch-kb', args['batch-kb']) * 1024 : Infinity,
    concurrency: Math.floor(positive('concurrency', args.concurrency)),
    format: args.format,
    preloadBytes: args['preload-mb'] === '0' ? 0 : positive('preload-mb', args['preload-mb']) * 1024 * 1024,
    queryClients: wholeOrZero('query-load', args['query-load']),
  };
}

/** The request body of a push in the chosen format: protobuf+snappy as Promtail sends it, or JSON. */
function encoderFor(format: Options['format']): (req: PushRequest) => Buffer {
  return format === 'json' ? (req) => Buffer.from(encodePushRequestJson(req)) : (req) => snappyCompress(encodePushRequestProto(req));
}

/** The tenant and basic auth, for pushes and queries alike. */
function authHeaders(): Record<string, string> {
  const h: Record<string, string> = {};
  if (args.tenant) h['x-scope-orgid'] = args.tenant;
  if (args.user || args.password) h.authorization = `Basic ${Buffer.from(`${args.user}:${args.password}`).toString('base64')}`;
  return h;
}

/** Why a push failed, as a reader wants it: the status and the server's text, or the network error. */
async function pushError(res: Response): Promise<string> {
  return `HTTP ${res.status}: ${(await res.text()).trim().slice(0, 300)}`;
}

/** An untimed push (the probe, the preload): an endpoint that cannot be reached or refuses it fails the run, clearly. */
async function pushOrFail(pushUrl: string, headers: Record<string, string>, body: Buffer): Promise<void> {
  const res = await fetch(pushUrl, { method: 'POST', headers, body }).catch((e: Error) => {
    throw new Error(`cannot reach ${pushUrl}: ${networkReason(e)}`);
  });
  if (res.status < 200 || res.status > 299) throw new Error(`the server refuses the load: ${await pushError(res)}`);
  await res.arrayBuffer();
}

/** Pushes the preload, `concurrency` bodies at a time. */
async function preload(pushUrl: string, headers: Record<string, string>, bodies: readonly Buffer[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) await pushOrFail(pushUrl, headers, bodies[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function main(): Promise<void> {
  const o = options();
  process.stderr.write(`building requests: ${o.streams} streams, ${args.mb} MB of lines, ${o.format}...\n`);
  const req = buildRequests(o, o.targetBytes, Date.now() - 3_600_000, encoderFor(o.format));
  const preloadBodies = o.preloadBytes > 0 ? buildRequests(o, o.preloadBytes, Date.now() - 7_200_000, encoderFor(o.format)).bodies : [];
  const server = args.url ? undefined : await startLokiLite(args['loki-lite-args'] ? args['loki-lite-args'].split(' ') : [], args['loki-lite-config']);
  const url = args.url || server!.url;
  const pid = server?.child.pid ?? (args.pid ? Number(args.pid) : undefined);
  const headers = { 'content-type': o.format === 'json' ? 'application/json' : 'application/x-protobuf', ...authHeaders() };
  const pushUrl = `${url.replace(/\/$/, '')}/loki/api/v1/push`;
  try {
    // One push before the clock starts: an unreachable endpoint or one that refuses the load fails here, clearly.
    await pushOrFail(pushUrl, headers, req.bodies[0]!);
    let preloadPeakRss: number | undefined;
    if (preloadBodies.length > 0) {
      process.stderr.write(`preloading ${args['preload-mb']} MB...\n`);
      await preload(pushUrl, headers, preloadBodies, o.concurrency);
      preloadBodies.length = 0;
      // Reset, the peak reported at the end is the one while the timed pushes (and queries) run.
      const peak = pid ? peakRssBytes(pid) : 0;
      if (pid && resetPeakRss(pid)) preloadPeakRss = peak;
    }

    const cpuBefore = pid ? cpuSeconds(pid) : 0;
    const latencies = new Float64Array(req.bodies.length);
    const errors: ErrorsByStatus = new Map();
    let sent = 0;
    let next = 1; // body 0 was the probe, which is not timed
    let sentLines = 0;
    let sentBytes = 0;
    const queries = o.queryClients > 0 ? startQueryLoad(url, o.queryClients, args['load-query'], authHeaders()) : undefined;
    const started = performance.now();
    const progress = new Progress(
      () =>
        `pushed ${(sentBytes / 1048576).toFixed(0)} MB, ${Math.round(sentLines / ((performance.now() - started) / 1000))} lines/s, ${[...errors.values()].reduce((n, e) => n + e.count, 0)} errors${queries ? `, ${queries.completed()} queries` : ''}`,
    );
    const worker = async () => {
      while (next < req.bodies.length && performance.now() - started < o.durationMs) {
        const i = next++;
        const t = performance.now();
        let status: string;
        let text = '';
        try {
          const res = await fetch(pushUrl, { method: 'POST', headers, body: req.bodies[i] });
          status = String(res.status);
          if (res.status >= 200 && res.status < 300) await res.arrayBuffer();
          else text = await pushError(res);
        } catch (e) {
          status = 'network';
          text = networkReason(e);
        }
        latencies[sent++] = performance.now() - t;
        if (text) countError(errors, status, text);
        else {
          sentLines += req.lines[i]!;
          sentBytes += req.bytes[i]!;
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    const cpu = pid ? cpuSeconds(pid) - cpuBefore : 0;
    const queryFigures = await queries?.stop();
    progress.stop();
    const mb = sentBytes / 1024 / 1024;
    const sorted = latencies.subarray(0, sent).sort();
    const result: Record<string, unknown> = {
      endpoint: args.url || 'loki-lite (started by the bench)',
      format: o.format,
      streams: o.streams,
      pushes: sent,
      lines: sentLines,
      'MB of lines': Number(mb.toFixed(1)),
      seconds: Number(seconds.toFixed(2)),
      'lines/s': Math.round(sentLines / seconds),
      'MB/s': Number((mb / seconds).toFixed(1)),
      'push latency p50 ms': percentile(sorted, 0.5),
      'push latency p99 ms': percentile(sorted, 0.99),
      errors: Object.fromEntries(errors),
      ...queryFigures,
    };
    if (pid) {
      result['server CPU s'] = Number(cpu.toFixed(2));
      result['server CPU s per 100 MB'] = Number(((cpu / mb) * 100).toFixed(2));
      result['server peak RSS MB'] = Math.round(peakRssBytes(pid) / 1024 / 1024);
      if (preloadPeakRss !== undefined) result['server peak RSS MB while preloading'] = Math.round(preloadPeakRss / 1024 / 1024);
    }
    printResult(result, args.json === 'true');
  } finally {
    server?.stop();
  }
}

await main();
