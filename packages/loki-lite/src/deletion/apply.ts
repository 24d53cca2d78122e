import { type Labels, matchesAll } from '@loki-lite/shared';
import type { Entry } from '../chunk/entry.js';
import { chunkChecksum, decodeChunk } from '../chunk/format.js';
import { MemChunk } from '../chunk/mem-chunk.js';
import { entriesOfRuns, readChunkBlocks } from '../chunk/reader.js';
import type { DeletionMode } from '../config/schema.js';
import type { ChunkRef, SeriesChunks } from '../index/types.js';
import type { Pipeline } from '../logql/log/pipeline.js';
import { compileDeleteQuery, type DeleteRequest } from './request.js';

/*
 * The compactor's part of a delete (Loki's DeleteRequest.IsDeleted and the chunk rewriter): for one index
 * table's series of one tenant and the requests due, which chunks go whole, which are written again
 * without the matching lines, and which stay.
 */

/**
 * Loki waits this much past the cancel period before a request is processed: a cancel that arrives just
 * at the deadline must not race the compactor.
 */
const CANCEL_GRACE_MS = 60_000;

/**
 * The pieces the compactor should carry out now (Loki's shouldProcessRequest): received, past
 * compactor.delete_request_cancel_period (plus a minute), of a tenant in filter-and-delete mode (in
 * filter-only mode queries hide the lines and storage keeps them), oldest range first, at most `batchSize`.
 */
export function requestsDue(
  pieces: readonly DeleteRequest[],
  opts: { nowMs: number; cancelPeriodMs: number; modeOf: (tenant: string) => DeletionMode; batchSize?: number },
): DeleteRequest[] {
  const due = pieces
    .filter((p) => p.status === 'received' && opts.modeOf(p.tenant) === 'filter-and-delete')
    .filter((p) => p.createdAtMs + opts.cancelPeriodMs + CANCEL_GRACE_MS < opts.nowMs)
    .sort((a, b) => a.startMs - b.startMs);
  return opts.batchSize === undefined ? due : due.slice(0, opts.batchSize);
}

/** What becomes of one chunk. */
export type ChunkFate =
  | { readonly kind: 'keep' }
  | { readonly kind: 'delete' }
  /** Written again without the lines `deleted` says go (it may say all of them). */
  | { readonly kind: 'rewrite'; readonly deleted: (e: Entry) => boolean };

const MS = 1_000_000n;
const KEEP: ChunkFate = { kind: 'keep' };
const DELETE: ChunkFate = { kind: 'delete' };

/** A request compiled once: its matchers, its range in ns and, with a filter, its pipeline. */
interface CompiledRequest {
  readonly request: DeleteRequest;
  readonly matches: (labels: Labels) => boolean;
  readonly start: bigint;
  readonly end: bigint;
  readonly filtered: boolean;
  readonly pipeline: Pipeline | undefined;
}

function compileRequest(request: DeleteRequest): CompiledRequest {
  const { matchers, pipeline } = compileDeleteQuery(request.query);
  return {
    request,
    matches: (labels) => matchesAll(matchers, labels),
    start: BigInt(request.startMs) * MS,
    end: BigInt(request.endMs) * MS,
    filtered: pipeline !== undefined,
    pipeline,
  };
}

/**
 * The fate of one chunk of a stream with `labels` under `requests` (one tenant's, compiled). A chunk goes
 * whole when a request without line filters covers it (its from and through in ms within the request's
 * inclusive range, as Loki compares them); it is rewritten when a request overlaps it otherwise.
 */
function chunkFate(labels: Labels, ref: ChunkRef, requests: readonly CompiledRequest[]): ChunkFate {
  const fromMs = (ref.from / MS) * MS;
  const throughMs = (ref.through / MS) * MS;
  const touching = requests.filter((r) => r.start <= throughMs && r.end >= fromMs && r.matches(labels));
  if (touching.length === 0) return KEEP;
  if (touching.some((r) => !r.filtered && r.start <= fromMs && r.end >= throughMs)) return DELETE;
  const tests = touching.map((r) => {
    const stream = r.pipeline?.forStream(labels);
    return (e: Entry) =>
      e.timestamp >= r.start && e.timestamp <= r.end && (stream === undefined || stream.run(e.line, e.timestamp, e.structuredMetadata) !== undefined);
  });
  return { kind: 'rewrite', deleted: (e) => tests.some((t) => t(e)) };
}

/** What the compactor reads and writes chunks through (LogStore has both). */
export interface ChunkIO {
  getChunk(tenant: string, ref: ChunkRef): Promise<Buffer>;
  putChunk(tenant: string, ref: ChunkRef, bytes: Buffer): Promise<void>;
}

/** What applying the deletes to one table's series came to. */
export interface DeleteOutcome {
  /** The series with what is left of their chunks (new refs for rewritten ones); series left empty go. */
  readonly series: SeriesChunks[];
  /** Chunks no longer listed: gone whole, or replaced by a rewritten one. The compactor marks them for the sweeper. */
  readonly removed: ChunkRef[];
  /** The rewritten chunks, already in the store. */
  readonly written: ChunkRef[];
  /** Lines removed from rewritten chunks (Loki's loki_compactor_deleted_lines). */
  readonly deletedLines: number;
}

/**
 * Applies `requests` (the pieces due, of `tenant`) to one index table's series. Rewritten chunks are put
 * before this returns, so an index that lists them can be published right after. A rewrite is
 * deterministic: the same chunk rewritten for two tables (it spans midnight) gives the same object.
 */
export async function applyDeletes(tenant: string, series: readonly SeriesChunks[], requests: readonly DeleteRequest[], io: ChunkIO): Promise<DeleteOutcome> {
  const compiled = requests.filter((r) => r.tenant === tenant).map(compileRequest);
  const out: SeriesChunks[] = [];
  const removed: ChunkRef[] = [];
  const written: ChunkRef[] = [];
  let deletedLines = 0;
  for (const s of series) {
    const chunks: ChunkRef[] = [];
    for (const ref of s.chunks) {
      const fate = compiled.length === 0 ? KEEP : chunkFate(s.labels, ref, compiled);
      if (fate.kind === 'keep') {
        chunks.push(ref);
        continue;
      }
      if (fate.kind === 'rewrite') {
        const rewritten = rewriteChunk(await io.getChunk(tenant, ref), ref, fate.deleted);
        if (rewritten === 'unchanged') {
          chunks.push(ref);
          continue;
        }
        deletedLines += rewritten.deletedLines;
        if (rewritten.chunk) {
          await io.putChunk(tenant, rewritten.chunk.ref, rewritten.chunk.bytes);
          chunks.push(rewritten.chunk.ref);
          written.push(rewritten.chunk.ref);
        }
      }
      removed.push(ref);
    }
    if (chunks.length > 0) out.push({ labels: s.labels, fingerprint: s.fingerprint, chunks });
  }
  return { series: out, removed, written, deletedLines };
}

/**
 * A chunk without the entries `deleted` says go: the new bytes and their ref (undefined chunk when no
 * entry is left), or 'unchanged' when none goes. Blocks keep the original's encoding and block size.
 */
export function rewriteChunk(
  bytes: Buffer,
  ref: ChunkRef,
  deleted: (e: Entry) => boolean,
): 'unchanged' | { chunk: { bytes: Buffer; ref: ChunkRef } | undefined; deletedLines: number } {
  const decoded = decodeChunk(bytes);
  const entries = entriesOfRuns(readChunkBlocks(bytes, ref.from, ref.through + 1n, false));
  const kept = entries.filter((e) => !deleted(e));
  if (kept.length === entries.length) return 'unchanged';
  const deletedLines = entries.length - kept.length;
  if (kept.length === 0) return { chunk: undefined, deletedLines };
  const blockSize = Math.max(...decoded.blocks.map((b) => b.uncompressedLength));
  const chunk = new MemChunk(decoded.encoding, blockSize, Number.MAX_SAFE_INTEGER);
  for (const e of kept) chunk.append(e);
  const out = chunk.encode();
  return {
    chunk: {
      bytes: out,
      ref: {
        fingerprint: ref.fingerprint,
        from: chunk.minTs,
        through: chunk.maxTs,
        checksum: chunkChecksum(out),
        size: out.length,
        lineBytes: chunk.lineBytes,
        entries: chunk.entries,
      },
    },
    deletedLines,
  };
}
