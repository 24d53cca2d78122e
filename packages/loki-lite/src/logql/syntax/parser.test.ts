import { LokiError } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { ParseError } from './errors.js';
import { MAX_QUERY_DEPTH, parseMatchers, parseQuery } from './parser.js';

describe('parser', () => {
  it.each([
    ['{app="a"}', 1, 0],
    ['{app="a", env!="b", pod=~"p-.*", ns!~"kube-.*"}', 4, 0],
    ['{app=`raw\\string`} |= "x" != "y" |~ "a|b" !~ `c.d`', 1, 4],
    ['{app="a"} |= "x" or "y" # a comment\n |= "z"', 1, 2],
  ])('parses %j', (src, matchers, filters) => {
    const expr = parseQuery(src);
    if (expr.kind !== 'log_selector') throw new Error('expected a log selector');
    expect(expr.matchers.length).toBe(matchers);
    expect(expr.pipeline.length).toBe(filters);
  });

  it('keeps or-alternatives of a line filter', () => {
    const expr = parseQuery('{app="a"} |= "x" or "y" or "z"');
    if (expr.kind !== 'log_selector') throw new Error('expected a log selector');
    expect(expr.pipeline[0]).toMatchObject({ op: '|=', value: 'x', or: ['y', 'z'] });
  });

  it.each([
    ['{}', 'parse error at line 1, col 2: syntax error: unexpected }, expecting IDENTIFIER'],
    ['{app="a"', 'parse error at line 1, col 9: syntax error: unexpected $end, expecting , or }'],
    ['{app="a"}\n |= 3', 'parse error at line 2, col 5: syntax error: unexpected NUMBER, expecting STRING'],
    ['{app=~"(a"}', 'parse error : error parsing regexp'],
    ['{app="a"} |~ "b(?=c)"', 'parse error : error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['{app="\\q"}', 'parse error at line 1, col 6: invalid char escape'],
  ])("rejects %j with Loki's message", (src, message) => {
    expect(() => parseQuery(src)).toThrow(message);
  });

  it("refuses queries of 128 KiB or more, counted in UTF-8 bytes, with Loki's message", () => {
    const query = (valueBytes: number) => `{app="${'a'.repeat(valueBytes)}"}`;
    expect(() => parseQuery(query(131072 - 9))).not.toThrow();
    expect(() => parseQuery(query(131072 - 8))).toThrow(new ParseError('input size too long (131072 > 131072)', 0, 0));
    // 43,690 three-byte characters: short in UTF-16 code units, over the limit in bytes.
    expect(() => parseQuery(`{app="${'€'.repeat(43690)}"}`)).toThrow('parse error : input size too long (131078 > 131072)');
  });

  it('refuses a query nested more than MAX_QUERY_DEPTH levels, where the parser finds it or in the tree it built', () => {
    const parenthesized = (n: number) => `${'('.repeat(n)}1${')'.repeat(n)}`;
    expect(parseQuery(parenthesized(MAX_QUERY_DEPTH - 1))).toEqual({ kind: 'number', value: 1 });
    expect(() => parseQuery(parenthesized(MAX_QUERY_DEPTH))).toThrow(
      new ParseError(`expression nests too deeply (more than ${MAX_QUERY_DEPTH} levels)`, 1, MAX_QUERY_DEPTH + 1),
    );
    // Chains: each operator is one level more of the tree, though the parser loops over them.
    const chain = (links: number) => `1${' + 1'.repeat(links)}`;
    expect(() => parseQuery(chain(MAX_QUERY_DEPTH - 1))).not.toThrow();
    expect(() => parseQuery(chain(MAX_QUERY_DEPTH))).toThrow(`parse error : expression nests too deeply (more than ${MAX_QUERY_DEPTH} levels)`);
    const filters = (links: number) => `{a="b"} | x="1"${' or y>2'.repeat(links)}`; // the selector is a level too
    expect(() => parseQuery(filters(MAX_QUERY_DEPTH - 2))).not.toThrow();
    expect(() => parseQuery(filters(MAX_QUERY_DEPTH - 1))).toThrow('parse error : expression nests too deeply');
    expect(() => parseQuery(`{a="b"} | ${'('.repeat(MAX_QUERY_DEPTH)}x="1"${')'.repeat(MAX_QUERY_DEPTH)}`)).toThrow('expression nests too deeply');
    expect(() => parseQuery(`${'sum('.repeat(MAX_QUERY_DEPTH)}rate({a="b"}[1m])${')'.repeat(MAX_QUERY_DEPTH)}`)).toThrow('expression nests too deeply');
  });

  it('reads any number of leading signs without nesting', () => {
    expect(parseQuery(`${'-'.repeat(50_000)}2`)).toEqual({ kind: 'number', value: 2 });
    expect(parseQuery(`${'- +'.repeat(3)}2`)).toEqual({ kind: 'number', value: -2 });
    expect(parseQuery('-vector(1)')).toMatchObject({ kind: 'binary', op: '*', lhs: { kind: 'number', value: -1 }, rhs: { kind: 'vector', value: 1 } });
  });

  it('parseMatchers accepts only a selector', () => {
    expect(parseMatchers('{a="b"}').length).toBe(1);
    expect(() => parseMatchers('{a="b"} |= "x"')).toThrow(LokiError);
  });
});

describe('pipeline stages and unwrap', () => {
  it.each([
    '{a="b"} | json | logfmt --strict --keep-empty | regexp `(?P<x>.)` | pattern `<y> <_>` | unpack | decolorize',
    '{a="b"} | json f="x.y[0]", g | logfmt h="k" | line_format "{{.f}}" | label_format r="{{.g}}", s=h | drop f | keep g',
    '{a="b"} | x > 1 and y = "z" or (w != ip("10.0.0.0/8"), v >= 1.5KB) | d < 10ms',
    '{a="b"} |> "<_> GET <_>" !> "x <_>" |= ip("10.0.0.1")',
    'sum_over_time({a="b"} | logfmt | unwrap bytes(size) | __error__="" [5m])',
    'quantile_over_time(0.99, {a="b"} | json | unwrap duration(latency) [5m]) by (pod)',
    'count_over_time({a="b"}[5m] | json | level="error")',
  ])('parses %s', (q) => {
    expect(() => parseQuery(q)).not.toThrow();
  });

  it.each([
    ['{a="b"} | regexp "no captures"', 'parse error : at least one named capture must be supplied'],
    ['sum_over_time({a="b"}[5m])', 'parse error : invalid aggregation sum_over_time without unwrap'],
    ['bytes_over_time({a="b"} | unwrap x [5m])', 'parse error : invalid aggregation bytes_over_time with unwrap'],
    ['count_over_time({a="b"}[5m]) by (x)', 'parse error : grouping not allowed for count_over_time aggregation'],
    // Only the unwrapped value aggregations group (Loki's RangeAggregationExpr.validate); rate does not, even unwrapped
    ['rate({a="b"}[5m]) by (x)', 'parse error : grouping not allowed for rate aggregation'],
    ['rate({a="b"} | unwrap x [5m]) without (x)', 'parse error : grouping not allowed for rate aggregation'],
    ['rate_counter({a="b"} | unwrap x [5m]) by (x)', 'parse error : grouping not allowed for rate_counter aggregation'],
    ['absent_over_time({a="b"}[5m]) by (x)', 'parse error : grouping not allowed for absent_over_time aggregation'],
    ['{a="b"} | label_format x="a", x="b"', "parse error : multiple label name 'x' not allowed in a single format operation"],
    ['{a="b"} | x > "str"', 'parse error at line 1, col 15: syntax error: unexpected STRING, expecting NUMBER or DURATION or BYTES'],
  ])('rejects %s', (q, message) => {
    expect(() => parseQuery(q)).toThrow(message);
  });
});
