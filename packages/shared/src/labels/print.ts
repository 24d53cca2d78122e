import type { Labels } from './labels.js';
import { goQuote } from './quote.js';

/** Prints a label set the way Loki does: `{a="b", c="d"}` (Prometheus labels.String()). */
export function printLabels(labels: Labels): string {
  let out = '{';
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) out += ', ';
    out += l.name + '=' + goQuote(l.value);
  }
  return out + '}';
}
