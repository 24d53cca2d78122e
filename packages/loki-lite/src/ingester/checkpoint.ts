import { EntryBatch, type Logger } from '@loki-lite/shared';
import type { Entry } from '../chunk/entry.js';
import { snapshotEntries } from '../chunk/reader.js';
import type { ChunkSnapshot } from '../chunk/snapshot.js';
import { ByteWriter } from '../util/binary.js';
import type { Stream } from './stream.js';
import { encodeRecord } from './wal/record.js';
import type { Wal } from './wal/wal.js';

/** A tenant's streams in memory, by label string. */
export interface TenantStreams {
  readonly tenant: string;
  readonly streams: ReadonlyMap<string, Stream>;
}

interface StreamSnapshot {
  readonly tenant: string;
  readonly labels: string;
  readonly chunks: readonly ChunkSnapshot[];
}

/** Entries per checkpoint record: bounds the memory one record takes to encode and to replay. */
const CHECKPOINT_RECORD_ENTRIES = 4096;

/**
 * Ends the current WAL segment and writes a checkpoint of everything still in memory as of that moment, so
 * the segments before it can go. The rotation and the snapshot happen in one synchronous step: a push
 * after it is in the next segment, never in both nor in neither. Resolves to the bytes written.
 */
export async function writeCheckpoint(wal: Wal, instances: Iterable<TenantStreams>, log: Logger): Promise<number> {
  const failedBatches = wal.failedBatches;
  const segment = wal.rotate();
  const snapshot = snapshotOf(instances);
  let bytes = 0;
  const counted = function* (records: Iterable<Buffer>) {
    for (const r of records) {
      bytes += r.length;
      yield r;
    }
  };
  await wal.writeCheckpoint(segment, counted(checkpointRecords(snapshot)), failedBatches);
  log.debug(`WAL checkpoint written after segment ${segment}: ${snapshot.length} streams, ${bytes} bytes`);
  return bytes;
}

/** Point-in-time copies of every stream's chunks in memory. */
function snapshotOf(instances: Iterable<TenantStreams>): StreamSnapshot[] {
  const snapshot: StreamSnapshot[] = [];
  for (const { tenant, streams } of instances) {
    for (const s of streams.values()) {
      // A chunk an index file lists is in the store for good: replaying it would flush it a second time.
      const chunks = s.chunks.filter((c) => c.state !== 'indexed').map((c) => c.chunk.snapshot());
      if (chunks.length > 0) snapshot.push({ tenant, labels: s.labelsString, chunks });
    }
  }
  return snapshot;
}

/** The snapshot as entries records, a stream's entries split into records of at most CHECKPOINT_RECORD_ENTRIES. */
function* checkpointRecords(snapshot: readonly StreamSnapshot[]): Generator<Buffer> {
  const w = new ByteWriter(1 << 16);
  const record = (s: StreamSnapshot, batch: Entry[]) =>
    encodeRecord(w, { tenant: s.tenant, streams: [{ labels: s.labels, entries: EntryBatch.fromEntries(batch) }] });
  for (const s of snapshot) {
    let batch: Entry[] = [];
    for (const c of s.chunks) {
      for (const e of snapshotEntries(c)) {
        batch.push(e);
        if (batch.length >= CHECKPOINT_RECORD_ENTRIES) {
          yield record(s, batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield record(s, batch);
  }
}
