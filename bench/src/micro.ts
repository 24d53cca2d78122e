import { ContainerLogDecoder } from '@loki-lite/agent/decode';
import { decodePushBody, encodePushRequestJson, encodePushRequestProto, EntryColumns, NO_METADATA, type PushStream, snappyCompress } from '@loki-lite/shared';
import { parseConfig } from 'loki-lite';
import { MemChunk } from 'loki-lite/chunk';
import { readChunkBlocks } from 'loki-lite/chunk-reader';
import { EntryProbe } from 'loki-lite/chunk-duplicates';
import { parseQuery } from 'loki-lite/logql-parser';
import { compilePipeline } from 'loki-lite/logql-pipeline';
import { compileBytePrefilter } from 'loki-lite/logql-prefilter';
import { entryWindow, validateEntry } from 'loki-lite/validate';
import { Bench } from 'tinybench';
import { parseArgs } from './args.js';
import { LineGenerator } from './loglines.js';
import { printResult } from './report.js';

/*
 * Micro benchmarks of the hot paths, on the bench's training-cluster lines (tinybench, warm JIT): push body
 * decode (protobuf + snappy, JSON), validation, chunk append with block compression, block decompression
 * with a line filter, logfmt and json parsing, regex line filters and the regexp parser, and the agent's CRI
 * decode. Each prints ops/s and the MB/s of line bytes that rate means; `--only` picks benchmarks whose name
 * contains the text.
 *
 *   pnpm bench micro
 *   pnpm bench micro --only logfmt --json
 */
const args = parseArgs(process.argv.slice(2), { only: '', time: '1000', json: '' });

const LINES = 1000;
const gen = new LineGenerator(5);
const t0 = BigInt(Date.UTC(2026, 11, 1)) * 1_000_000n;
const lines = Array.from({ length: LINES }, (_, i) => gen.line(i, new Date(Number(t0 / 1_000_000n) + i).toISOString()));
const lineBytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
const streams: PushStream[] = Array.from({ length: 10 }, (_, s) => ({
  labels: `{app="bench", pod="worker-${s}"}`,
  entries: lines.slice(s * 100, s * 100 + 100).map((line, i) => ({ timestamp: t0 + BigInt(s * 100 + i) * 1000n, line, structuredMetadata: [] })),
}));
const protoBody = snappyCompress(encodePushRequestProto({ streams }));
const jsonBody = Buffer.from(encodePushRequestJson({ streams }));

// Validation: Loki's default limits, timestamps inside the accepted window.
const { config } = parseConfig(
  'common: {path_prefix: /nonexistent}\nschema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]}\nlimits_config: {reject_old_samples: false}',
);
const limits = config.limits_config;
const decoded = decodePushBody(protoBody, { contentType: 'application/x-protobuf', contentEncoding: undefined, maxMessageBytes: 1 << 30 });
const window = entryWindow(limits, t0 + 3_600_000_000_000n);

// A stored chunk of 5,000 lines, for block decompression with a line filter; entries 1 µs apart.
const lineColumns = new EntryColumns(Buffer.from(lines.join('')), 5 * LINES);
for (let i = 0, pos = 0; i < 5 * LINES; i++) {
  const length = Buffer.byteLength(lines[i % LINES]!);
  if (i % LINES === 0) pos = 0;
  lineColumns.add(Number(t0 / 1_000_000_000n), i * 1000, pos, (pos += length), NO_METADATA);
}
function chunkOf(n: number): MemChunk {
  const chunk = new MemChunk('snappy', 256 * 1024, 1536 * 1024, true);
  for (let i = 0; i < n; i++) chunk.appendRaw(lineColumns, i, NO_METADATA);
  return chunk;
}
const storedChunk = chunkOf(5 * LINES).encode();
const filterQuery = parseQuery('{app="bench"} |= "NCCL"') as { pipeline: Parameters<typeof compileBytePrefilter>[0] };
const prefilter = compileBytePrefilter(filterQuery.pipeline);

// Duplicate lookups (an entry no later than its stream's newest): 1,000 lines at odd µs, late, into
// chunks of 5,000 lines at even µs, and 1,000 of those again (repeats). `unsorted`: the chunk's head has
// taken late lines (every 10th line of its 5,000 comes a little late), so runs of its head overlap.
const lateColumns = new EntryColumns(Buffer.from(lines.join('')), LINES);
for (let i = 0, pos = 0; i < LINES; i++) lateColumns.add(Number(t0 / 1_000_000_000n), i * 5000 + 1, pos, (pos += Buffer.byteLength(lines[i]!)), NO_METADATA);
function headOf(unsorted: boolean): MemChunk {
  const chunk = new MemChunk('snappy', 1 << 20, 1 << 30, true);
  for (let i = 0; i < 5 * LINES; i++) chunk.appendRaw(lineColumns, unsorted && i % 10 === 9 ? i - 5 : i, NO_METADATA);
  return chunk;
}
const lookIn = (chunk: MemChunk, columns: EntryColumns) => () => {
  const probe = new EntryProbe();
  for (let i = 0; i < LINES; i++) {
    probe.set(columns, i);
    chunk.holds(probe);
  }
};
const sortedHead = headOf(false);
const unsortedHead = headOf(true);
const cutBlocks = chunkOf(5 * LINES);
cutBlocks.cutBlock();

/** `wanted`: the parser hints the querier passes when a query reads only these labels. */
const pipelineFor = (q: string, wanted?: ReadonlySet<string>) =>
  compilePipeline((parseQuery(q) as { pipeline: Parameters<typeof compilePipeline>[0] }).pipeline, wanted).forStream([{ name: 'app', value: 'bench' }]);
const logfmt = pipelineFor('{app="bench"} | logfmt');
const json = pipelineFor('{app="bench"} | json');
// The issue-12 query sets' pipelines, over all four kinds of line (the others are parse errors).
const logfmtFilter = pipelineFor('{app="bench"} | logfmt | __error__="" | grad_norm > 1.4', new Set(['__error__', 'grad_norm']));
const jsonFilter = pipelineFor('{app="bench"} | json | __error__="" | latency_ms > 960', new Set(['__error__', 'latency_ms']));
const logfmtLines = lines.filter((l) => l.startsWith('level='));
const jsonLines = lines.filter((l) => l.startsWith('{'));
const bytesOf = (ls: readonly string[]) => ls.reduce((n, l) => n + Buffer.byteLength(l), 0);

// Regex line filters and the regexp parser as a query runs them, on lines of which none, a few, a tenth, a
// quarter and a half match: the share is counted here and named, so a change that matched other lines shows.
const REGEX_STAGES = [
  '|~ `err(or)?.*timeout`',
  '|~ `level":"warn|" 500 `',
  '|~ `loss=1\\.[0-7]`',
  '|~ `(?i)nccl info`',
  '|~ `(rank=|Rank )[0-9]+`',
  '| regexp `rank=(?P<rank>\\d+) step`',
];
const regexBenchmarks = REGEX_STAGES.map((stage): [string, number, () => void] => {
  const pipeline = pipelineFor(`{app="bench"} ${stage}`);
  const kept = lines.filter((l) => pipeline.run(l, t0, []) !== undefined).length;
  return [
    `regex ${stage} (${((100 * kept) / lines.length).toFixed(1)}% of lines kept): 1,000 lines`,
    lineBytes,
    () => {
      for (const l of lines) pipeline.run(l, t0, []);
    },
  ];
});

// CRI: the same lines as containerd writes them.
const criBuf = Buffer.from(lines.map((l, i) => `2026-12-01T00:00:00.${String(i).padStart(9, '0')}Z stdout F ${l}\n`).join(''));
const criNewlines: number[] = [];
for (let i = criBuf.indexOf(10); i >= 0; i = criBuf.indexOf(10, i + 1)) criNewlines.push(i);
let criEmitted = 0;
const cri = new ContainerLogDecoder({ maxPartialBytes: 256 * 1024, maxPartialAgeMs: 5000 }, () => criEmitted++);

/** name, line bytes one op handles, the op. */
const benchmarks: Array<[string, number, () => void]> = [
  [
    'push decode: protobuf + snappy, 1,000 lines',
    lineBytes,
    () => decodePushBody(protoBody, { contentType: 'application/x-protobuf', contentEncoding: undefined, maxMessageBytes: 1 << 30 }),
  ],
  [
    'push decode: JSON, 1,000 lines',
    lineBytes,
    () => decodePushBody(jsonBody, { contentType: 'application/json', contentEncoding: undefined, maxMessageBytes: 1 << 30 }),
  ],
  [
    'validation: 1,000 entries',
    lineBytes,
    () => {
      for (const s of decoded.streams) for (let i = 0; i < s.entries.count; i++) validateEntry(s.entries, i, s.labels, limits, window);
    },
  ],
  ['chunk append + block compression: 5,000 lines', 5 * lineBytes, () => chunkOf(5 * LINES).encode()],
  [
    'block decompression + |= filter: 5,000 lines',
    5 * lineBytes,
    () => {
      const runs = readChunkBlocks(storedChunk, 0n, 1n << 62n, false, prefilter);
      while (runs.next()) {
        // the kept entries are made; nothing else to do
      }
    },
  ],
  ['duplicate lookup: 1,000 late lines, 5,000-line head in order', lineBytes, lookIn(sortedHead, lateColumns)],
  ['duplicate lookup: 1,000 late lines, 5,000-line head with late lines', lineBytes, lookIn(unsortedHead, lateColumns)],
  ['duplicate lookup: 1,000 late lines, 5,000 lines in cut blocks', lineBytes, lookIn(cutBlocks, lateColumns)],
  ['duplicate lookup: 1,000 repeats, 5,000-line head with late lines', lineBytes, lookIn(unsortedHead, lineColumns)],
  ['duplicate lookup: 1,000 repeats, 5,000 lines in cut blocks', lineBytes, lookIn(cutBlocks, lineColumns)],
  [
    'logfmt parse: 250 lines',
    bytesOf(logfmtLines),
    () => {
      for (const l of logfmtLines) logfmt.run(l, t0, []);
    },
  ],
  [
    'json parse: 250 lines',
    bytesOf(jsonLines),
    () => {
      for (const l of jsonLines) json.run(l, t0, []);
    },
  ],
  [
    'logfmt | __error__="" | grad_norm > 1.4, hinted: 1,000 mixed lines',
    lineBytes,
    () => {
      for (const l of lines) logfmtFilter.run(l, t0, []);
    },
  ],
  [
    'json | __error__="" | latency_ms > 960, hinted: 1,000 mixed lines',
    lineBytes,
    () => {
      for (const l of lines) jsonFilter.run(l, t0, []);
    },
  ],
  ...regexBenchmarks,
  [
    'agent CRI decode: 1,000 lines',
    criBuf.length,
    () => {
      let start = 0;
      for (const nl of criNewlines) {
        cri.line(criBuf, start, nl, start, nl + 1);
        start = nl + 1;
      }
    },
  ],
];

const selected = benchmarks.filter(([name]) => name.includes(args.only));
if (selected.length === 0) throw new Error(`no benchmark name contains "${args.only}"; names: ${benchmarks.map(([n]) => n).join('; ')}`);
const bench = new Bench({ time: Number(args.time), warmupTime: 200 });
for (const [name, , fn] of selected) bench.add(name, fn);
await bench.run();
const results = selected.map(([name, bytes], i) => {
  const r = bench.tasks[i]!.result;
  if (!r || r.state !== 'completed') throw new Error(`${name}: ${r?.state ?? 'no result'}`);
  return { benchmark: name, 'ops/s': Math.round(r.throughput.mean), 'MB/s': Number(((r.throughput.mean * bytes) / 1e6).toFixed(1)) };
});
// A decoder that emits nothing would be measured doing no work.
if (selected.some(([name]) => name.startsWith('agent CRI')) && criEmitted === 0) throw new Error('the CRI decoder emitted nothing');
printResult({ results }, args.json === 'true');
