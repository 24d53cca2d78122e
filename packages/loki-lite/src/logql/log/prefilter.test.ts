import { describe, expect, it } from 'vitest';
import { parseQuery } from '../syntax/parser.js';
import type { LogSelectorExpr } from '../syntax/ast.js';
import { compileBytePrefilter, requiredLiteral } from './prefilter.js';

describe('requiredLiteral', () => {
  it.each([
    ['err(or)?.*timeout', 'timeout'],
    ['level=error', 'level=error'],
    ['abc?def', 'def'], // c is optional
    ['ab+cd', 'ab'],
    ['[0-9]+ms took', 'ms took'],
    ['x.y', undefined], // no run of two
    ['a|b', undefined],
    ['(?i)error', undefined],
    ['\\d+ errors', undefined],
  ])('%s -> %s', (re, want) => {
    expect(requiredLiteral(re)).toBe(want);
  });
});

describe('compileBytePrefilter', () => {
  const filter = (q: string, streamLabels: string[] = []) => compileBytePrefilter((parseQuery(q) as LogSelectorExpr).pipeline, new Set(streamLabels));
  const test = (f: ReturnType<typeof filter>, line: string, hasMetadata = false) => f!(Buffer.from(`xx${line}yy`), 2, 2 + Buffer.byteLength(line), hasMetadata);

  it('requires |= and regex literals, refuses != literals, only on the line\'s own bytes', () => {
    const f = filter('{a="b"} |= "GET" != "health" |~ "status=5.." | logfmt');
    expect(test(f, 'GET /x status=503')).toBe(true);
    expect(test(f, 'GET /health status=503')).toBe(false);
    expect(test(f, 'POST /x status=503')).toBe(false);
    expect(test(f, 'GET /x stat=503')).toBe(false);
    expect(test(filter('{a="b"} |= "é"'), 'café')).toBe(true);
  });

  it('after a parser, needs the value of a required equality, unless it may come from elsewhere', () => {
    const f = filter('{a="b"} | logfmt | level="error" | n > 5');
    expect(test(f, 'level=info n=9')).toBe(false);
    expect(test(f, 'level=error n=9')).toBe(true);
    expect(test(f, 'level="\\u0065rror" n=9')).toBe(true); // an escape could spell it
    expect(test(f, 'level=info n=9', true)).toBe(true); // structured metadata could hold it
    expect(filter('{a="b"} | logfmt | level="error"', ['level'])).toBeUndefined(); // the stream's own label
    expect(filter('{a="b"} | logfmt | level="error" or x="y"')).toBeUndefined();
    expect(filter('{a="b"} | level="error" | logfmt')).toBeUndefined(); // before any parser
    expect(filter('{a="b"} | logfmt | label_format level="{{.x}}" | level="error"')).toBeUndefined();
  });

  it('gives nothing for filters it cannot be sure of, or after a stage that rewrites the line', () => {
    expect(filter('{a="b"} |= "x" or "y"')).toBeUndefined();
    expect(filter('{a="b"} |~ "a|b"')).toBeUndefined();
    expect(filter('{a="b"} | line_format "{{.x}}" |= "x"')).toBeUndefined();
    expect(filter('{a="b"} | json')).toBeUndefined();
  });
});
