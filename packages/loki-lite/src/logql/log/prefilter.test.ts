import { describe, expect, it } from 'vitest';
import { parseQuery } from '../syntax/parser.js';
import type { LogSelectorExpr } from '../syntax/ast.js';
import { compileGoRegex } from '@loki-lite/shared';
import { compileBytePrefilter, requiredLiterals } from './prefilter.js';

describe('requiredLiterals', () => {
  it.each<[string, string[] | undefined, boolean?]>([
    ['err(or)?.*timeout', ['timeout']],
    ['level=error', ['level=error']],
    ['abc?def', ['def']], // c is optional
    ['ab+cd', ['ab']],
    ['[0-9]+ms took', ['ms took']],
    ['x.y', undefined], // no run of two
    ['grad_norm=0\\.99[0-9] tokens', ['grad_norm=0.99']], // escaped punctuation is a literal
    ['a\\.?bc', ['bc']], // the escaped dot is optional
    ['timeout|refused', ['timeout', 'refused']], // any of them
    ['level":"warn|" 500 ', ['level":"warn', '" 500 ']],
    ['(rank=|Rank )[0-9]+', undefined], // inside a group
    ['ab|c', undefined], // an alternative without a literal of two
    ['(?i)NCCL info', ['nccl info'], true],
    ['(?i)tokens', ['to'], true], // k and s may match non-ASCII letters: they break the run
    ['(?i)café au', ['caf'], true],
    ['ab(?i)cdef', undefined], // flags later on
    ['\\d+ errors', [' errors']],
    ['\\x41bc', undefined], // an escape not read here
    ['x{10,20}y', undefined], // the repetition's digits are no literal
    ['[\\]abc]def', ['def']], // an escaped ] inside a class
    ['[[:alpha:]xy]zz', ['zz']],
    ['\\p{Greek}+ab', ['ab']],
  ])('%s -> %j', (re, anyOf, caseless = false) => {
    expect(requiredLiterals(re)).toEqual(anyOf && { anyOf, caseless });
  });

  it('never gives a literal that a match can do without (random regexes over a small alphabet)', () => {
    let seed = 11;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const parts = ['a', 'b', 'K', 'k', 's', '\\.', '.', 'ab', 'ba', '?', '*', '+', '|', '(a|b)', '[ab]', '[^a]', '\\d', '{0,2}', '{2}', 'é', '(?:ab)?'];
    const texts = Array.from({ length: 300 }, () => Array.from({ length: rand(12) }, () => ['a', 'b', 'A', 'B', '.', 'k', 'K', '\u212a', 's', '\u017f', 'é', 'É', '1', ' '][rand(14)]).join(''));
    for (let n = 0; n < 400; n++) {
      const re = (rand(3) === 0 ? '(?i)' : '') + Array.from({ length: 1 + rand(6) }, () => parts[rand(parts.length)]).join('');
      let compiled: RegExp;
      try {
        compiled = compileGoRegex(re, false);
      } catch {
        continue;
      }
      const f = compileBytePrefilter((parseQuery(`{a="b"} |~ ${JSON.stringify(re)}`) as LogSelectorExpr).pipeline);
      if (!f) continue;
      for (const t of texts) {
        if (!compiled.test(t)) continue;
        f.reset();
        const buf = Buffer.from(t);
        expect(f.keeps(buf, 0, buf.length, false), `${re} on ${JSON.stringify(t)}`).toBe(true);
      }
    }
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

  it('needs any of the literals of an or, or of a regex alternation; a caseless regex literal in any case', () => {
    const either = filter('{a="b"} |= "timeout" or "refused"');
    expect(test(either, 'connection refused')).toBe(true);
    expect(test(either, 'read timeout')).toBe(true);
    expect(test(either, 'ok')).toBe(false);
    const alternation = filter('{a="b"} |~ "time(out)?s|refused" or "gone.*away"');
    expect(test(alternation, 'x refused')).toBe(true);
    expect(test(alternation, 'is gone, far away')).toBe(true);
    expect(test(alternation, 'times up')).toBe(true); // "time" is one of the literals (the group is skipped)
    expect(test(alternation, 'tim refuse gon awa')).toBe(false);
    expect(test(alternation, 'ok')).toBe(false);
    const notEither = filter('{a="b"} != "debug" or "trace"');
    expect(test(notEither, 'a trace line')).toBe(false);
    expect(test(notEither, 'an info line')).toBe(true);
    const caseless = filter('{a="b"} |~ "(?i)nccl warn"');
    expect(test(caseless, 'NCCL WARN x')).toBe(true);
    expect(test(caseless, 'xx nCcL wArN')).toBe(true);
    expect(test(caseless, 'NCCL INFO')).toBe(false);
    expect(test(caseless, 'NCC')).toBe(false);
  });

  it('gives nothing for filters it cannot be sure of, or after a stage that rewrites the line', () => {
    expect(filter('{a="b"} |= "x" or ""')).toBeUndefined();
    expect(filter('{a="b"} |~ "a|b"')).toBeUndefined();
    expect(filter('{a="b"} |~ "ab|c"')).toBeUndefined();
    expect(filter('{a="b"} |~ "(?i)xy" or "a"')).toBeUndefined();
    expect(filter('{a="b"} | line_format "{{.x}}" |= "x"')).toBeUndefined();
    expect(filter('{a="b"} | json')).toBeUndefined();
  });

  it('gives the same answers walking the lines of one buffer in order as testing each line alone', () => {
    // Lines from a tiny alphabet, so the needles occur often, at line edges, and across the bytes between lines.
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const words = ['GET', 'GE', 'health', 'status=5', '03', 'error', 'err', '\\', 'x', ' '];
    const queries = [
      '{a="b"} |= "GET" != "health" |~ "status=5.."', '{a="b"} | logfmt | level="error"', '{a="b"} != "err" != "x"',
      '{a="b"} |~ "(?i)error|HEALTH"', '{a="b"} |= "GE" or "03"',
    ];
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

