import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateAt, type SampleSource } from './evaluate.js';
import { compilePipeline, compileUnwrap } from '../log/pipeline.js';
import { compileBytePrefilter } from '../log/prefilter.js';
import { checkProperty, settlesOrClientError, succeedsOrClientError } from '../../testing/property.js';
import type { Expr } from '../syntax/ast.js';
import { forEachSelector, parseQuery } from '../syntax/parser.js';
import { exprString, prettify } from '../syntax/print.js';

/*
 * Property: whatever the query text, parsing it and everything done with the parsed query (printing it,
 * compiling its pipelines and running them over a line, evaluating it) either succeeds or throws a
 * LokiError the HTTP layer answers with a 4xx; never another exception, never a blown stack.
 *
 * Inputs: valid queries (every query literal of this package's tests, and the compat kit's queries beside
 * the checkout) mutated at random, random text, and the constructs that nest, repeated to a random depth.
 */

const SRC = fileURLToPath(new URL('../../', import.meta.url));
const COMPAT_CASES = fileURLToPath(new URL('../../../../../../shared/compat/cases.json', import.meta.url));

const parses = (q: string) => {
  try {
    parseQuery(q);
    return true;
  } catch {
    return false;
  }
};

/** The single-quoted string literals of this package's tests that are valid queries. */
function testQueries(): string[] {
  const out = new Set<string>();
  for (const file of readdirSync(SRC, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.test.ts')) continue;
    for (const m of readFileSync(path.join(SRC, file), 'utf8').matchAll(/'((?:[^'\\\n]|\\.)*)'/g)) {
      const text = m[1]!;
      if (!text.includes('{') && !text.includes('(')) continue;
      let q: string;
      try {
        // A single-quoted TypeScript literal read as the JSON string it would be with double quotes.
        q = JSON.parse(`"${text.replace(/\\'/g, "'").replace(/(?<!\\)((?:\\\\)*)"/g, '$1\\"')}"`) as string;
      } catch {
        continue;
      }
      if (parses(q)) out.add(q);
    }
  }
  return [...out];
}

function compatQueries(): string[] {
  if (!existsSync(COMPAT_CASES)) throw new Error(`the compat kit is missing: expected it at ${COMPAT_CASES}`);
  const cases = JSON.parse(readFileSync(COMPAT_CASES, 'utf8')) as Array<{ params: { query?: unknown } }>;
  return cases.map((c) => c.params.query).filter((q): q is string => typeof q === 'string');
}

const CORPUS = [...new Set([...testQueries(), ...compatQueries()])];

/** Pieces of LogQL syntax a mutation may insert. */
const TOKENS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  '=',
  '!=',
  '=~',
  '!~',
  '|=',
  '|~',
  '|>',
  '!>',
  '|',
  '==',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '"',
  '`',
  '\\',
  '#',
  ' ',
  '\n',
  'or',
  'and',
  'unless',
  'bool',
  'on',
  'ignoring',
  'group_left',
  'by',
  'without',
  'offset',
  'sum',
  'topk',
  'rate',
  'count_over_time',
  'quantile_over_time',
  'label_replace',
  'vector',
  'json',
  'logfmt',
  'unwrap',
  'line_format',
  'label_format',
  'ip(',
  '5m',
  '1e309',
  '0x',
  'NaN',
  'Inf',
  '1KB',
  '{{',
  '}}',
  '{{.x}}',
  '{{if',
  '{{end}}',
  '$',
  '(?P<x>',
  '<_>',
];

type Mutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'repeat'; at: number; length: number; times: number }
  | { kind: 'splice'; at: number; donor: string; from: number; length: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 4, unit: 'binary' })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }), times: fc.integer({ min: 2, max: 60 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), donor: fc.constantFrom(...CORPUS), from: fc.nat(), length: fc.nat(40) }),
);

function mutate(query: string, mutations: readonly Mutation[]): string {
  let q = query;
  for (const m of mutations) {
    const at = m.at % (q.length + 1);
    switch (m.kind) {
      case 'insert':
        q = q.slice(0, at) + m.text + q.slice(at);
        break;
      case 'delete':
        q = q.slice(0, at) + q.slice(at + m.length);
        break;
      case 'repeat':
        q = q.slice(0, at) + q.slice(at, at + m.length).repeat(m.times) + q.slice(at + m.length);
        break;
      case 'splice': {
        const from = m.from % (m.donor.length + 1);
        q = q.slice(0, at) + m.donor.slice(from, from + m.length) + q.slice(at);
        break;
      }
    }
  }
  return q;
}

const mutatedQuery = fc.tuple(fc.constantFrom(...CORPUS), fc.array(mutationArb, { minLength: 1, maxLength: 5 })).map(([q, ms]) => mutate(q, ms));

const LOGQL_CHARS = [...new Set(TOKENS.join('') + 'abcxyz019_ \t\n')];
const randomQuery = fc.oneof(fc.string({ unit: fc.constantFrom(...LOGQL_CHARS), maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }));

/** Every construct that nests (or chains into a deeper tree), `n` levels deep. */
const NESTINGS: Readonly<Record<string, (n: number) => string>> = {
  parentheses: (n) => `${'('.repeat(n)}count_over_time({a="b"}[1m])${')'.repeat(n)}`,
  unaryMinus: (n) => `${'-'.repeat(n)}1`,
  power: (n) => `2${'^2'.repeat(n)}`,
  plus: (n) => `vector(1)${' + vector(1)'.repeat(n)}`,
  comparisons: (n) => `1${' == bool 1'.repeat(n)}`,
  setOperators: (n) => `count_over_time({a="b"}[1m])${' or on (a) count_over_time({a="b"}[1m])'.repeat(n)}`,
  vectorAggregation: (n) => `${'sum by (a) ('.repeat(n)}rate({a="b"}[1m])${')'.repeat(n)}`,
  labelReplace: (n) => `${'label_replace('.repeat(n)}rate({a="b"}[1m])${',"a","$1","b","(.*)")'.repeat(n)}`,
  labelFilterParentheses: (n) => `{a="b"} | ${'('.repeat(n)}x="1"${')'.repeat(n)}`,
  labelFilterAnd: (n) => `{a="b"} | x="1"${' and y>1'.repeat(n)}`,
  labelFilterOr: (n) => `{a="b"} | x="1"${' or y="2"'.repeat(n)}`,
  labelFilterComma: (n) => `{a="b"} | x="1"${', y!="2"'.repeat(n)}`,
  unwrapFilters: (n) => `sum_over_time({a="b"} | unwrap x${' | x > 1 or x < 0'.repeat(n)} [1m])`,
  lineFilterOr: (n) => `{a="b"} |= "x"${' or "y"'.repeat(n)}`,
  stages: (n) => `{a="b"}${' | json'.repeat(n)}`,
  templateParentheses: (n) => `{a="b"} | line_format "{{ ${'('.repeat(n)}.x${')'.repeat(n)} }}"`,
  templateIf: (n) => `{a="b"} | line_format "${'{{if .x}}'.repeat(n)}x${'{{end}}'.repeat(n)}"`,
  templateElseIf: (n) => `{a="b"} | label_format y="{{if .x}}a${'{{else if .y}}b'.repeat(n)}{{end}}"`,
  templatePipes: (n) => `{a="b"} | line_format "{{ .x${' | upper'.repeat(n)} }}"`,
  jsonPath: (n) => `{a="b"} | json x="${Array(n).fill('a').join('.')}"`,
  // Go's regexp refuses nesting past 1,000 ("expression nests too deeply"); deeper is the regex engine's to refuse.
  regex: (n) => `{a="b"} |~ "${'('.repeat(Math.min(n, 1000))}a${')'.repeat(Math.min(n, 1000))}"`,
};

/** A shape and a depth (the query is built in the property, so that a failure prints these two only). */
const nesting = fc.tuple(fc.constantFrom(...Object.keys(NESTINGS)), fc.oneof(fc.integer({ min: 1, max: 1200 }), fc.integer({ min: 1200, max: 70_000 })));

/** No data: evaluation still walks the whole expression. */
const EMPTY: SampleSource = { streams: async () => [] };
const LINES = ['{"x":"1","y":{"z":2}}', 'x=1 y=2 level=error', '\u001b[31mplain text\u001b[0m 10.0.0.1'];

/** What the query API does with a parsed query, short of reading data. */
async function useParsed(expr: Expr): Promise<void> {
  // Printing must not throw (what it prints is checked by the printer's own tests).
  exprString(expr);
  prettify(expr);
  forEachSelector(expr, (selector) => {
    succeedsOrClientError(() => {
      const unwrap = selector.unwrap && compileUnwrap(selector.unwrap);
      compileBytePrefilter(selector.pipeline);
      const stream = compilePipeline(selector.pipeline).forStream([{ name: 'a', value: 'b' }]);
      for (const line of LINES) if (stream.process(line, 0n, []) !== undefined) unwrap?.(stream.builder);
    });
  });
  if (expr.kind !== 'log_selector') await settlesOrClientError(() => evaluateAt(expr, EMPTY, 1n));
}

/** How many queries of the current property parsed, and how many were refused. */
const outcomes = { parsed: 0, refused: 0 };

async function queryProperty(query: string): Promise<void> {
  let expr: Expr | undefined;
  if (!succeedsOrClientError(() => (expr = parseQuery(query)))) {
    outcomes.refused++;
    return;
  }
  outcomes.parsed++;
  await useParsed(expr!);
}

/**
 * Checks the property over `inputs`. `bothOutcomes`: some queries must have parsed and some must have been
 * refused, or the inputs would prove little.
 */
async function checkQueries<T>(inputs: fc.Arbitrary<T>, toQuery: (input: T) => string, numRuns: number, bothOutcomes = true): Promise<void> {
  outcomes.parsed = outcomes.refused = 0;
  await checkProperty(
    fc.asyncProperty(inputs, (input) => queryProperty(toQuery(input))),
    { numRuns },
  );
  expect(outcomes.refused, 'queries refused').toBeGreaterThan(numRuns / 20);
  if (bothOutcomes) expect(outcomes.parsed, 'queries that parsed').toBeGreaterThan(numRuns / 20);
}

describe('LogQL parser fuzzing', () => {
  it('has a corpus of valid queries from the tests and the compat kit', () => {
    expect(CORPUS.length).toBeGreaterThan(150);
  });

  it('answers mutated valid queries with a result or a 4xx LokiError', async () => {
    await checkQueries(mutatedQuery, (q) => q, 1000);
  });

  it('answers random text with a result or a 4xx LokiError', async () => {
    // Random text that parses is rare (a number is a query).
    await checkQueries(randomQuery, (q) => q, 400, false);
  });

  it('answers every nesting construct at any depth with a result or a 4xx LokiError', async () => {
    await checkQueries(nesting, ([shape, depth]) => NESTINGS[shape]!(depth), 80);
  });
});
