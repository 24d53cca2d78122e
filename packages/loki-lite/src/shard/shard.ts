import { type Label, type Labels, LokiError, printLabels } from '@loki-lite/shared';
import { byTimestamp, type Entry } from '../chunk/entry.js';
import { type BlockRuns, readChunkBlocks, readSnapshotBlocks } from '../chunk/reader.js';
import type { MemoryChunkSnapshot } from '../chunk/snapshot.js';
import type { ChunkRef } from '../index/types.js';
import { chunkKey } from '../storage/keys.js';
import type { StreamSamples } from '../logql/engine/evaluate.js';
import { type FoldState, RangeFold } from '../logql/engine/fold.js';
import type { SampleSink } from '../logql/engine/value.js';
import { ERROR_LABEL, type LabelsBuilder } from '../logql/log/labels-builder.js';
import { DETECTED_LEVEL, detectLevel } from '../logql/log/level-detection.js';
import { compilePipeline, compileUnwrap } from '../logql/log/pipeline.js';
import { type BytePrefilter, compileBytePrefilter } from '../logql/log/prefilter.js';
import type { Grouping, LabelFilterExpr, LogSelectorExpr, RangeAggregationExpr } from '../logql/syntax/ast.js';
import { fromWire } from '../logql/syntax/wire.js';
import { chunkEdge, compareEdges, type Direction } from '../iter/direction.js';
import { type ChunkSource, mergeChunks } from '../iter/merge-chunks.js';
import { mergeDedup } from '../iter/merge-dedup.js';
import { DeletePipelines, type StreamDelete } from './deletes.js';
import { SampleListBuilder, SampleListCursor, type StreamSampleList } from './sample-lists.js';
import type { ResultEntry } from './types.js';

/*
 * A shard of a query: some of its streams over some of its time range, read and run through the pipeline
 * into a partial answer that the planner (querier.ts) merges with the other shards'. Everything here is
 * plain data in and out (the parsed query in wire form, chunk references, memory snapshots), so a shard
 * runs the same on the server's thread and on a worker thread (pool/shard-worker.ts).
 */

/** One stream of a shard: its in-memory chunks (snapshots) and stored chunks. */
export interface ShardStream {
  /** Its tenant, when the query spans several (`a|b`); else the shard's. */
  readonly tenant?: string;
  readonly labels: Labels;
  readonly memory: readonly MemoryChunkSnapshot[];
  readonly chunks: readonly ChunkRef[];
  /** The tenant's delete requests that match this stream: their lines are not read (deletes.ts). */
  readonly deletes?: readonly StreamDelete[];
  /**
   * A sample shard's samples of this stream from the ingester (which ran the pipeline over its memory),
   * folded in with the stored chunks' lines; a stored line among them is not counted again.
   */
  readonly ingesterSamples?: StreamSampleList;
}

interface ShardCommon {
  readonly tenant: string;
  readonly streams: readonly ShardStream[];
  /** Entries with from <= timestamp < through are read. */
  readonly from: bigint;
  readonly through: bigint;
  /** Loki's discover_log_levels: every line read gets detected_level. */
  readonly discoverLogLevels: boolean;
}

/** A log query's shard: the lines nearest its start (forward) or end (backward), at most `limit`. */
export interface LogsShard extends ShardCommon {
  readonly kind: 'logs';
  /** The log selector with its pipeline, in wire form (logql/syntax/wire.ts). */
  readonly query: LogSelectorExpr;
  readonly direction: Direction;
  readonly limit: number;
  readonly categorize: boolean;
}

/** A foldable range aggregation's shard: its figures per series and step (see RangeFold). */
export interface FoldShard extends ShardCommon {
  readonly kind: 'fold';
  /** The range aggregation, in wire form (logql/syntax/wire.ts). */
  readonly query: RangeAggregationExpr;
  readonly start: bigint;
  readonly end: bigint;
  readonly step: bigint;
  readonly grouping: Grouping | undefined;
}

/** Every sample of a range aggregation's lines, for the functions that need a window's every value. */
export interface SamplesShard extends ShardCommon {
  readonly kind: 'samples';
  /** The range aggregation, in wire form (logql/syntax/wire.ts). */
  readonly query: RangeAggregationExpr;
  readonly grouping: Grouping | undefined;
}

/** What an ingester answers a range aggregation with: each stream's samples, not yet aggregated (sample-lists.ts). */
export interface StreamSamplesShard extends ShardCommon {
  readonly kind: 'stream-samples';
  /** The range aggregation, in wire form (logql/syntax/wire.ts). */
  readonly query: RangeAggregationExpr;
  readonly grouping: Grouping | undefined;
}

export type ShardTask = LogsShard | FoldShard | SamplesShard | StreamSamplesShard;

/** What a shard read, for the answer's stats. */
export interface ShardProcessed {
  lines: number;
  bytes: number;
  chunks: number;
  /** Keys of stored chunks the index names but the store no longer has (their lines are left out). */
  missingChunks: string[];
}

export interface LogGroup {
  readonly labels: Labels;
  /** Sorted by timestamp (forward), without duplicates. */
  readonly entries: ResultEntry[];
}

export type ShardResult = { readonly processed: ShardProcessed } & (
  | { readonly kind: 'logs'; readonly groups: LogGroup[] }
  | { readonly kind: 'fold'; readonly state: FoldState }
  | { readonly kind: 'samples'; readonly series: StreamSamples[] }
  | { readonly kind: 'stream-samples'; readonly streams: StreamSampleList[] }
);

/** What a shard needs from where it runs. */
export interface ShardEnv {
  /** A stored chunk's bytes. */
  getChunk(tenant: string, ref: ChunkRef): Promise<Uint8Array>;
  /** Throws when the query must stop (deadline, cancellation); called every few thousand lines. */
  checkStopped(): void;
}

export async function runShard(task: ShardTask, env: ShardEnv): Promise<ShardResult> {
  const reader = new ShardReader(task, env);
  switch (task.kind) {
    case 'logs': {
      const groups = await reader.logGroups(fromWire(task.query), task);
      return { kind: 'logs', groups, processed: reader.processed };
    }
    case 'fold': {
      const expr = fromWire(task.query);
      const fold = new RangeFold(expr, task.start, task.end, task.step, task.grouping);
      await reader.samples(expr, fold.readGrouping, fold.sink());
      return { kind: 'fold', state: fold.state(), processed: reader.processed };
    }
    case 'samples': {
      const expr = fromWire(task.query);
      return { kind: 'samples', series: await reader.sampleLists(expr, task.grouping), processed: reader.processed };
    }
    case 'stream-samples': {
      const expr = fromWire(task.query);
      return { kind: 'stream-samples', streams: await reader.streamSampleLists(expr, task.grouping), processed: reader.processed };
    }
  }
}

/**
 * Streams ahead whose first stored chunk is asked for while the current stream is read: a stream's own
 * chunks are fetched ahead by the merge, but most streams of a query have one chunk in range, and without
 * this a thread would wait for a store round trip at every stream.
 */
const STREAMS_AHEAD = 4;

/** The lines of one shard through the query's pipeline. */
class ShardReader {
  readonly processed: ShardProcessed = { lines: 0, bytes: 0, chunks: 0, missingChunks: [] };
  /** Stored chunks asked for ahead of their stream (see STREAMS_AHEAD). */
  private readonly fetched = new Map<ChunkRef, Promise<Uint8Array>>();

  constructor(
    private readonly task: ShardTask,
    private readonly env: ShardEnv,
  ) {}

  /**
   * The lines that pass the selector's pipeline grouped by their resulting label set, as Loki does: a
   * parser can split one stream into many series, and drop/keep can join streams. Only the first `limit`
   * lines of each group, and `limit` lines over all groups, in the query's direction, can be in the
   * answer, so no more are kept; merged with other shards' groups the cut is the same as over the whole.
   */
  async logGroups(selector: LogSelectorExpr, q: { direction: Direction; limit: number; categorize: boolean }): Promise<LogGroup[]> {
    const kept: LogGroup[] = [];
    let parts = new Map<string, LogGroup>();
    const flush = () => {
      for (const part of parts.values()) kept.push(q.direction === 'backward' ? { labels: part.labels, entries: part.entries.reverse() } : part);
      parts = new Map();
    };
    await this.run(
      selector,
      undefined,
      q,
      (e, line, b) => {
        let entry: ResultEntry;
        let stream: { labels: Labels; key: string };
        if (q.categorize) {
          const c = b.categorized();
          stream = c.stream;
          entry = { timestamp: e.timestamp, line, structuredMetadata: c.structuredMetadata, parsed: c.parsed };
        } else {
          stream = b.result();
          entry = line === e.line ? e : { timestamp: e.timestamp, line, structuredMetadata: e.structuredMetadata };
        }
        let part = parts.get(stream.key);
        if (!part) parts.set(stream.key, (part = { labels: stream.labels, entries: [] }));
        // Lines the pipeline made the same (timestamp and line) are one line of the answer: count it once.
        if (repeats(part.entries, entry)) return false;
        part.entries.push(entry);
        return true;
      },
      flush,
    );
    flush();
    return mergeLogGroups(kept, q.direction, q.limit);
  }

  /**
   * Every line of the range aggregation's selector that passes its pipeline (and unwrap), to `sink` as it
   * is read (series numbered as they appear), so nothing per line is kept. Lines arrive in time order
   * within a stream. A series with an __error__ label fails the query once the walk is done, as in Loki.
   */
  async samples(
    expr: RangeAggregationExpr,
    grouping: Grouping | undefined,
    sink: SampleSink,
    nextStream: (stream: number) => void = () => {},
    sampledLine?: (line: string) => void,
  ): Promise<void> {
    const { selector } = expr;
    const unwrap = selector.unwrap ? compileUnwrap(selector.unwrap) : undefined;
    const labelsOf = grouping ? groupedResult(grouping.labels) : (b: LabelsBuilder) => b.result();
    // A line's size in UTF-8 is a pass over it: only the bytes functions read it.
    const bytesOp = expr.op === 'bytes_over_time' || expr.op === 'bytes_rate';
    const ids = new Map<string, number>();
    let failed: Labels | undefined;
    const idOf = (labels: Labels, key: string) => {
      let id = ids.get(key);
      if (id === undefined) {
        if (!failed && labels.some((l) => l.name === ERROR_LABEL)) failed = labels;
        ids.set(key, (id = sink.series(labels)));
      }
      return id;
    };
    await this.run(
      selector,
      grouping && requiredLabels(selector, grouping),
      undefined,
      (e, line, b) => {
        let value = 0;
        if (unwrap) {
          const v = unwrap(b);
          if (v === undefined) return false;
          value = v;
        }
        const { labels, key } = labelsOf(b);
        const id = idOf(labels, key);
        sampledLine?.(e.line);
        sink.sample(id, e.timestamp, bytesOp ? Buffer.byteLength(line) : 0, value);
        return true;
      },
      nextStream,
      (list) => {
        // The ingester's samples of the stream go to the sink in time order between the stored lines.
        const seriesIds = list.series.map((labels) => idOf(labels, printLabels(labels)));
        return new SampleListCursor(list, (index, ts, bytes, value) => sink.sample(seriesIds[index]!, ts, bytes, value));
      },
    );
    if (failed) throw pipelineError(failed);
  }

  /** The samples of `samples` as sorted lists per series. */
  async sampleLists(expr: RangeAggregationExpr, grouping: Grouping | undefined): Promise<StreamSamples[]> {
    const series: SeriesLists[] = [];
    let stream = -1;
    await this.samples(
      expr,
      grouping,
      {
        series: (labels) => series.push({ labels, timestamps: [], bytes: [], values: [], stream }) - 1,
        sample: (id, ts, bytes, value) => {
          const s = series[id]!;
          if (s.stream !== stream) s.stream = -1; // lines from several streams: sorted at the end
          s.timestamps.push(ts);
          s.bytes.push(bytes);
          s.values.push(value);
        },
      },
      (i) => (stream = i),
    );
    const withValues = expr.selector.unwrap !== undefined;
    return series.map((s) =>
      s.stream === -1 ? sortSeries(s, withValues) : { labels: s.labels, timestamps: s.timestamps, bytes: s.bytes, values: withValues ? s.values : undefined },
    );
  }

  /** The samples of `samples` per stream, with their lines' hashes: what an ingester answers (sample-lists.ts). */
  async streamSampleLists(expr: RangeAggregationExpr, grouping: Grouping | undefined): Promise<StreamSampleList[]> {
    const { streams } = this.task;
    const lists: SampleListBuilder[] = [];
    const series: Labels[] = [];
    let line = '';
    await this.samples(
      expr,
      grouping,
      {
        series: (labels) => series.push(labels) - 1,
        sample: (id, ts, bytes, value) => lists[lists.length - 1]!.add(id, series[id]!, ts, bytes, value, line),
      },
      (i) => lists.push(new SampleListBuilder(streams[i]!.labels, printLabels(streams[i]!.labels))),
      // Called with each sample's line as read, just before the sink's sample().
      (raw) => (line = raw),
    );
    return lists.filter((b) => b.size > 0).map((b) => b.build());
  }

  /**
   * The read loop of every shard: each stream's entries in [from, through), memory and chunks merged
   * without duplicates, through the pipeline. `visit` gets every line that passes (with the builder
   * holding its labels) and says whether it counted towards `nearest.limit`; `nextStream` is called
   * before each stream. A stream's ingester samples (sample shards only) go through the cursor that
   * `cursorOf` makes, in time order between its stored lines.
   */
  private async run(
    selector: LogSelectorExpr,
    wanted: ReadonlySet<string> | undefined,
    nearest: { limit: number; direction: Direction } | undefined,
    visit: (e: Entry, line: string, b: LabelsBuilder) => boolean,
    nextStream: (stream: number) => void,
    cursorOf?: (list: StreamSampleList) => SampleListCursor,
  ): Promise<void> {
    const { task, env } = this;
    const pipeline = compilePipeline(selector.pipeline, wanted);
    // Lines read and bytes are counted by the block readers (this.processed), as they decode.
    let seen = 0;
    // detected_level costs a scan of each line: skip it when the query cannot see it (a grouping that
    // leaves it out, and no stage that reads it).
    const discoverLevels = task.discoverLogLevels && (wanted === undefined || wanted.has(DETECTED_LEVEL));
    const backward = nearest?.direction === 'backward';
    // A prefilter depends on the stream only through its label names, which most streams of a query share:
    // one per set of names (each block resets it, so streams read one after another can share it).
    const prefilters = new Map<string, BytePrefilter | undefined>();
    const deletePipelines = new DeletePipelines();
    const prefilterFor = (labels: Labels) => {
      const names = labels.map((l) => l.name).join(',');
      if (!prefilters.has(names)) prefilters.set(names, compileBytePrefilter(selector.pipeline, new Set(labels.map((l) => l.name))));
      return prefilters.get(names);
    };
    for (const [i, src] of task.streams.entries()) {
      this.fetchAhead(i + 1, backward);
      nextStream(i);
      const stream = pipeline.forStream(src.labels);
      const prefilter = prefilterFor(src.labels);
      const deleted = deletePipelines.forStream(src.labels, src.deletes);
      let remaining = nearest?.limit ?? Infinity;
      const tenant = src.tenant ?? task.tenant;
      const chunks = [...src.memory.map((m) => this.memoryChunk(m, prefilter)), ...src.chunks.map((ref) => this.storedChunk(tenant, ref, prefilter))];
      const ingester = src.ingesterSamples && cursorOf?.(src.ingesterSamples);
      await mergeChunks(chunks, nearest?.direction ?? 'forward', (e) => {
        // The clock and the cancel flag are read every 4096 lines: cheap, and a query cannot outrun them by much.
        if ((++seen & 4095) === 0) env.checkStopped();
        if (ingester) {
          ingester.emitBefore(e.timestamp);
          if (ingester.has(e.timestamp, e.line)) return remaining > 0;
        }
        if (deleted !== undefined && deleted(e.timestamp, e.line, e.structuredMetadata)) return remaining > 0;
        let entry = e;
        if (discoverLevels) {
          const level = detectLevel(src.labels, e.structuredMetadata, e.line);
          if (level !== undefined) entry = { ...e, structuredMetadata: [...e.structuredMetadata, { name: DETECTED_LEVEL, value: level }] };
        }
        const line = stream.run(entry.line, entry.timestamp, entry.structuredMetadata);
        if (line !== undefined && visit(entry, line, stream.builder)) remaining--;
        return remaining > 0;
      });
      ingester?.emitRest();
    }
  }

  /**
   * Runs that look at the stop flag and deadline before each block group too: lines the prefilter skips
   * never reach the per-line check, and a rare needle over much data would not notice a stop for long.
   */
  private checked(runs: BlockRuns): BlockRuns {
    const { env } = this;
    return {
      next() {
        env.checkStopped();
        return runs.next();
      },
    };
  }

  /** Asks for the first stored chunk (in the merge's opening order) of each of the next STREAMS_AHEAD streams. */
  private fetchAhead(next: number, backward: boolean): void {
    const { streams } = this.task;
    const edge = (r: ChunkRef) => chunkEdge(r.from, r.through, backward);
    for (let j = next; j < Math.min(streams.length, next + STREAMS_AHEAD); j++) {
      const refs = streams[j]!.chunks;
      if (refs.length === 0) continue;
      let first = refs[0]!;
      for (const r of refs) if (compareEdges(edge(r), edge(first), backward) < 0) first = r;
      if (this.fetched.has(first)) continue;
      const bytes = this.env.getChunk(streams[j]!.tenant ?? this.task.tenant, first);
      bytes.catch(() => {}); // a failure is seen when the stream is read
      this.fetched.set(first, bytes);
    }
  }

  /** A stored chunk's bytes: fetched ahead, or asked for now. */
  private chunkBytes(tenant: string, ref: ChunkRef): Promise<Uint8Array> {
    const ahead = this.fetched.get(ref);
    if (!ahead) return this.env.getChunk(tenant, ref);
    this.fetched.delete(ref);
    return ahead;
  }

  /** A chunk in memory read with the same block reader, prefilter and counters as a stored one. */
  private memoryChunk(m: MemoryChunkSnapshot, prefilter: BytePrefilter | undefined): ChunkSource {
    const { from, through } = this.task;
    return {
      minTs: m.minTs,
      maxTs: m.maxTs,
      remote: false,
      load: (backward) => Promise.resolve(this.checked(readSnapshotBlocks(m.chunk, from, through, backward, prefilter, this.processed))),
    };
  }

  /** A chunk in the store, fetched and decoded when the merge reaches it. */
  private storedChunk(tenant: string, ref: ChunkRef, prefilter: BytePrefilter | undefined): ChunkSource {
    const { from, through } = this.task;
    return {
      minTs: ref.from,
      maxTs: ref.through,
      remote: true,
      load: async (backward) => {
        const bytes = await this.chunkBytes(tenant, ref).catch((e: unknown) => {
          // A chunk deleted under the index (an S3 lifecycle rule, a hand clean-up) leaves a gap in the
          // answer, reported in its warnings, rather than failing the whole query.
          if (e instanceof LokiError && e.code === 'object_not_found') return undefined;
          throw e;
        });
        if (bytes === undefined) {
          this.processed.missingChunks.push(chunkKey(tenant, ref));
          return NO_RUNS;
        }
        this.processed.chunks++;
        const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        return this.checked(readChunkBlocks(buf, from, through, backward, prefilter, this.processed));
      },
    };
  }
}

/** The runs of a chunk that is not there. */
const NO_RUNS: BlockRuns = { next: () => undefined };

/**
 * The labels a `by` grouping needs from the parsers: the grouping's, the unwrapped one, and any a label
 * filter reads; undefined (all of them) when a formatting or drop/keep stage may read any label.
 */
function requiredLabels(selector: LogSelectorExpr, grouping: Grouping): ReadonlySet<string> | undefined {
  const names = new Set(grouping.labels);
  if (selector.unwrap) names.add(selector.unwrap.name);
  const addFilter = (f: LabelFilterExpr): void => {
    switch (f.kind) {
      case 'and':
      case 'or':
        addFilter(f.left);
        addFilter(f.right);
        break;
      case 'string':
        names.add(f.matcher.name);
        break;
      default:
        names.add(f.name);
    }
  };
  for (const stage of selector.pipeline) {
    if (stage.kind === 'line_format' || stage.kind === 'label_format' || stage.kind === 'drop' || stage.kind === 'keep') return undefined;
    if (stage.kind === 'label_filter') addFilter(stage.filter);
  }
  for (const f of selector.unwrap?.filters ?? []) addFilter(f);
  return names;
}

/**
 * The `by` labels of a line (and __error__, which must still fail the query), without sorting all of them.
 * Consecutive lines mostly share their values: those are compared with the last line's in place, and a
 * label set is made only when one differs.
 */
function groupedResult(names: readonly string[]): (b: LabelsBuilder) => { labels: Labels; key: string } {
  const sorted = [...new Set([...names, ERROR_LABEL])].sort();
  const values: Array<string | undefined> = sorted.map(() => undefined);
  let last: { labels: Labels; key: string } | undefined;
  return (b) => {
    let same = last !== undefined;
    for (let i = 0; i < sorted.length; i++) {
      let value = b.get(sorted[i]!);
      if (value === '') value = undefined;
      if (value !== values[i]) {
        values[i] = value;
        same = false;
      }
    }
    if (same) return last!;
    const labels: Label[] = [];
    for (let i = 0; i < sorted.length; i++) if (values[i] !== undefined) labels.push({ name: sorted[i]!, value: values[i]! });
    last = { labels, key: printLabels(labels) };
    return last;
  };
}

interface SeriesLists {
  readonly labels: Labels;
  readonly timestamps: bigint[];
  readonly bytes: number[];
  readonly values: number[];
  /** The stream all its lines came from, or -1 when several. */
  stream: number;
}

/** A series whose lines came from several streams (or shards), put in timestamp order. */
export function sortSeries(
  s: { labels: Labels; timestamps: readonly bigint[]; bytes: readonly number[]; values?: readonly number[] | undefined },
  withValues: boolean,
): StreamSamples {
  const order = s.timestamps.map((_, i) => i).sort((a, b) => (s.timestamps[a]! < s.timestamps[b]! ? -1 : s.timestamps[a]! > s.timestamps[b]! ? 1 : a - b));
  return {
    labels: s.labels,
    timestamps: order.map((i) => s.timestamps[i]!),
    bytes: order.map((i) => s.bytes[i]!),
    values: withValues ? order.map((i) => s.values![i]!) : undefined,
  };
}

/** Loki's answer when a metric query meets a line its pipeline marked with __error__. */
function pipelineError(labels: Labels): LokiError {
  const error = labels.find((l) => l.name === ERROR_LABEL)!.value;
  return new LokiError(
    'bad_data',
    'pipeline_error',
    `pipeline error: '${error}' for series: '${printLabels(labels)}'.\n` +
      `Use a label filter to intentionally skip this error. (e.g | __error__!="${error}").\n` +
      'To skip all potential errors you can match empty errors.(e.g __error__="")\n' +
      'The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n',
  );
}

/** Whether `entries` (in reading order) ends with lines of e's timestamp, one of them e's line. */
function repeats(entries: readonly ResultEntry[], e: ResultEntry): boolean {
  for (let i = entries.length - 1; i >= 0 && entries[i]!.timestamp === e.timestamp; i--) if (entries[i]!.line === e.line) return true;
  return false;
}

/**
 * Log groups (each sorted by timestamp) from several streams or shards, merged by label set: lines
 * deduplicated, and only the `limit` nearest the start (forward) or end (backward) of each group and of
 * all groups kept. A line cut here could not be in the answer of the whole: fewer than `limit` distinct
 * lines come before it in its own part, so fewer come before it overall.
 */
export function mergeLogGroups(parts: Iterable<LogGroup>, direction: Direction, limit: number): LogGroup[] {
  const byKey = new Map<string, { labels: Labels; lists: ResultEntry[][] }>();
  for (const part of parts) {
    const key = printLabels(part.labels);
    const group = byKey.get(key);
    if (group) group.lists.push(part.entries);
    else byKey.set(key, { labels: part.labels, lists: [part.entries] });
  }
  const groups = [...byKey.values()].map(({ labels, lists }) => ({ labels, entries: nearest(mergeDedup(lists), direction, limit) }));
  return limitAcrossGroups(groups, direction, limit);
}

/** The `limit` entries of a sorted list nearest the start (forward) or the end (backward), still sorted. */
function nearest<E>(entries: E[], direction: Direction, limit: number): E[] {
  if (entries.length <= limit) return entries;
  return direction === 'forward' ? entries.slice(0, limit) : entries.slice(-limit);
}

/**
 * Keeps the `limit` entries nearest the start (forward) or end (backward) over all groups (sorted
 * lists); equal timestamps go by the groups' labels, so the cut is the same whichever shards held them.
 */
function limitAcrossGroups(groups: LogGroup[], direction: Direction, limit: number): LogGroup[] {
  const total = groups.reduce((n, s) => n + s.entries.length, 0);
  if (total <= limit) return groups;
  const all: Array<{ s: number; e: ResultEntry; k: number }> = [];
  groups.forEach((s, i) => s.entries.forEach((e, k) => all.push({ s: i, e, k })));
  const keys = groups.map((s) => printLabels(s.labels));
  all.sort((a, b) => {
    const c = byTimestamp(a.e, b.e);
    if (c !== 0) return direction === 'forward' ? c : -c;
    if (a.s !== b.s) return keys[a.s]! < keys[b.s]! ? -1 : keys[a.s]! > keys[b.s]! ? 1 : 0;
    return direction === 'forward' ? a.k - b.k : b.k - a.k;
  });
  const kept = groups.map((): Array<{ e: ResultEntry; k: number }> => []);
  for (const { s, e, k } of all.slice(0, limit)) kept[s]!.push({ e, k });
  // each group keeps its own order (equal timestamps stay as the group had them)
  return groups.flatMap((g, i) => (kept[i]!.length === 0 ? [] : [{ labels: g.labels, entries: kept[i]!.sort((a, b) => a.k - b.k).map((x) => x.e) }]));
}
