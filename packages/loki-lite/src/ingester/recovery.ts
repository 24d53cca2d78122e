import { decodePushRequestProto, type EntryBatch, parseLabels, printLabels, snappyUncompress } from '@loki-lite/shared';
import { type ParsedStreamLabels, withServiceName } from '../labels/service-name.js';
import type { TenantInstance } from './instance.js';
import type { WalPushRecord, WalRecord } from './wal/record.js';

/*
 * Reading WAL records back into streams: on start-up (replay of the checkpoint and the segments after it),
 * and when a write fails and the entries it held must be taken back out of memory.
 */

/** A stream a record stored, under the labels it was stored with. */
export type StoredStream = ParsedStreamLabels & { readonly entries: EntryBatch };

/**
 * Puts a replayed record's entries back into the tenant's streams. Replay skips the limits (the entries
 * were acknowledged before the restart), not the duplicate check: a checkpoint and the segment after it
 * can both hold an entry.
 */
export function replayRecord(rec: WalRecord, instance: TenantInstance, now: number): { entries: number; bytes: number } {
  let entries = 0;
  let bytes = 0;
  for (const s of storedStreamsOf(rec)) {
    instance.streamFor(s.labels, s.labelsString, now, true)!.push(s.entries, now, true);
    entries += s.entries.count;
    for (let i = 0; i < s.entries.count; i++) bytes += s.entries.lineBytes(i);
  }
  return { entries, bytes };
}

/** The streams a record stored, under the labels they were stored with. */
export function storedStreamsOf(rec: WalRecord): StoredStream[] {
  if (rec.kind === 'entries') return rec.streams.map((s) => ({ ...parsedLabels(s.labels), entries: s.entries }));
  return decodePushRequestProto(snappyUncompress(rec.snappyProtobuf)).streams.map((s) => ({ ...storedLabelsOf(rec, s.labels), entries: s.entries }));
}

function parsedLabels(raw: string): ParsedStreamLabels {
  const labels = parseLabels(raw);
  return { labels, labelsString: printLabels(labels) };
}

/** The labels a stream of a logged push body was stored under: the distributor's service_name rule, redone. */
function storedLabelsOf(rec: WalPushRecord, raw: string): ParsedStreamLabels {
  const parsed = parsedLabels(rec.relabel.get(raw) ?? raw);
  return rec.serviceNameFrom.length > 0 ? withServiceName(parsed, rec.serviceNameFrom) : parsed;
}
