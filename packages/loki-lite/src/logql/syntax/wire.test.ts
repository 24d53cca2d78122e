import type { LabelMatcher } from '@loki-lite/shared';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseQuery } from './parser.js';
import { fromWire, toWire } from './wire.js';

/** The tree as comparable text: bigints written out, each matcher by its fields and a test of its function. */
function shape(expr: unknown): string {
  return JSON.stringify(expr, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    const m = v as Partial<LabelMatcher> | null;
    if (m && typeof m.matches === 'function')
      return { name: m.name, type: m.type, value: m.value, matchesItsValue: m.matches(m.value!), matchesX: m.matches('x') };
    return v;
  });
}

const COMPAT_CASES = fileURLToPath(new URL('../../../../../../shared/compat/cases.json', import.meta.url));

describe('queries on the wire', () => {
  const queries = [
    '{app="a"} | logfmt | size > 1234B | size <= 10MiB',
    'count_over_time({app="a", pod=~"p-[0-9]+", x!="y", z!~"q.*"} |~ `a|b` | json | d > 1.5ms [1500us] offset 100ns)',
    'sum by (pod) (quantile_over_time(0.99, {app="a"} | regexp `(?P<v>\\d+)` | unwrap bytes(v) | __error__="" [5m]))',
    '{app="a"} | drop b, c="d" | keep e, f=~"g.*" | line_format "{{.x}}" | label_format y=x',
  ];
  const compat = (JSON.parse(readFileSync(COMPAT_CASES, 'utf8')) as Array<{ params: { query?: string } }>)
    .map((c) => c.params.query)
    .filter((q): q is string => !!q);

  it.each(queries)('%s arrives as parsed, matchers working', (query) => {
    const expr = parseQuery(query);
    expect(shape(fromWire(structuredClone(toWire(expr))))).toBe(shape(expr));
  });

  it('every query of the compat kit that parses arrives as parsed', () => {
    let parsed = 0;
    for (const query of compat) {
      let expr;
      try {
        expr = parseQuery(query);
      } catch {
        continue;
      }
      parsed++;
      expect(shape(fromWire(structuredClone(toWire(expr))))).toBe(shape(expr));
    }
    expect(parsed).toBeGreaterThan(50);
  });
});
