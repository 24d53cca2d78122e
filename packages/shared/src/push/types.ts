import type { Label } from '../labels/labels.js';
import type { Nanos } from '../logql-time/timestamp.js';
import type { EntryBatch } from './entry-batch.js';

/** One log line as a client builds it (encoders take these). `structuredMetadata` is the shared EMPTY array when there is none. */
export interface PushEntry {
  timestamp: Nanos;
  line: string;
  structuredMetadata: readonly Label[];
}

/** A stream as a client builds it: its label string, not yet parsed or validated. */
export interface PushStream {
  labels: string;
  entries: PushEntry[];
}

export interface PushRequest {
  streams: PushStream[];
}

/** A pushed stream as decoded on the server: its label string as sent, and its entries as columns. */
export interface DecodedPushStream {
  labels: string;
  entries: EntryBatch;
}

export interface DecodedPushRequest {
  streams: DecodedPushStream[];
  /**
   * For protobuf pushes, the snappy-compressed message exactly as received (after any Content-Encoding is
   * removed). The ingester writes it to its WAL as is when every entry was accepted.
   */
  snappyProtobuf?: Buffer;
}
