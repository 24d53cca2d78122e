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
  const test = (f: ReturnType<typeof filter>, line: string, hasMetadata = false) => {
    f!.reset();
    return f!.keeps(Buffer.from(`xx${line}yy`), 2, 2 + Buffer.byteLength(line), hasMetadata);
  };

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

  it('gives the same answers walking the lines of one buffer in order as testing each line alone', () => {
    // Lines from a tiny alphabet, so the needles occur often, at line edges, and across the bytes between lines.
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const words = ['GET', 'GE', 'health', 'status=5', '03', 'error', 'err', '\\', 'x', ' '];
    const queries = ['{a="b"} |= "GET" != "health" |~ "status=5.."', '{a="b"} | logfmt | level="error"', '{a="b"} != "err" != "x"'];
    for (const q of queries) {
      const f = filter(q)!;
      for (let round = 0; round < 50; round++) {
        const lines = Array.from({ length: 40 }, () => Array.from({ length: rand(6) }, () => words[rand(words.length)]).join(''));
        const separators = lines.map(() => words[rand(words.length)]!);
        const buf = Buffer.from(lines.map((l, i) => separators[i] + l).join(''));
        f.reset();
        let pos = 0;
        for (const [i, line] of lines.entries()) {
          const start = pos + Buffer.byteLength(separators[i]!);
          const end = start + Buffer.byteLength(line);
          const metadata = rand(5) === 0;
          expect(f.keeps(buf, start, end, metadata), `${q} on ${JSON.stringify(line)}`).toBe(test(filter(q), line, metadata));
          pos = end;
        }
      }
    }
  });
});

