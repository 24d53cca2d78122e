import { type LabelMatcher, matchesAll, matchesEmpty } from '@loki-lite/shared';
import type { IndexFile } from './format.js';
import type { SeriesChunks } from './types.js';

/**
 * The series of one index file that match all `matchers` and have a chunk overlapping [from, through].
 * Candidates come from the postings of the matchers that cannot match an empty value (LogQL requires at
 * least one); every matcher is then checked against the candidate's labels.
 */
export function selectSeries(index: IndexFile, matchers: readonly LabelMatcher[], from: bigint, through: bigint): SeriesChunks[] {
  let candidates: Set<number> | undefined;
  for (const m of matchers) {
    if (matchesEmpty(m)) continue;
    const values = index.postings.get(m.name);
    const hits = new Set<number>();
    if (values) {
      if (m.type === '=') for (const o of values.get(m.value) ?? []) hits.add(o);
      else for (const [value, list] of values) if (m.matches(value)) for (const o of list) hits.add(o);
    }
    candidates = candidates ? intersect(candidates, hits) : hits;
    if (candidates.size === 0) return [];
  }
  const ordinals = candidates ?? index.series.map((_, i) => i);
  const out: SeriesChunks[] = [];
  for (const o of ordinals) {
    const s = index.series[o]!;
    if (!matchesAll(matchers, s.labels)) continue;
    const chunks = s.chunks.filter((c) => c.from <= through && c.through >= from);
    if (chunks.length > 0) out.push({ labels: s.labels, fingerprint: s.fingerprint, chunks });
  }
  return out;
}

function intersect(a: Set<number>, b: Set<number>): Set<number> {
  const out = new Set<number>();
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (big.has(x)) out.add(x);
  return out;
}
