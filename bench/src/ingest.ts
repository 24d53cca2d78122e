import { encodePushRequestProto, type PushStream, snappyCompress } from '@loki-lite/shared';
import { parseArgs } from './args.js';
import { LineGenerator } from './loglines.js';
import { cpuSeconds, peakRssBytes } from './proc.js';
import { startLokiLite } from './server.js';

/*
 * Ingest benchmark: protobuf+snappy pushes over HTTP, as Promtail/Alloy send them, to any Loki-compatible
 * endpoint. Without --url it starts loki-lite (embedded-default style: filesystem store, WAL on, snappy
 * chunks) in a temporary folder and also reports the server's CPU seconds per 100 MB and its peak RSS.
 *
 *   node bench/dist/ingest.js --streams 200 --mb 500
 *   node bench/dist/ingest.js --url http://loki:3100 --streams 5000 --mb 200
 */
const args = parseArgs(process.argv.slice(2), {
  url: '', streams: '200', mb: '300', 'lines-per-push': '1000', concurrency: '4', tenant: '', 'loki-lite-args': '',
});
const streams = Number(args.streams);
const targetBytes = Number(args.mb) * 1024 * 1024;
const linesPerPush = Number(args['lines-per-push']);
const concurrency = Number(args.concurrency);

/** Pre-encodes every request so the client's own CPU stays out of the measurement as far as possible. */
function buildRequests(): { bodies: Buffer[]; lines: number; bytes: number } {
  const gen = new LineGenerator(42);
  const start = BigInt(Date.now() - 3_600_000) * 1_000_000n;
  const bodies: Buffer[] = [];
  let bytes = 0;
  let lines = 0;
  let seq = 0;
  const perStream = Math.max(1, Math.floor(linesPerPush / Math.min(streams, linesPerPush)));
  let nextStream = 0;
  while (bytes < targetBytes) {
    const batch: PushStream[] = [];
    for (let n = 0; n < linesPerPush; n += perStream) {
      const s = nextStream++ % streams;
      const entries = [];
      for (let k = 0; k < perStream; k++) {
        const ts = start + BigInt(seq) * 1_000n;
        const line = gen.line(seq++, new Date(Number(ts / 1_000_000n)).toISOString());
        entries.push({ timestamp: ts, line, structuredMetadata: [] });
        bytes += Buffer.byteLength(line);
      }
      lines += entries.length;
      batch.push({ labels: `{namespace="training", app="bench", pod="worker-${s}", container="trainer", job="training/trainer"}`, entries });
    }
    bodies.push(snappyCompress(encodePushRequestProto({ streams: batch })));
  }
  return { bodies, lines, bytes };
}

async function main(): Promise<void> {
  process.stderr.write(`building requests: ${streams} streams, ${args.mb} MB of lines, ${linesPerPush} lines per push...\n`);
  const { bodies, lines, bytes } = buildRequests();
  const server = args.url ? undefined : await startLokiLite(args['loki-lite-args'] ? args['loki-lite-args'].split(' ') : []);
  const url = args.url || server!.url;
  const pid = server?.child.pid;
  const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
  if (args.tenant) headers['x-scope-orgid'] = args.tenant;

  const cpuBefore = pid ? cpuSeconds(pid) : 0;
  const started = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers, body });
      if (res.status !== 204) throw new Error(`push answered ${res.status}: ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const mb = bytes / 1024 / 1024;
  const result: Record<string, string | number> = {
    endpoint: args.url || 'loki-lite (started by the bench)',
    streams,
    pushes: bodies.length,
    lines,
    'MB of lines': Number(mb.toFixed(1)),
    seconds: Number(seconds.toFixed(2)),
    'lines/s': Math.round(lines / seconds),
    'MB/s': Number((mb / seconds).toFixed(1)),
  };
  if (pid) {
    const cpu = cpuSeconds(pid) - cpuBefore;
    result['server CPU s'] = Number(cpu.toFixed(2));
    result['server CPU s per 100 MB'] = Number(((cpu / mb) * 100).toFixed(2));
    result['server peak RSS MB'] = Math.round(peakRssBytes(pid) / 1024 / 1024);
  }
  console.log(JSON.stringify(result, null, 2));
  server?.stop();
}

await main();
