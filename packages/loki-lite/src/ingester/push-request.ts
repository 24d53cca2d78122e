import type { EntryBatch, Labels } from '@loki-lite/shared';
import type { Stream } from './stream.js';

/*
 * What the distributor hands the ingester with a push. Kept apart from the Ingester class so the per-tenant
 * instance and the WAL logging can name these types without importing the service that wires them.
 */

/** A validated stream as the distributor hands it over. */
export interface IngestStream {
  readonly labels: Labels;
  readonly labelsString: string;
  readonly entries: EntryBatch;
  /** Kept by the distributor with its parse of the label string, and handed over with it each time. */
  readonly route?: StreamRoute;
}

/**
 * Where the ingester last put a label string's entries, so the next push of that string skips the lookup
 * in the tenant's stream map (with thousands of streams taking turns, that lookup is cache misses: its
 * hash, its bucket and its entry). Checked against the tenant, and dropped streams are never used.
 */
export interface StreamRoute {
  tenant: string | undefined;
  stream: Stream | undefined;
}

/**
 * A protobuf push body (snappy-compressed, as received) all of whose entries are in the streams pushed
 * with it, and the service_name sources applied to them, so the WAL can log the body instead of the entries.
 */
export interface WholePushBody {
  readonly snappyProtobuf: Buffer;
  readonly serviceNameFrom: readonly string[];
}
