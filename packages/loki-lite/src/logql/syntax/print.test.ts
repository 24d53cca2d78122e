import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseQuery } from './parser.js';
import { exprString, prettify } from './print.js';

describe("exprString (Loki's String())", () => {
  it.each([
    ['{app="a",env=~"p.*"}', '{app="a", env=~"p.*"}'],
    [
      '{app="a"}|="x" or "y"!~`re`|json|logfmt --strict lvl="level"|level="error"',
      '{app="a"} |= "x" or "y" !~ "re" | json | logfmt --strict lvl="level" | level="error"',
    ],
    ['{app="a"} | x > 5 and y < 1.5 or d >= 90s', '{app="a"} | ( ( x>5 , y<1.5 ) or d>=1m30s )'],
    [
      '{app="a"} | line_format "{{.x}}" | label_format a=b, c="{{.d}}" | drop e, f="g" | decolorize',
      '{app="a"} | line_format "{{.x}}" | label_format a=b,c="{{.d}}" | drop e,f="g" | decolorize',
    ],
    ['sum by (app) (rate({app="a"}[5m] offset 1h))', 'sum by(app)(rate({app="a"}[5m] offset 1h0m0s))'],
    [
      'quantile_over_time(0.99, {app="a"} | json | unwrap duration(d) | __error__="" [1m]) by (pod)',
      'quantile_over_time(0.99,{app="a"} | json | unwrap duration(d) | __error__=""[1m]) by(pod)',
    ],
    ['topk(5, sum(count_over_time({app="a"}[1h]))) > bool 2', '(topk(5,sum(count_over_time({app="a"}[1h]))) > bool 2)'],
    ['vector(1)+vector(1)', '(vector(1.000000) + vector(1.000000))'],
  ])('%s', (query, want) => {
    expect(exprString(parseQuery(query))).toBe(want);
  });
});

describe('prettify (format_query)', () => {
  it('keeps short queries on one line and splits long ones, a long pipeline one stage per line', () => {
    expect(prettify(parseQuery('sum by (app) (rate({app="a"}[5m]))'))).toBe('sum by(app)(rate({app="a"}[5m]))');
    const long = 'sum by (namespace, app) (count_over_time({namespace="training", app="llama-train"} |= "loss" | logfmt | level="error" | rank="0" [5m]))';
    expect(prettify(parseQuery(long))).toBe(
      [
        'sum by (namespace, app)(',
        '  count_over_time(',
        // The pipeline itself fits in 100 characters, so it stays on one line under its parent.
        '    {namespace="training", app="llama-train"} |= "loss" | logfmt | level="error" | rank="0" [5m]',
        '  )',
        ')',
      ].join('\n'),
    );
    const longPipeline = '{namespace="training", app="llama-train", container="trainer"} |= "loss" | logfmt | level="error" | rank="0"';
    expect(prettify(parseQuery(longPipeline))).toBe(
      ['{namespace="training", app="llama-train", container="trainer"}', '  |= "loss"', '  | logfmt', '  | level="error"', '  | rank="0"'].join('\n'),
    );
  });

  it('prints every recorded compat query (and these) in a form that parses back to the same expression', () => {
    const cases = JSON.parse(readFileSync(fileURLToPath(new URL('../../../../../../shared/compat/cases.json', import.meta.url)), 'utf8')) as Array<{
      params: { query?: string };
    }>;
    let checked = 0;
    for (const c of cases) {
      const q = c.params.query;
      if (!q) continue;
      let expr;
      try {
        expr = parseQuery(q);
      } catch {
        continue; // the invalid-query cases
      }
      expect(exprString(parseQuery(prettify(expr))), q).toBe(exprString(expr));
      checked++;
    }
    expect(checked).toBeGreaterThan(90);
  });
});
