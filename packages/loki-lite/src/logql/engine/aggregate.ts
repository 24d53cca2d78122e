import { type Label, type Labels, printLabels } from '@loki-lite/shared';
import type { Grouping, VectorOp } from '../syntax/ast.js';
import type { Sample } from './value.js';

/** The label set of a sample's group: `by` keeps the listed labels, `without` drops them, none gives {}. */
export function groupLabels(labels: readonly Label[], grouping: Grouping | undefined): Label[] {
  if (!grouping) return [];
  const names = new Set(grouping.labels);
  return labels.filter((l) => names.has(l.name) !== grouping.without);
}

/** Items grouped by their labels reduced to `grouping`, keyed by the reduced labels' printed form. */
export function groupBy<T extends { readonly labels: Labels }>(
  items: readonly T[],
  grouping: Grouping | undefined,
): Map<string, { labels: Label[]; members: T[] }> {
  const groups = new Map<string, { labels: Label[]; members: T[] }>();
  for (const item of items) {
    const labels = groupLabels(item.labels, grouping);
    const key = printLabels(labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, members: [] }));
    g.members.push(item);
  }
  return groups;
}

const byValueDesc = (a: Sample, b: Sample) => b.value - a.value || (a.key < b.key ? -1 : 1);
const byValueAsc = (a: Sample, b: Sample) => a.value - b.value || (a.key < b.key ? -1 : 1);

/** A vector aggregation over one instant's samples, with Prometheus' definitions. */
export function aggregate(op: VectorOp, grouping: Grouping | undefined, param: number | undefined, samples: readonly Sample[]): Sample[] {
  if (op === 'sort') return [...samples].sort(byValueAsc);
  if (op === 'sort_desc') return [...samples].sort(byValueDesc);
  const groups = groupBy(samples, grouping);
  const out: Sample[] = [];
  for (const [key, g] of groups) {
    if (op === 'topk' || op === 'bottomk') {
      out.push(...g.members.sort(op === 'topk' ? byValueDesc : byValueAsc).slice(0, param));
      continue;
    }
    out.push({
      labels: g.labels,
      key,
      value: reduce(
        op,
        g.members.map((m) => m.value),
      ),
    });
  }
  return out;
}

function reduce(op: VectorOp, values: number[]): number {
  const n = values.length;
  switch (op) {
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / n;
    case 'min':
      return values.reduce((a, b) => (b < a || Number.isNaN(a) ? b : a));
    case 'max':
      return values.reduce((a, b) => (b > a || Number.isNaN(a) ? b : a));
    case 'count':
      return n;
    case 'stddev':
    case 'stdvar': {
      const mean = values.reduce((a, b) => a + b, 0) / n;
      const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      return op === 'stddev' ? Math.sqrt(variance) : variance;
    }
    default:
      throw new Error(`not a reducing aggregation: ${op}`);
  }
}
