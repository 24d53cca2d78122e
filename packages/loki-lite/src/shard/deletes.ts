import { type Label, type Labels, matchesAll } from '@loki-lite/shared';
import type { DeleteFilter } from '../deletion/query-filters.js';
import { compileDeleteQuery } from '../deletion/request.js';
import type { Pipeline, StreamPipeline } from '../logql/log/pipeline.js';

/*
 * Delete requests at query time (Loki's deletion.SetupPipeline): lines a tenant's delete request matches
 * are hidden from log and metric queries, wherever they are read (the ingester's memory or stored chunks),
 * until the compactor has removed them for good. deletion/ keeps the requests (DeleteFilterCache is the
 * DeleteFilterSource); this is how a shard, in the querier or the ingester, applies them.
 */

/** Where the querier learns a tenant's delete requests. */
export interface DeleteFilterSource {
  /** The filters of `tenant` overlapping [from, through] (ns). */
  filtersFor(tenant: string, from: bigint, through: bigint): Promise<readonly DeleteFilter[]>;
}

/** A delete that applies to one stream, as plain data for a shard (which may run on a worker thread). */
export interface StreamDelete {
  /** The request's query; with a line or label filter its pipeline decides which lines of the range go, else all go. */
  readonly query: string;
  readonly start: bigint;
  readonly end: bigint;
  /** Whether the query has a line or label filter (else every line in range goes). */
  readonly filtered: boolean;
}

/**
 * The streams with the deletes of their tenant whose matchers match their labels attached. For `a|b`,
 * each stream's own tenant's (`tenantOf`).
 */
export async function withDeletes<S extends { readonly labels: Labels; readonly deletes?: readonly StreamDelete[] }>(
  source: DeleteFilterSource | undefined,
  streams: S[],
  tenantOf: (s: S) => string,
  from: bigint,
  through: bigint,
): Promise<S[]> {
  if (!source || streams.length === 0) return streams;
  const byTenant = new Map<string, readonly DeleteFilter[]>();
  for (const s of streams) {
    const t = tenantOf(s);
    if (!byTenant.has(t)) byTenant.set(t, await source.filtersFor(t, from, through));
  }
  return attachDeletes(streams, (s) => byTenant.get(tenantOf(s))!);
}

/** The streams with those of their filters (`filtersOf`) whose matchers match their labels attached. */
export function attachDeletes<S extends { readonly labels: Labels; readonly deletes?: readonly StreamDelete[] }>(
  streams: S[],
  filtersOf: (s: S) => readonly DeleteFilter[],
): S[] {
  const filtered = new Map<string, boolean>();
  const isFiltered = (query: string) => {
    if (!filtered.has(query)) filtered.set(query, compileDeleteQuery(query).pipeline !== undefined);
    return filtered.get(query)!;
  };
  return streams.map((s) => {
    const deletes = filtersOf(s).filter((f) => matchesAll(f.matchers, s.labels));
    if (deletes.length === 0) return s;
    return { ...s, deletes: deletes.map((f) => ({ query: f.query, start: f.start, end: f.end, filtered: isFiltered(f.query) })) };
  });
}

/** A delete filter as it crosses a seam: its matchers are compiled again from the query on the other side. */
export type DeleteFilterData = Omit<DeleteFilter, 'matchers'>;

export function deleteFilterData(filters: readonly DeleteFilter[]): DeleteFilterData[] {
  return filters.map(({ query, start, end }) => ({ query, start, end }));
}

export function deleteFiltersOf(data: readonly DeleteFilterData[]): DeleteFilter[] {
  return data.map((d) => ({ ...d, matchers: compileDeleteQuery(d.query).matchers }));
}

/** The time span of a chunk in memory or in the store, inclusive at both ends. */
interface ChunkSpan {
  readonly from: bigint;
  readonly through: bigint;
}

/**
 * A stream less the chunks that a delete without a filter covers whole. Every line of such a chunk would be
 * hidden, so fetching and decoding it, only to test and drop each line, is work for nothing (a request for
 * "this noisy stream, the last 30 days" would read 30 days until the compactor processes it).
 */
export function withoutCoveredChunks<
  S extends { readonly deletes?: readonly StreamDelete[]; readonly memory: readonly { minTs: bigint; maxTs: bigint }[]; readonly chunks: readonly ChunkSpan[] },
>(s: S): S {
  const wholeRanges = (s.deletes ?? []).filter((d) => !d.filtered);
  if (wholeRanges.length === 0) return s;
  const covered = (span: ChunkSpan) => wholeRanges.some((d) => d.start <= span.from && span.through <= d.end);
  return {
    ...s,
    memory: s.memory.filter((m) => !covered({ from: m.minTs, through: m.maxTs })),
    chunks: s.chunks.filter((c) => !covered(c)),
  };
}

/** Says whether a line of the stream is deleted; made once per stream, called per line without allocating. */
export type DeletedLine = (ts: bigint, line: string, metadata: readonly Label[]) => boolean;

/** Compiles deletes' pipelines once per query (a shard's streams share their requests). */
export class DeletePipelines {
  private readonly compiled = new Map<string, Pipeline | undefined>();

  /** The test of deleted lines for one stream, or undefined when no delete applies to it. */
  forStream(labels: Labels, deletes: readonly StreamDelete[] | undefined): DeletedLine | undefined {
    if (!deletes || deletes.length === 0) return undefined;
    const starts = deletes.map((d) => d.start);
    const ends = deletes.map((d) => d.end);
    const pipelines: Array<StreamPipeline | undefined> = deletes.map((d) => this.pipeline(d.query)?.forStream(labels));
    const n = deletes.length;
    return (ts, line, metadata) => {
      for (let i = 0; i < n; i++) {
        if (ts < starts[i]! || ts > ends[i]!) continue;
        const p = pipelines[i];
        if (p === undefined || p.run(line, ts, metadata) !== undefined) return true;
      }
      return false;
    };
  }

  private pipeline(query: string): Pipeline | undefined {
    if (!this.compiled.has(query)) this.compiled.set(query, compileDeleteQuery(query).pipeline);
    return this.compiled.get(query);
  }
}
