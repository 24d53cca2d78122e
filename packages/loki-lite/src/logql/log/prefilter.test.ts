import { describe, expect, it } from 'vitest';
import { parseQuery } from '../syntax/parser.js';
import type { LogSelectorExpr } from '../syntax/ast.js';
import { compileGoRegex } from '@loki-lite/shared';
import { compileBytePrefilter } from './prefilter.js';
import { compilePipeline } from './pipeline.js';

describe('regex literals in the prefilter', () => {
  it('never gives a literal that a match can do without (random regexes over a small alphabet)', () => {
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    const parts = [
      'a',
      'b',
      'K',
      'k',
      's',
      '\\.',
      '.',
      'ab',
      'ba',
      '?',
      '*',
      '+',
      '|',
      '(a|b)',
      '[ab]',
      '[^a]',
      '\\d',
      '{0,2}',
      '{2}',
      'é',
      '(?:ab)?',
      // groups, flags in and out of groups, one-character classes, escapes, counted and nested repetitions, assertions
      '(ab|ba)',
      '(?:a|ab)+',
      '(?i)',
      '(?-i)',
      '(?i:ab)',
      '(?i:k)',
      '[aA]',
      '[k]',
      '[.]',
      '\\x41',
      '\\Qa.\\E',
      '(ab){2}',
      '{2,}',
      '{1,3}',
      '\\b',
      '^',
      '$',
      '(?:ba|b)',
      '(?:)',
    ];
    const letters = ['a', 'b', 'A', 'B', '.', 'k', 'K', '\u212a', 's', '\u017f', 'é', 'É', '1', ' ', 'ab', 'ba', 'AB', '\ufffd'];
    const texts = Array.from({ length: 300 }, () => Array.from({ length: rand(12) }, () => letters[rand(letters.length)]).join(''));
    let filtered = 0;
    let rejected = 0;
    for (let n = 0; n < 600; n++) {
      const re = (rand(3) === 0 ? '(?i)' : '') + Array.from({ length: 1 + rand(6) }, () => parts[rand(parts.length)]).join('');
      let compiled: RegExp;
      try {
        compiled = compileGoRegex(re, false);
      } catch {
        continue;
      }
      const f = compileBytePrefilter((parseQuery(`{a="b"} |~ ${JSON.stringify(re)}`) as LogSelectorExpr).pipeline);
      if (!f) continue;
      filtered++;
      for (const t of texts) {
        f.reset();
        const buf = Buffer.from(t);
        const keeps = f.keeps(buf, 0, buf.length, false);
        if (compiled.test(t)) expect(keeps, `${re} on ${JSON.stringify(t)}`).toBe(true);
        else if (!keeps) rejected++;
      }
    }
    // The check above holds for a prefilter that keeps everything: these say it also rejects lines.
    expect(filtered).toBeGreaterThan(150);
    expect(rejected).toBeGreaterThan(10_000);
  });

  it('searches the literals of groups, alternations in groups, repetitions and flags that change inside', () => {
    const keeps = (re: string, line: string) => {
      const f = compileBytePrefilter((parseQuery(`{a="b"} |~ ${JSON.stringify(re)}`) as LogSelectorExpr).pipeline)!;
      const buf = Buffer.from(line);
      return f.keeps(buf, 0, buf.length, false);
    };
    expect(keeps('(rank=|Rank )[0-9]+', 'Rank 3')).toBe(true);
    expect(keeps('(rank=|Rank )[0-9]+', 'rank 3')).toBe(false);
    expect(keeps('(?i:ab)é', 'xAbé')).toBe(true);
    expect(keeps('(?i:ab)é', 'xAbÉ')).toBe(false); // é is exact, so its bytes are compared as they are
    expect(keeps('(?:abc)+d', 'abcabcd')).toBe(true);
    expect(keeps('(?:abc)+d', 'abc d')).toBe(false);
    expect(keeps('ab(?i)cd', 'xABCD')).toBe(true); // searched caselessly as a whole: a superset
    expect(keeps('ab(?i)cd', 'xAB CD')).toBe(false);
  });
});

describe('compileBytePrefilter', () => {
  const filter = (q: string, streamLabels: string[] = []) => compileBytePrefilter((parseQuery(q) as LogSelectorExpr).pipeline, new Set(streamLabels));
  const test = (f: ReturnType<typeof filter>, line: string, hasMetadata = false) => {
    f!.reset();
    return f!.keeps(Buffer.from(`xx${line}yy`), 2, 2 + Buffer.byteLength(line), hasMetadata);
  };

  it("requires |= and regex literals, refuses != literals, only on the line's own bytes", () => {
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

  it('after a parser and `__error__=""`, needs the letters and digits of a typed comparison\'s label name', () => {
    const f = filter('{a="b"} | logfmt | __error__="" | grad_norm > 1.4');
    expect(test(f, 'loss=1 grad_norm=2')).toBe(true);
    expect(test(f, 'NCCL INFO [Rank 3] Channel 1/32')).toBe(false);
    expect(test(f, 'loss=1 grad.norm=2')).toBe(true); // sanitized to grad_norm
    expect(test(f, 'loss=1 grad=2')).toBe(false);
    expect(test(f, 'loss=1', true)).toBe(true); // structured metadata could hold it
    const json = filter('{a="b"} | json | __error__="" | latency_ms > 960');
    expect(test(json, '{"latency":{"ms":990}}')).toBe(true); // nested keys joined with _
    expect(test(json, '{"l\\u0061tency_ms":990}')).toBe(true); // an escape could spell the key
    expect(test(json, '{"shard":12}')).toBe(false);
    const extracted = filter('{a="b"} | logfmt | __error__="" | pod_extracted > 1');
    expect(test(extracted, 'pod=3')).toBe(true); // a key clashing with the stream label `pod`
    expect(test(extracted, 'step=3')).toBe(false);
    // Only the first typed filter after `__error__=""`: the first may set an error, which lets any line past the second.
    const two = filter('{a="b"} | logfmt | __error__="" | a > 1 | b > 2');
    expect(test(two, 'b=3')).toBe(false);
    expect(test(two, 'a=x c=1')).toBe(true);
    expect(filter('{a="b"} | logfmt | grad_norm > 1.4')).toBeUndefined(); // a line with a parse error passes it
    expect(filter('{a="b"} | logfmt | __error__="" | grad_norm > 1.4', ['grad_norm'])).toBeUndefined();
    expect(filter('{a="b"} | __error__="" | logfmt | grad_norm > 1.4')).toBeUndefined();
    expect(filter('{a="b"} | regexp "(?P<n>[0-9]+)" | __error__="" | n > 1')).toBeUndefined(); // named by the pattern
    expect(filter('{a="b"} | logfmt n="other" | __error__="" | n > 1')).toBeUndefined(); // named by the parameter
    expect(filter('{a="b"} | logfmt | __error__="" | n > 1 or m > 1')).toBeUndefined();
  });

  it('never rules out a line the pipeline keeps after a parser (random lines, typed and string label filters)', () => {
    let seed = 5;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n; // the high bits: an LCG's low bits repeat
    const logfmtWords = [
      'grad_norm=',
      'grad.norm=',
      'grad=',
      'norm=',
      'n=',
      'x=',
      '2',
      '0.5',
      'abc',
      '"1\\"',
      '"',
      ' ',
      ' ',
      '=',
      'é',
      'level=error',
      'dur=5ms',
      'ip=10.0.0.1',
    ];
    const jsonLines = [
      '{"latency_ms":990}',
      '{"latency":{"ms":990}}',
      '{"l\\u0061tency_ms":990}',
      '{"latency_ms":"x"}',
      '{"shard":1}',
      '{',
      '{"n":2,"grad_norm":3}',
      'not json',
    ];
    const queries = [
      '{a="b"} | logfmt | __error__="" | grad_norm > 1',
      '{a="b"} | logfmt | __error__="" | n >= 1 | x < 5',
      '{a="b"} | logfmt | __error__="" | dur > 1ms',
      '{a="b"} | logfmt | __error__="" | ip = ip("10.0.0.0/8")',
      '{a="b"} | logfmt | drop x | __error__="" | grad_norm != 2',
      '{a="b"} | json | __error__="" | latency_ms > 900',
      '{a="b"} | json | __error__="" | grad_norm > 1 | n > 1',
      '{a="b"} | logfmt | level="error" | __error__="" | n > 1',
      // none to be had: a line with a parse error passes the comparison
      '{a="b"} | logfmt | grad_norm > 1',
      '{a="b"} | json | latency_ms > 900',
    ];
    let rejected = 0;
    for (const q of queries) {
      const stages = (parseQuery(q) as LogSelectorExpr).pipeline;
      const f = compileBytePrefilter(stages);
      const pipeline = compilePipeline(stages).forStream([{ name: 'a', value: 'b' }]);
      for (let n = 0; n < 400; n++) {
        const line = q.includes('json')
          ? jsonLines[rand(jsonLines.length)]!
          : Array.from({ length: rand(8) }, () => logfmtWords[rand(logfmtWords.length)]).join('');
        const kept = pipeline.run(line, 0n, []) !== undefined;
        const keeps = f === undefined || test(f, line);
        if (kept) expect(keeps, `${q} on ${JSON.stringify(line)}`).toBe(true);
        else if (!keeps) rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(500);
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
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    const words = ['GET', 'GE', 'health', 'status=5', '03', 'error', 'err', '\\', 'x', ' '];
    const queries = [
      '{a="b"} |= "GET" != "health" |~ "status=5.."',
      '{a="b"} | logfmt | level="error"',
      '{a="b"} != "err" != "x"',
      '{a="b"} |~ "(?i)error|HEALTH"',
      '{a="b"} |= "GE" or "03"',
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
