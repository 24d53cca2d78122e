import { labelsFromRecord, labelsToRecord, sortLabels } from '@loki-lite/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../testing/property.js';
import type { LogSelectorExpr } from '../syntax/ast.js';
import { parseQuery } from '../syntax/parser.js';
import { ERROR_DETAILS_LABEL, ERROR_LABEL } from './labels-builder.js';
import { hintedKeyNames, keyMayBeNamed, sanitizeLabelKey } from './parsers.js';
import { compilePipeline } from './pipeline.js';

/*
 * The parsers' fast paths against their full form: with parser hints (the labels a query reads), `| json`
 * and `| logfmt` skip keys and values nobody reads, and must still give exactly the labels and errors the
 * full parse gives for those names. `| json` is also checked against a model of the object it parses.
 */

const STREAM = sortLabels(labelsFromRecord({ app: 'api', level: 'stream' }));

/** The labels `{app="api"} | <parser>` gives a line, with `hints` when given (stream labels left out). */
function labelsOf(parser: string, line: string, hints?: ReadonlySet<string>): Record<string, string> {
  const expr = parseQuery(`{app="api"} | ${parser}`) as LogSelectorExpr;
  const out = compilePipeline(expr.pipeline, hints).forStream(STREAM).process(line, 0n, [])!;
  const labels = labelsToRecord(out.labels);
  delete labels.app;
  if (labels.level === 'stream') delete labels.level;
  return labels;
}

/** The full parse's labels kept by `hints` (and the error labels, which hints never drop). */
function restricted(labels: Record<string, string>, hints: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([name]) => hints.has(name) || name === ERROR_LABEL || name === ERROR_DETAILS_LABEL));
}

// Characters that make parsing hard: quotes, backslashes, separators, spaces, non-ASCII, a surrogate pair,
// the replacement character, a lone surrogate.
const NASTY = [
  'a',
  'b',
  '1',
  '_',
  '.',
  '-',
  ' ',
  '!',
  '>',
  '"',
  '\\',
  '=',
  ':',
  ',',
  '{',
  '}',
  '[',
  ']',
  'é',
  '😀',
  '\n',
  '\t',
  '\x01',
  '\u00a0',
  '\x7f',
  '\ufffd',
  '\ud800',
];
const text = (maxLength: number) => fc.array(fc.constantFrom(...NASTY), { maxLength }).map((cs) => cs.join(''));
const plainKey = fc.constantFrom('a', 'b', 'a_b', 'level', 'latency_ms', 'http.status', '2xx', 'x y', ' a', 'é', 'a😀', '');
const key = fc.oneof({ weight: 4, arbitrary: plainKey }, { weight: 1, arbitrary: text(6) });

/** A JSON value as the model holds it: numbers as their text, as the parser gives them. */
type Model =
  | { kind: 'string'; value: string }
  | { kind: 'literal'; text: string }
  | { kind: 'null' }
  | { kind: 'array'; items: Model[] }
  | { kind: 'object'; fields: Array<[string, Model]> };

const model: fc.Arbitrary<Model> = fc.letrec<{ value: Model }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text(8).map((value): Model => ({ kind: 'string', value })),
    fc.constantFrom('0', '-1.5e3', '12', '3.25', 'true', 'false').map((t): Model => ({ kind: 'literal', text: t })),
    fc.constant<Model>({ kind: 'null' }),
    fc.array(tie('value'), { maxLength: 3 }).map((items): Model => ({ kind: 'array', items })),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((fields): Model => ({ kind: 'object', fields })),
  ),
})).value;
const object = fc.array(fc.tuple(key, model), { maxLength: 6 }).map((fields): Model => ({ kind: 'object', fields }));

/** JSON text of a model; `uEscape` writes non-ASCII characters as \u escapes. */
function serialize(m: Model, uEscape: boolean): string {
  const str = (s: string) => {
    const quoted = JSON.stringify(s);
    return uEscape ? quoted.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : quoted;
  };
  switch (m.kind) {
    case 'string':
      return str(m.value);
    case 'literal':
      return m.text;
    case 'null':
      return 'null';
    case 'array':
      return `[${m.items.map((i) => serialize(i, uEscape)).join(', ')}]`;
    case 'object':
      return `{${m.fields.map(([k, v]) => `${str(k)}: ${serialize(v, uEscape)}`).join(',')}}`;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The labels Loki's json parser makes of a model object: nested keys joined with `_`, last one wins. */
function expectedJson(m: Model & { kind: 'object' }): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (fields: Array<[string, Model]>, prefix: string) => {
    for (const [k, v] of fields) {
      const part = sanitizeLabelKey(k, prefix === '');
      const name = prefix === '' ? part : `${prefix}_${part}`;
      if (v.kind === 'object') walk(v.fields, name);
      else if ((v.kind === 'string' || v.kind === 'literal') && (prefix !== '' || name !== '')) {
        const value = v.kind === 'literal' ? v.text : v.value.includes('\ufffd') || LONE_SURROGATE.test(v.value) ? '' : v.value;
        out[name === 'level' || name === 'app' ? `${name}_extracted` : name] = value;
      }
    }
  };
  walk(m.fields, '');
  return out;
}

/** Hint sets: some of the names a line gives, names it does not, and often __error__ (as a filter adds it). */
function hintsFor(names: readonly string[]): fc.Arbitrary<Set<string>> {
  return fc
    .tuple(fc.subarray([...names]), fc.subarray(['a', 'a_b', 'level_extracted', 'latency_ms', 'x_y', '_2xx', 'http_status']), fc.boolean())
    .map(([some, others, error]) => new Set([...some, ...others, ...(error ? [ERROR_LABEL] : [])]));
}

describe('| json', () => {
  it("gives the model's labels for any object, keys and strings escaped or not", async () => {
    await checkProperty(
      fc.property(object, fc.boolean(), (m, uEscape) => {
        expect(labelsOf('json', serialize(m, uEscape))).toEqual(expectedJson(m as Model & { kind: 'object' }));
      }),
      { numRuns: 300 },
    );
  });

  it('gives with hints exactly the hinted labels and the errors of the full parse, on valid and broken lines', async () => {
    const line = fc.oneof(
      fc.tuple(object, fc.boolean()).map(([m, u]) => serialize(m, u)),
      // Broken: cut short, or with a character put in at a random place.
      fc.tuple(object, fc.nat(), fc.constantFrom(...NASTY, '')).map(([m, at, c]) => {
        const s = serialize(m, false);
        const i = at % (s.length + 1);
        return c === '' ? s.slice(0, i) : s.slice(0, i) + c + s.slice(i);
      }),
      text(30),
    );
    await checkProperty(
      fc.property(
        line.chain((l) => fc.tuple(fc.constant(l), hintsFor(Object.keys(labelsOf('json', l))))),
        ([l, hints]) => {
          const full = labelsOf('json', l);
          const hinted = labelsOf('json', l, hints);
          // As in Loki, a nested object no hint reaches into is skipped unread: an error inside it is not seen,
          // and the keys after it are read. Lines with a nested object that broke the full parse are left out.
          if (full[ERROR_LABEL] !== undefined && l.indexOf('{', l.indexOf('{') + 1) >= 0) return;
          expect(hinted).toEqual(restricted(full, hints));
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('| logfmt', () => {
  const pair = fc.tuple(
    fc.oneof(
      plainKey.filter((k) => !/[\s"=]/.test(k) && k !== ''),
      text(5),
    ),
    fc.oneof(text(6), fc.constantFrom('', '1.5', 'x')),
    fc.constantFrom('=', '="', ' ', '=""'),
  );
  const line = fc.array(pair, { maxLength: 6 }).map((pairs) =>
    pairs
      .map(([k, v, sep]) => {
        if (sep === '="') return `${k}=${JSON.stringify(v)}`;
        if (sep === ' ') return k;
        if (sep === '=""') return `${k}=`;
        return `${k}=${v}`;
      })
      .join(' '),
  );

  it('gives with hints (and __error__, so that the whole line is read) exactly the hinted labels and the errors of the full parse', async () => {
    // Without __error__ among the hints, scanning stops once every hinted label is found, as in Loki (a
    // later duplicate key or syntax error is not seen).
    const withError = (names: readonly string[]) => hintsFor(names).map((h) => h.add(ERROR_LABEL));
    await checkProperty(
      fc.property(
        line.chain((l) => fc.tuple(fc.constant(l), withError(Object.keys(labelsOf('logfmt', l))))),
        ([l, hints]) => {
          expect(labelsOf('logfmt', l, hints)).toEqual(restricted(labelsOf('logfmt', l), hints));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reads a key with non-ASCII characters as sanitizing names it (one _ per character)', () => {
    expect(labelsOf('logfmt', 'a😀=1 b=2', new Set(['a_']))).toEqual({ a_: '1' });
  });

  // The hinted scan tells most keys apart by their length alone, which holds only for ASCII keys: a key
  // of another length that sanitizing trims or shortens must still be named as the full parse names it.
  it.each([
    ["a sanitized key of the hinted name's length", 'grad.norm=1.5', 'grad_norm', { grad_norm: '1.5' }],
    ['a key with a leading digit, one shorter than its name', '2xx=3 other=1', '_2xx', { _2xx: '3' }],
    ['a key with DEL, which sanitizing makes _', 'grad\x7fnorm=1.5', 'grad_norm', { grad_norm: '1.5' }],
    ['a key that trimming a non-breaking space makes the hinted name (longer than it)', '\u00a0grad_norm=1.5', 'grad_norm', { grad_norm: '1.5' }],
    ['a key with a character outside the BMP (one _ for two UTF-16 units)', 'grad😀norm=1.5', 'grad_norm', { grad_norm: '1.5' }],
    [
      'a key with the replacement character (invalid UTF-8): a syntax error',
      'a=1 gr\ufffd=2 grad_norm=3',
      'grad_norm',
      { __error__: 'LogfmtParserErr', __error_details__: 'logfmt syntax error at pos 8 : invalid key' },
    ],
    ['non-ASCII values, the hinted one after them', 'msg="héllo wörld" ünï=ç grad_norm=1.5', 'grad_norm', { grad_norm: '1.5' }],
    ['a value with the replacement character, dropped', 'grad_norm=1\ufffd5', 'grad_norm', { grad_norm: '' }],
    [
      'a bad escape in a quoted value after the last hinted key',
      'grad_norm=1.5 msg="a\\qb"',
      'grad_norm',
      { grad_norm: '1.5', __error__: 'LogfmtParserErr', __error_details__: 'logfmt syntax error at pos 25 : invalid quoted value' },
    ],
  ])('with hints, reads %s as the full parse does', (_what, line, hint, expected) => {
    const hints = new Set([hint, ERROR_LABEL]);
    const full = labelsOf('logfmt', line);
    expect(labelsOf('logfmt', line, hints)).toEqual(expected);
    expect(restricted(full, hints)).toEqual(expected);
  });

  it("gives an unexpected character's position on every line, also on lines longer than the texts kept", () => {
    for (const pad of [0, 1, 0, 600, 600, 1]) {
      const line = `${'k'.repeat(pad)}a=1 b"`;
      const details = `logfmt syntax error at pos ${pad + 6} : unexpected '"'`;
      expect(labelsOf('logfmt', line)).toEqual({ [`${'k'.repeat(pad)}a`]: '1', __error__: 'LogfmtParserErr', __error_details__: details });
      expect(labelsOf('logfmt', `${line.slice(0, -2)}=b`)).toMatchObject({ __error_details__: `logfmt syntax error at pos ${pad + 5} : unexpected '='` });
    }
  });
});

describe('keyMayBeNamed', () => {
  it.each([
    ['http.status', ['http_status'], true],
    ['2xx', ['_2xx'], true],
    ['2xx', ['2xx'], false],
    ['level', hintedKeyNames(['level_extracted']), true],
    ['latency', ['latency_ms'], false],
    ['x y', ['z'], true], // a space: only sanitizing tells
  ] as const)('%s as %j: %s', (k, names, expected) => {
    expect(keyMayBeNamed(k, 0, k.length, names)).toBe(expected);
  });
});
