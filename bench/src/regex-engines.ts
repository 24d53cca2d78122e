import { createRequire } from 'node:module';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { compileGoRegex } from '@loki-lite/shared';
import { Bench } from 'tinybench';
import { parseArgs } from './args.js';
import { LineGenerator } from './loglines.js';
import { printResult } from './report.js';

/*
 * The regex engines loki-lite could run user regexes on, side by side on the bench's lines: `.test()` of each
 * line, MB/s of line bytes. `loki-lite` is compileGoRegex (V8's backtracking engine, linear engine as the
 * fallback); `v8-linear` is V8's linear engine alone (the `l` flag); `re2` (native bindings), `re2-wasm` and
 * `re2js` run when installed in the node_modules folder `--modules` names (they are not dependencies:
 * `npm install --prefix /tmp/engines re2 re2-wasm re2js`). The counts of matching lines must agree.
 *
 *   pnpm bench regex-engines --modules /tmp/engines/node_modules
 */
// For the `l` flag of `v8-linear` (loki-lite sets it too; a checkout from before it did not).
setFlagsFromString('--enable-experimental-regexp-engine');

const args = parseArgs(process.argv.slice(2), { modules: '', time: '500', json: '' });

const PATTERNS = [
  'err(or)?.*timeout',
  'level=.*msg="x',
  'level":"warn|" 500 ',
  'loss=1\\.[0-7]',
  '(?i)nccl info',
  '(rank=|Rank )[0-9]+',
  'rank=(?P<rank>\\d+) step',
];

const gen = new LineGenerator(5);
const t0 = Date.UTC(2026, 11, 1);
const lines = Array.from({ length: 1000 }, (_, i) => gen.line(i, new Date(t0 + i).toISOString()));
const lineBytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);

type Tester = (line: string) => boolean;
type Engine = (goPattern: string) => Tester | undefined;

/** A JavaScript regex source for the engines that take JavaScript syntax: Go's (?P<name>) is (?<name>). */
const jsSyntax = (p: string) => p.replace('(?P<', '(?<');

function optional(name: string): any {
  if (!args.modules) return undefined;
  try {
    return createRequire(path.join(path.resolve(args.modules), 'index.js'))(name);
  } catch {
    return undefined;
  }
}

const re2 = optional('re2');
const re2wasm = optional('re2-wasm');
const re2js = optional('re2js');

const engines: Record<string, Engine> = {
  'loki-lite': (p) => {
    const re = compileGoRegex(p, false);
    return (l) => re.test(l);
  },
  'v8-linear': (p) => {
    // No `i` flag in the linear engine: the case-insensitive pattern is left out here.
    if (p.startsWith('(?i)')) return undefined;
    const re = new RegExp(jsSyntax(p), 'l');
    return (l) => re.test(l);
  },
  ...(re2 && {
    re2: (p: string) => {
      const re = new re2(jsSyntax(p.replace('(?i)', '')), p.startsWith('(?i)') ? 'i' : '');
      return (l: string) => re.test(l);
    },
  }),
  ...(re2wasm && {
    're2-wasm': (p: string) => {
      const re = new re2wasm.RE2(p.replace('(?i)', ''), p.startsWith('(?i)') ? 'iu' : 'u');
      return (l: string) => re.test(l);
    },
  }),
  ...(re2js && {
    re2js: (p: string) => {
      const re = re2js.RE2JS.compile(p);
      return (l: string) => re.test(l);
    },
  }),
};

const bench = new Bench({ time: Number(args.time), warmupTime: 100 });
const cases: Array<{ pattern: string; engine: string; matched: number }> = [];
for (const pattern of PATTERNS) {
  for (const [engine, make] of Object.entries(engines)) {
    const test = make(pattern);
    if (!test) continue;
    cases.push({ pattern, engine, matched: lines.filter(test).length });
    bench.add(`${engine} ${pattern}`, () => {
      for (const l of lines) test(l);
    });
  }
}
const disagreeing = cases.filter((c) => c.matched !== cases.find((o) => o.pattern === c.pattern)!.matched);
if (disagreeing.length > 0) throw new Error(`engines disagree on the matching lines: ${JSON.stringify(disagreeing)}`);
await bench.run();
const results = cases.map((c, i) => {
  const r = bench.tasks[i]!.result;
  if (!r || r.state !== 'completed') throw new Error(`${c.engine} ${c.pattern}: ${r?.state ?? 'no result'}`);
  return {
    engine: c.engine,
    pattern: c.pattern,
    'lines matched': `${c.matched} of ${lines.length}`,
    'MB/s': Number(((r.throughput.mean * lineBytes) / 1e6).toFixed(1)),
  };
});
printResult({ results }, args.json === 'true');
