import {
  compareParts,
  type EntryBatch,
  findDuplicateLabelName,
  formatRFC3339,
  type Labels,
  LabelParseError,
  LokiError,
  nanosPartOf,
  parseLabels,
  printLabels,
  secondsOf,
} from '@loki-lite/shared';
import type { LimitsConfig } from '../config/schema.js';
import type { ParsedStreamLabels } from '../labels/service-name.js';

/*
 * Push validation with Loki's limits, order of checks and error texts (pkg/validation). Grafana, Promtail and
 * Alloy show these texts to people, so they are kept word for word.
 */

const invalid = (code: string, message: string) => new LokiError('bad_data', code, message);

/** Parses and checks a stream's labels; throws with the reason Loki would discard the stream for. */
export function validateStreamLabels(raw: string, limits: LimitsConfig): ParsedStreamLabels {
  let labels: Labels;
  try {
    labels = parseLabels(raw);
  } catch (e) {
    if (e instanceof LabelParseError) throw invalid('invalid_labels', `Error parsing labels '${raw}' with error: ${e.message}`);
    throw e;
  }
  const labelsString = printLabels(labels);
  if (labels.length === 0) throw invalid('missing_labels', 'error at least one label pair is required per stream');
  if (labels.length > limits.max_label_names_per_series) {
    throw invalid(
      'max_label_names_per_series',
      `entry for stream '${labelsString}' has ${labels.length} label names; limit ${limits.max_label_names_per_series}`,
    );
  }
  for (const l of labels) {
    if (l.name.length > limits.max_label_name_length) throw invalid('label_name_too_long', `stream '${labelsString}' has label name too long: '${l.name}'`);
    if (l.value.length > limits.max_label_value_length)
      throw invalid('label_value_too_long', `stream '${labelsString}' has label value too long: '${l.value}'`);
  }
  const dup = findDuplicateLabelName(labels);
  if (dup !== undefined) throw invalid('duplicate_label_names', `stream '${labelsString}' has duplicate label name: '${dup}'`);
  return { labels, labelsString };
}

/** The accepted timestamps, as seconds and nanoseconds like the entries they are compared with. */
export interface EntryWindow {
  /** Entries older than this are rejected (unset when reject_old_samples is off). */
  readonly oldestNs: bigint | undefined;
  readonly oldestSeconds: number;
  readonly oldestNanos: number;
  /** Entries newer than this are rejected. */
  readonly newestSeconds: number;
  readonly newestNanos: number;
}

export function entryWindow(limits: LimitsConfig, nowNs: bigint): EntryWindow {
  const oldestNs = limits.reject_old_samples ? nowNs - limits.reject_old_samples_max_age : undefined;
  const newestNs = nowNs + limits.creation_grace_period;
  return {
    oldestNs,
    oldestSeconds: oldestNs === undefined ? -Infinity : secondsOf(oldestNs),
    oldestNanos: oldestNs === undefined ? 0 : nanosPartOf(oldestNs),
    newestSeconds: secondsOf(newestNs),
    newestNanos: nanosPartOf(newestNs),
  };
}

/**
 * Checks entry `i` of a batch. Returns undefined when it is acceptable, or the error. A line over
 * max_line_size is cut to that many bytes instead when max_line_size_truncate is set (as Loki does).
 */
export function validateEntry(batch: EntryBatch, i: number, labelsString: string, limits: LimitsConfig, window: EntryWindow): LokiError | undefined {
  const seconds = batch.columns.seconds[batch.first + i]!;
  const nanos = batch.columns.nanos[batch.first + i]!;
  if (window.oldestNs !== undefined && compareParts(seconds, nanos, window.oldestSeconds, window.oldestNanos) < 0) {
    return invalid(
      'greater_than_max_sample_age',
      `entry for stream '${labelsString}' has timestamp too old: ${formatRFC3339(batch.timestamp(i))}, oldest acceptable timestamp is: ${formatRFC3339(window.oldestNs)}`,
    );
  }
  if (compareParts(seconds, nanos, window.newestSeconds, window.newestNanos) > 0) {
    return invalid('too_far_in_future', `entry for stream '${labelsString}' has timestamp too new: ${formatRFC3339(batch.timestamp(i))}`);
  }
  const max = limits.max_line_size;
  const size = batch.lineBytes(i);
  if (max > 0 && size > max) {
    if (!limits.max_line_size_truncate) {
      return invalid('line_too_long', `Max entry size '${max}' bytes exceeded for stream '${labelsString}' while adding an entry with length '${size}' bytes`);
    }
    batch.truncateLine(i, max);
  }
  const meta = batch.structuredMetadata(i);
  if (meta.length > 0) {
    if (!limits.allow_structured_metadata) {
      return invalid(
        'disallowed_structured_metadata',
        `stream '${labelsString}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it.`,
      );
    }
    let metaSize = 0;
    for (const l of meta) metaSize += l.name.length + l.value.length;
    if (limits.max_structured_metadata_size > 0 && metaSize > limits.max_structured_metadata_size) {
      return invalid(
        'structured_metadata_too_large',
        `stream '${labelsString}' has structured metadata too large: '${metaSize}' bytes, limit: '${limits.max_structured_metadata_size}' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it.`,
      );
    }
    if (limits.max_structured_metadata_entries_count > 0 && meta.length > limits.max_structured_metadata_entries_count) {
      return invalid(
        'structured_metadata_too_many',
        `stream '${labelsString}' has too many structured metadata labels: '${meta.length}', limit: '${limits.max_structured_metadata_entries_count}'. Please see \`limits_config.max_structured_metadata_entries_count\` or contact your Loki administrator to increase it.`,
      );
    }
  }
  return undefined;
}

/** Bytes entry `i` counts for rate limits and metrics: its line plus its structured metadata. */
/** The bytes of the batch's structured metadata (names and values), as Loki counts them. */
/** The structured metadata bytes of one entry (names and values), as Loki counts them. */
export function entryMetadataBytes(batch: EntryBatch, i: number): number {
  if (!batch.hasMetadata) return 0;
  let n = 0;
  for (const l of batch.structuredMetadata(i)) n += l.name.length + l.value.length;
  return n;
}
