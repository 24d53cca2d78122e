import { type Labels, printLabels } from '@loki-lite/shared';

/*
 * Loki's index/volume grouping (pkg/storage/stores/index/seriesvolume): the line bytes of each stream,
 * summed per group of labels.
 */

export interface LabelsBytes {
  readonly labels: Labels;
  bytes: number;
}

/**
 * `perStream` summed per group. `series` groups by the labels of `target` (streams without all of them are
 * left out) or, when none are given, by the labels the selector names (`selectorNames`); `labels` gives each
 * label name its streams' total. Biggest first, ties in label order.
 */
export function volumeGroups(
  perStream: Iterable<LabelsBytes>,
  selectorNames: readonly string[],
  target: readonly string[],
  aggregateBy: 'series' | 'labels',
): LabelsBytes[] {
  const groups = new Map<string, LabelsBytes>();
  const names = new Set(target.length > 0 ? target : selectorNames);
  for (const { labels, bytes } of perStream) {
    // Every target label is required: a stream without one of them is left out, as in Loki.
    if (target.length > 0 && aggregateBy === 'series' && !target.every((t) => labels.some((l) => l.name === t))) continue;
    if (aggregateBy === 'labels') {
      for (const l of labels) if (target.length === 0 || names.has(l.name)) addBytes(groups, [{ name: l.name, value: '' }], bytes);
    } else {
      addBytes(
        groups,
        labels.filter((l) => names.has(l.name)),
        bytes,
      );
    }
  }
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes || (printLabels(a.labels) < printLabels(b.labels) ? -1 : 1));
}

/** Adds `bytes` to the total of a label set, keyed by its printed form. */
function addBytes(totals: Map<string, LabelsBytes>, labels: Labels, bytes: number): void {
  const key = printLabels(labels);
  const t = totals.get(key);
  if (t) t.bytes += bytes;
  else totals.set(key, { labels, bytes });
}
