import type { EntryBatch, Labels } from '@loki-lite/shared';

/*
 * What the distributor hands the ingester with a push. Kept apart from the Ingester class so the per-tenant
 * instance and the WAL logging can name these types without importing the service that wires them.
 */

/** A validated stream as the distributor hands it over. */
export interface IngestStream {
  readonly labels: Labels;
  readonly labelsString: string;
  /**
   * Views into the push route's reused decode memory: valid for the call, so a receiver copies what it keeps
   * (ARCHITECTURE.md, "Seams between roles").
   */
  readonly entries: EntryBatch;
}

/**
 * A protobuf push body (snappy-compressed, as received) all of whose entries are in the streams pushed
 * with it, and the service_name sources applied to them, so the WAL can log the body instead of the entries.
 */
export interface WholePushBody {
  readonly snappyProtobuf: Buffer;
  readonly serviceNameFrom: readonly string[];
}
