import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The arrows of ARCHITECTURE.md, enforced: every module of src/ belongs to a layer, and may import only its
 * own module or modules of lower layers. Two modules on one layer (ingester and querier) do not import each
 * other: what they share lives lower. No file imports a file that imports it back, directly or around a
 * loop. Tests and testing/ may import anything; nothing else imports testing/.
 */

/** Layer of each module (a folder under src/, with its subfolders; two root files stand alone). Low to high. */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['util', 'metrics.ts'],
  // transport: gRPC between roles; it carries bytes and errors and knows no role (it may count in metrics.ts)
  ['labels', 'transport'],
  ['logql/syntax'],
  // config parses the selectors of limits_config.retention_stream as Loki validates them
  ['logql/log', 'config'],
  // ring is the lowest layer that may read config (Loki's ring and memberlist keys)
  ['chunk', 'logql/engine', 'index', 'ring'],
  ['iter'],
  ['storage'],
  ['limits', 'deletion'],
  // a shard of a query over chunks: the querier runs it over the store, the ingester over its memory
  ['shard'],
  ['ingester', 'querier'],
  ['distributor', 'frontend', 'compactor'],
  ['server'],
  ['modules'],
  ['main.ts'],
];

const SRC = path.dirname(fileURLToPath(import.meta.url));
const isTest = (file: string) => file.endsWith('.test.ts') || file.startsWith('testing/');

/** The module a file of src/ belongs to: the longest entry of LAYERS that contains it. */
function moduleOf(file: string): string | undefined {
  let best: string | undefined;
  for (const m of LAYERS.flat()) {
    if ((file === m || file.startsWith(`${m}/`)) && (best === undefined || m.length > best.length)) best = m;
  }
  return best;
}

const layerOf = (module: string) => LAYERS.findIndex((layer) => layer.includes(module));

function sourceFiles(dir = ''): string[] {
  return readdirSync(path.join(SRC, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*'(\.{1,2}\/[^']+)'|\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

/** The files of src/ that `file` imports (relative imports; `.js` names the `.ts` it was built from). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1] ?? m[2]!)).replace(/\.js$/, '.ts');
    if (!target.startsWith('..')) out.push(target);
  }
  return out;
}

const files = sourceFiles();
const graph = new Map(files.map((f) => [f, importsOf(f)] as const));

describe('layering (ARCHITECTURE.md)', () => {
  it('every source file belongs to a module of the layer table', () => {
    expect(files.filter((f) => !isTest(f) && moduleOf(f) === undefined)).toEqual([]);
  });

  it('imports point down the layers, never up or sideways, and never into testing/', () => {
    const wrong: string[] = [];
    for (const [file, imports] of graph) {
      if (isTest(file)) continue;
      const from = moduleOf(file)!;
      for (const target of imports) {
        const to = moduleOf(target);
        if (target.startsWith('testing/')) wrong.push(`${file} imports ${target}: only tests use testing/`);
        else if (to === undefined || to === from) continue;
        else if (layerOf(to) >= layerOf(from))
          wrong.push(`${file} imports ${target}: ${from} (layer ${layerOf(from)}) may not import ${to} (layer ${layerOf(to)})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no file imports itself around a loop', () => {
    const loops: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (isTest(next) || !graph.has(next)) continue;
        if (state.get(next) === 'open') loops.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!isTest(file) && !state.has(file)) visit(file);
    expect(loops).toEqual([]);
  });
});
