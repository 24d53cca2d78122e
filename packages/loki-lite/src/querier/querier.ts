import { type Label, type Labels, LokiError, printLabels } from '@loki-lite/shared';
import type { Entry } from '../chunk/entry.js';
import { type ChunkSnapshot, readChunkBlocks, readSnapshotBlocks, type SkippedLines } from '../chunk/mem-chunk.js';
import type { ChunkRef } from '../index/types.js';
import { ERROR_LABEL, type LabelsBuilder } from '../logql/log/labels-builder.js';
import { compilePipeline, compileUnwrap } from '../logql/log/pipeline.js';
import { DETECTED_LEVEL, detectLevel } from '../logql/log/level-detection.js';
import { type BytePrefilter, compileBytePrefilter } from '../logql/log/prefilter.js';
import type { Grouping, LabelFilterExpr, LogSelectorExpr } from '../logql/syntax/ast.js';
import type { LabelMatcher } from '../logql/syntax/matchers.js';
import type { LogStore } from '../storage/log-store.js';
import type { SampleSink, StreamSamples } from '../logql/engine/evaluate.js';
import { type ChunkSource, mergeChunks } from './merge.js';
import { alignedSplits, mergeSplitAnswers } from './split.js';

/** A stream held in the ingester's memory, as the querier sees it. */
export interface MemoryStream {
  readonly labels: Labels;
  readonly labelsString: string;
  /** Copies of its chunks with entries in [from, through), taken at once (plain data: see ChunkSnapshot). */
  chunkSnapshots(from: bigint, through: bigint): MemoryChunkSnapshot[];
  overlaps(from: bigint, through: bigint): boolean;
  chunkStats(from: bigint, through: bigint): Omit<IndexStats, 'streams'>;
}

/** A chunk in the ingester's memory as a query reads it: its time range when taken, and its contents. */
export interface MemoryChunkSnapshot {
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly chunk: ChunkSnapshot;
}

/** What the querier needs from the ingester (the consumer owns the interface). */
export interface MemoryStreams {
  streamsMatching(tenant: string, matchers: readonly LabelMatcher[]): MemoryStream[];
}

export type Direction = 'forward' | 'backward';

export interface IndexStats {
  streams: number;
  chunks: number;
  bytes: number;
  entries: number;
}

export interface LogQuery {
  readonly selector: LogSelectorExpr;
  /** Inclusive. */
  readonly from: bigint;
  /** Exclusive. */
  readonly through: bigint;
  readonly direction: Direction;
  readonly limit: number;
  /**
   * Loki's categorize-labels encoding: streams keyed by their indexed labels only; each entry keeps its
   * structured metadata and parsed labels.
   */
  readonly categorize?: boolean;
  /** Answer per aligned interval and merge as Loki's query frontend does (split_queries_by_interval). */
  readonly splitInterval?: bigint;
}

/** A log line of an answer; with categorize-labels it carries its non-stream labels apart. */
export interface ResultEntry extends Entry {
  readonly parsed?: readonly Label[];
}

export interface StreamResult {
  readonly labels: Labels;
  /** In the query's direction. */
  readonly entries: ResultEntry[];
}

/** Loki's answer when a query runs past limits_config.query_timeout. */
export const QUERY_TIMEOUT_MESSAGE =
  'Request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed.';

export interface QueryStats {
  /** Date.now() after which the read loop gives up (query_timeout); unset: no limit. */
  deadlineMs?: number;
  /**
   * Aborted when the query must stop (its client went away, or its time ran out while it waited or ran);
   * the read loop then throws the signal's reason.
   */
  signal?: AbortSignal;
  totalBytesProcessed: number;
  totalLinesProcessed: number;
  totalEntriesReturned: number;
  chunksDownloaded: number;
}

/**
 * Answers log selections and metadata queries by merging the ingester's memory with the object store.
 * An entry present in both (flushed but still held in memory) is returned once.
 */
export class Querier {
  constructor(
    private readonly memory: MemoryStreams,
    private readonly store: LogStore,
    /** Loki's discover_log_levels: every line read gets detected_level (see level-detection.ts). */
    private readonly options: { readonly discoverLogLevels: boolean } = { discoverLogLevels: false },
  ) {}

  async selectLogs(tenant: string, q: LogQuery, stats: QueryStats): Promise<StreamResult[]> {
    const interval = q.splitInterval ?? 0n;
    if (interval <= 0n || q.through - q.from <= interval - (q.from % interval)) return this.selectLogsOnce(tenant, q, stats);
    // Loki's query frontend: the intervals in the query's direction, each answered with its own limit,
    // until together they hold at least `limit` lines; then merged (mergeSplitAnswers).
    const splits = alignedSplits(q.from, q.through, interval);
    if (q.direction === 'backward') splits.reverse();
    const answers: StreamResult[][] = [];
    let total = 0;
    for (const [from, through] of splits) {
      const answer = await this.selectLogsOnce(tenant, { ...q, from, through }, stats);
      answers.push(answer);
      total += answer.reduce((n, s) => n + s.entries.length, 0);
      if (total >= q.limit) break;
    }
    return mergeSplitAnswers(answers, q.direction, q.limit, stats);
  }

  private async selectLogsOnce(tenant: string, q: LogQuery, stats: QueryStats): Promise<StreamResult[]> {
    // At most `limit` entries of one stream can be in the answer: those nearest the start or the end.
    const groups = await this.pipelineGroups(tenant, q.selector, q.from, q.through, stats, { limit: q.limit, direction: q.direction }, q.categorize ?? false);
    const perStream = groups.map(({ labels, entries }) => ({
      labels,
      entries: q.direction === 'forward' ? entries.slice(0, q.limit) : entries.slice(-q.limit).reverse(),
    }));
    return limitAcrossStreams(perStream, q.direction, q.limit, stats);
  }

  /**
   * For metric queries: the lines of every matching stream with from < timestamp <= through that pass the
   * selector's pipeline, grouped by their resulting labels, as sorted timestamps, byte sizes and (with
   * `unwrap`) values. A series left with an __error__ label fails the query, as in Loki. With a `by`
   * grouping, lines are grouped by those labels only. (The engine will stream these through chunks with
   * bounded memory; this version reads each stream's window at once.)
   */
  async selectSamples(tenant: string, selector: LogSelectorExpr, from: bigint, through: bigint, stats: QueryStats, grouping?: Grouping): Promise<StreamSamples[]> {
    const series: Array<{ labels: Labels; timestamps: bigint[]; bytes: number[]; values: number[]; sources: number }> = [];
    let source = 0;
    await this.visitSamples(tenant, selector, from, through, stats, grouping, {
      series: (labels) => series.push({ labels, timestamps: [], bytes: [], values: [], sources: source }) - 1,
      sample: (id, ts, bytes, value) => {
        const s = series[id]!;
        if (s.sources !== source) s.sources = -1; // lines from several streams: sorted at the end
        s.timestamps.push(ts);
        s.bytes.push(bytes);
        s.values.push(value);
      },
    }, () => source++);
    const withValues = selector.unwrap !== undefined;
    return series.map((s) => (s.sources === -1 ? sortSeries(s, withValues) : { labels: s.labels, timestamps: s.timestamps, bytes: s.bytes, values: withValues ? s.values : undefined }));
  }

  /**
   * The streaming form of selectSamples: each line that passes the pipeline goes to `sink` as it is read
   * (series are numbered as they appear), so the caller can fold samples into its steps and nothing per
   * line is kept. Lines arrive in time order within a source stream. A series with an __error__ label
   * fails the query once the walk is done, as in Loki.
   */
  async visitSamples(
    tenant: string, selector: LogSelectorExpr, from: bigint, through: bigint, stats: QueryStats, grouping: Grouping | undefined, sink: SampleSink,
    nextStream: () => void = () => {},
  ): Promise<void> {
    const unwrap = selector.unwrap ? compileUnwrap(selector.unwrap) : undefined;
    const labelsOf = grouping ? groupedResult(grouping.labels) : (b: LabelsBuilder) => b.result();
    const ids = new Map<string, number>();
    let failed: Labels | undefined;
    await this.runPipeline(tenant, selector, from + 1n, through + 1n, stats, grouping && requiredLabels(selector, grouping), undefined, (e, line, b) => {
      let value = 0;
      if (unwrap) {
        const v = unwrap(b);
        if (v === undefined) return false;
        value = v;
      }
      const { labels, key } = labelsOf(b);
      let id = ids.get(key);
      if (id === undefined) {
        if (!failed && labels.some((l) => l.name === ERROR_LABEL)) failed = labels;
        ids.set(key, (id = sink.series(labels)));
      }
      sink.sample(id, e.timestamp, Buffer.byteLength(line), value);
      return true;
    }, nextStream);
    if (failed) throw pipelineError(failed);
  }

  /**
   * Runs the selector's pipeline over its streams' entries in [from, through) and groups the lines that
   * pass by their resulting label set, as Loki does: a parser can split one stream into many series, and
   * drop/keep can join streams. Only the first `limit` lines of each source stream that pass, in the
   * query's direction, can be in the answer, so the pipeline stops there.
   */
  private async pipelineGroups(
    tenant: string, selector: LogSelectorExpr, from: bigint, through: bigint, stats: QueryStats, nearest: { limit: number; direction: Direction },
    categorize: boolean,
  ): Promise<Array<{ labels: Labels; entries: ResultEntry[] }>> {
    const groups = new Map<string, { labels: Labels; lists: ResultEntry[][] }>();
    let parts = new Map<string, { labels: Labels; kept: ResultEntry[] }>();
    const flush = () => {
      for (const [key, part] of parts) {
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { labels: part.labels, lists: [] }));
        group.lists.push(nearest.direction === 'backward' ? part.kept.reverse() : part.kept);
      }
      parts = new Map();
    };
    await this.runPipeline(tenant, selector, from, through, stats, undefined, nearest, (e, line, b) => {
      let entry: ResultEntry;
      let stream: { labels: Labels; key: string };
      if (categorize) {
        const c = b.categorized();
        stream = c.stream;
        entry = { timestamp: e.timestamp, line, structuredMetadata: c.structuredMetadata, parsed: c.parsed };
      } else {
        stream = b.result();
        entry = line === e.line ? e : { timestamp: e.timestamp, line, structuredMetadata: e.structuredMetadata };
      }
      let part = parts.get(stream.key);
      if (!part) parts.set(stream.key, (part = { labels: stream.labels, kept: [] }));
      part.kept.push(entry);
      return true;
    }, flush);
    flush();
    return [...groups.values()].map(({ labels, lists }) => ({ labels, entries: mergeDedup(lists) }));
  }

  /**
   * The read loop shared by log and metric queries: each matching stream's entries in [from, through),
   * memory and chunks merged without duplicates, through the pipeline. `visit` gets every line that
   * passes (with the builder holding its labels) and says whether it counted towards `nearest.limit`;
   * `nextStream` is called before each stream.
   */
  private async runPipeline(
    tenant: string, selector: LogSelectorExpr, from: bigint, through: bigint, stats: QueryStats, wanted: ReadonlySet<string> | undefined,
    nearest: { limit: number; direction: Direction } | undefined, visit: (e: Entry, line: string, b: LabelsBuilder) => boolean, nextStream: () => void,
  ): Promise<void> {
    const pipeline = compilePipeline(selector.pipeline, wanted);
    // detected_level costs a scan of each line: skip it when the query cannot see it (a grouping that
    // leaves it out, and no stage that reads it).
    const discoverLevels = this.options.discoverLogLevels && (wanted === undefined || wanted.has(DETECTED_LEVEL));
    // Lines (stored or in memory) that the pipeline would certainly drop are skipped on their bytes; they
    // still count as processed.
    const skipped: SkippedLines = { lines: 0, bytes: 0 };
    for (const src of (await this.sourcesFor(tenant, selector.matchers, from, through)).values()) {
      nextStream();
      const stream = pipeline.forStream(src.labels);
      const prefilter = compileBytePrefilter(selector.pipeline, new Set(src.labels.map((l) => l.name)));
      let remaining = nearest?.limit ?? Infinity;
      const chunks = [...src.memory.map((m) => memoryChunk(m, from, through, prefilter, skipped)), ...src.chunks.map((ref) => this.storedChunk(tenant, ref, from, through, stats, prefilter, skipped))];
      await mergeChunks(chunks, nearest?.direction ?? 'forward', (e) => {
        // The clock and the signal are read every 4096 lines: cheap, and a query cannot outrun them by much.
        if ((++stats.totalLinesProcessed & 4095) === 0) throwIfStopped(stats);
        stats.totalBytesProcessed += e.line.length;
        let entry = e;
        if (discoverLevels) {
          const level = detectLevel(src.labels, e.structuredMetadata, e.line);
          if (level !== undefined) entry = { ...e, structuredMetadata: [...e.structuredMetadata, { name: DETECTED_LEVEL, value: level }] };
        }
        const line = stream.run(entry.line, entry.timestamp, entry.structuredMetadata);
        if (line !== undefined && visit(entry, line, stream.builder)) remaining--;
        return remaining > 0;
      });
    }
    stats.totalLinesProcessed += skipped.lines;
    stats.totalBytesProcessed += skipped.bytes;
  }

  /** A chunk in the store, fetched and decoded when the merge reaches it. */
  private storedChunk(
    tenant: string, ref: ChunkRef, from: bigint, through: bigint, stats: QueryStats, prefilter?: BytePrefilter, skipped?: SkippedLines,
  ): ChunkSource {
    return {
      minTs: ref.from,
      maxTs: ref.through,
      remote: true,
      load: async (backward) => {
        const bytes = await this.store.getChunk(tenant, ref);
        stats.chunksDownloaded++;
        return readChunkBlocks(bytes, from, through, backward, prefilter, skipped);
      },
    };
  }

  /**
   * Streams with data in [from, through) matching the selector, in memory and in the index, joined by their
   * label set. The memory chunks are taken before the index is read: an index cut that finishes meanwhile
   * lists chunks and drops them from memory, and the query must find them in one place or the other (in
   * both, the merge drops the copies).
   */
  private async sourcesFor(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint) {
    const sources = new Map<string, { labels: Labels; memory: MemoryChunkSnapshot[]; chunks: ChunkRef[] }>();
    for (const m of this.memory.streamsMatching(tenant, matchers)) {
      if (m.overlaps(from, through - 1n)) sources.set(m.labelsString, { labels: m.labels, memory: m.chunkSnapshots(from, through), chunks: [] });
    }
    for (const s of await this.store.selectSeries(tenant, matchers, from, through - 1n)) {
      const key = printLabels(s.labels);
      const src = sources.get(key);
      if (src) src.chunks.push(...s.chunks);
      else sources.set(key, { labels: s.labels, memory: [], chunks: [...s.chunks] });
    }
    return sources;
  }

  /**
   * Loki's index/stats: streams, chunks, entries and line bytes of the matching data in [from, through],
   * from the index and the ingester's memory (a chunk is in one or the other), without opening a chunk.
   */
  async indexStats(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<IndexStats> {
    const streams = new Set<string>();
    const stats: IndexStats = { streams: 0, chunks: 0, bytes: 0, entries: 0 };
    for (const m of this.memory.streamsMatching(tenant, matchers)) {
      const s = m.chunkStats(from, through);
      if (s.chunks === 0) continue;
      streams.add(m.labelsString);
      stats.chunks += s.chunks;
      stats.entries += s.entries;
      stats.bytes += s.bytes;
    }
    for (const s of await this.store.selectSeries(tenant, matchers, from, through)) {
      streams.add(printLabels(s.labels));
      for (const c of s.chunks) {
        stats.chunks++;
        stats.entries += c.entries;
        stats.bytes += c.lineBytes;
      }
    }
    stats.streams = streams.size;
    return stats;
  }

  /**
   * Loki's index/volume: line bytes of the matching streams in [from, through] from the index and memory
   * (chunk-level, no chunk opened), summed per group. `series` groups by the labels of `target` (streams
   * without all of them are left out) or, when none are given, those the selector names; `labels` gives
   * each label name its streams' total.
   */
  async volume(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint, target: readonly string[], aggregateBy: 'series' | 'labels'): Promise<Array<{ labels: Labels; bytes: number }>> {
    const perStream = new Map<string, { labels: Labels; bytes: number }>();
    const add = (labels: Labels, bytes: number) => addBytes(perStream, labels, bytes);
    for (const m of this.memory.streamsMatching(tenant, matchers)) {
      const s = m.chunkStats(from, through);
      if (s.chunks > 0) add(m.labels, s.bytes);
    }
    for (const s of await this.store.selectSeries(tenant, matchers, from, through)) add(s.labels, s.chunks.reduce((n, c) => n + c.lineBytes, 0));
    const groups = new Map<string, { labels: Labels; bytes: number }>();
    const addTo = (labels: Labels, bytes: number) => addBytes(groups, labels, bytes);
    const names = new Set(target.length > 0 ? target : matchers.map((m) => m.name));
    for (const { labels, bytes } of perStream.values()) {
      // Every target label is required: a stream without one of them is left out, as in Loki.
      if (target.length > 0 && aggregateBy === 'series' && !target.every((t) => labels.some((l) => l.name === t))) continue;
      if (aggregateBy === 'labels') {
        for (const l of labels) if (target.length === 0 || names.has(l.name)) addTo([{ name: l.name, value: '' }], bytes);
      } else {
        addTo(labels.filter((l) => names.has(l.name)), bytes);
      }
    }
    return [...groups.values()].sort((a, b) => b.bytes - a.bytes || (printLabels(a.labels) < printLabels(b.labels) ? -1 : 1));
  }

  /** Label names of streams with data in [from, through]. */
  async labelNames(tenant: string, from: bigint, through: bigint, matchers?: readonly LabelMatcher[]): Promise<string[]> {
    const names = new Set<string>();
    for (const labels of await this.seriesLabels(tenant, matchers, from, through)) for (const l of labels) names.add(l.name);
    return [...names].sort();
  }

  async labelValues(tenant: string, name: string, from: bigint, through: bigint, matchers?: readonly LabelMatcher[]): Promise<string[]> {
    const values = new Set<string>();
    for (const labels of await this.seriesLabels(tenant, matchers, from, through)) {
      for (const l of labels) if (l.name === name) values.add(l.value);
    }
    return [...values].sort();
  }

  /** Distinct label sets of the streams matching any of the selectors (all streams when none given). */
  async series(tenant: string, selectors: ReadonlyArray<readonly LabelMatcher[]>, from: bigint, through: bigint): Promise<Labels[]> {
    const out = new Map<string, Labels>();
    for (const matchers of selectors.length > 0 ? selectors : [undefined]) {
      for (const labels of await this.seriesLabels(tenant, matchers, from, through)) out.set(printLabels(labels), labels);
    }
    return [...out.values()];
  }

  private async seriesLabels(tenant: string, matchers: readonly LabelMatcher[] | undefined, from: bigint, through: bigint): Promise<Labels[]> {
    const out = new Map<string, Labels>();
    for (const m of this.memory.streamsMatching(tenant, matchers ?? [])) if (m.overlaps(from, through)) out.set(m.labelsString, m.labels);
    for (const s of await this.store.selectSeries(tenant, matchers ?? [], from, through)) {
      const key = printLabels(s.labels);
      if (!out.has(key)) out.set(key, s.labels);
    }
    return [...out.values()];
  }
}

/** Throws when the query ran past its deadline or was aborted. */
export function throwIfStopped(stats: QueryStats): void {
  if (stats.signal?.aborted) throw stats.signal.reason;
  if (stats.deadlineMs !== undefined && Date.now() > stats.deadlineMs) throw new LokiError('timeout', 'query_timeout', QUERY_TIMEOUT_MESSAGE);
}

/** A chunk in memory read with the same block reader, prefilter and counters as a stored one. */
function memoryChunk(m: MemoryChunkSnapshot, from: bigint, through: bigint, prefilter: BytePrefilter | undefined, skipped: SkippedLines): ChunkSource {
  return {
    minTs: m.minTs,
    maxTs: m.maxTs,
    remote: false,
    load: (backward) => Promise.resolve(readSnapshotBlocks(m.chunk, from, through, backward, prefilter, skipped)),
  };
}

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
      case 'or': addFilter(f.left); addFilter(f.right); break;
      case 'string': names.add(f.matcher.name); break;
      default: names.add(f.name);
    }
  };
  for (const stage of selector.pipeline) {
    if (stage.kind === 'line_format' || stage.kind === 'label_format' || stage.kind === 'drop' || stage.kind === 'keep') return undefined;
    if (stage.kind === 'label_filter') addFilter(stage.filter);
  }
  for (const f of selector.unwrap?.filters ?? []) addFilter(f);
  return names;
}

/** The `by` labels of a line (and __error__, which must still fail the query), without sorting all of them. */
function groupedResult(names: readonly string[]): (b: LabelsBuilder) => { labels: Labels; key: string } {
  const sorted = [...new Set([...names, ERROR_LABEL])].sort();
  let last: { labels: Labels; key: string } | undefined;
  return (b) => {
    const labels: Label[] = [];
    for (const name of sorted) {
      const value = b.get(name);
      if (value !== undefined && value !== '') labels.push({ name, value });
    }
    const key = printLabels(labels);
    if (last?.key !== key) last = { labels, key };
    return last;
  };
}

/** Adds `bytes` to the total of a label set, keyed by its printed form. */
function addBytes(totals: Map<string, { labels: Labels; bytes: number }>, labels: Labels, bytes: number): void {
  const key = printLabels(labels);
  const t = totals.get(key);
  if (t) t.bytes += bytes;
  else totals.set(key, { labels, bytes });
}

/** A series whose lines came from several streams, put in timestamp order. */
function sortSeries(s: { labels: Labels; timestamps: bigint[]; bytes: number[]; values: number[] }, withValues: boolean): StreamSamples {
  const order = s.timestamps.map((_, i) => i).sort((a, b) => (s.timestamps[a]! < s.timestamps[b]! ? -1 : s.timestamps[a]! > s.timestamps[b]! ? 1 : a - b));
  return {
    labels: s.labels,
    timestamps: order.map((i) => s.timestamps[i]!),
    bytes: order.map((i) => s.bytes[i]!),
    values: withValues ? order.map((i) => s.values[i]!) : undefined,
  };
}

/** Loki's answer when a metric query meets a line its pipeline marked with __error__. */
function pipelineError(labels: Labels): LokiError {
  const error = labels.find((l) => l.name === ERROR_LABEL)!.value;
  return new LokiError('bad_data', 'pipeline_error',
    `pipeline error: '${error}' for series: '${printLabels(labels)}'.\n` +
    `Use a label filter to intentionally skip this error. (e.g | __error__!="${error}").\n` +
    'To skip all potential errors you can match empty errors.(e.g __error__="")\n' +
    'The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n');
}

const byTimestamp = (a: Entry, b: Entry) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0);

/**
 * Merges per-source lists (each sorted by timestamp) into one sorted list without duplicates: an entry with
 * the same timestamp and line as one already taken is dropped, as Loki's read path does within a stream,
 * wherever the copies came from (memory and a flushed chunk, two flushes of the same data after a WAL
 * replay, or one list that holds it twice).
 */
export function mergeDedup(lists: readonly Entry[][]): Entry[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length === 0) return [];
  const all = nonEmpty.length === 1 ? nonEmpty[0]! : nonEmpty.flat().sort(byTimestamp);
  const out: Entry[] = [];
  let groupStart = 0;
  for (const e of all) {
    const prev = out[out.length - 1];
    if (!prev || prev.timestamp !== e.timestamp) {
      groupStart = out.length;
      out.push(e);
      continue;
    }
    // Same timestamp as the previous entry: keep it only if no entry of this timestamp has the same line.
    let seen = false;
    for (let i = groupStart; i < out.length && !seen; i++) seen = out[i]!.line === e.line;
    if (!seen) out.push(e);
  }
  return out;
}

/** Keeps the `limit` entries nearest the start (forward) or end (backward) over all streams. */
function limitAcrossStreams(streams: StreamResult[], direction: Direction, limit: number, stats: QueryStats): StreamResult[] {
  const total = streams.reduce((n, s) => n + s.entries.length, 0);
  if (total <= limit) {
    stats.totalEntriesReturned = total;
    return streams;
  }
  const all: Array<{ s: number; e: Entry }> = [];
  streams.forEach((s, i) => s.entries.forEach((e) => all.push({ s: i, e })));
  const keys = streams.map((s) => printLabels(s.labels));
  all.sort((a, b) => {
    const c = byTimestamp(a.e, b.e);
    if (c !== 0) return direction === 'forward' ? c : -c;
    return keys[a.s]! < keys[b.s]! ? -1 : keys[a.s]! > keys[b.s]! ? 1 : 0;
  });
  const kept = new Map<number, Entry[]>();
  for (const { s, e } of all.slice(0, limit)) {
    let list = kept.get(s);
    if (!list) kept.set(s, (list = []));
    list.push(e);
  }
  stats.totalEntriesReturned = limit;
  // restore each stream's own order (equal timestamps stay as the stream had them)
  return [...kept].map(([i, entries]) => {
    const order = new Map(streams[i]!.entries.map((e, k) => [e, k]));
    return { labels: streams[i]!.labels, entries: entries.sort((a, b) => order.get(a)! - order.get(b)!) };
  });
}
