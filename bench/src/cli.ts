import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/*
 * `pnpm bench <tool> [flags]`: one entry point for the bench tools. Each tool is its own module that reads
 * its flags from process.argv and runs when imported; this picks it, hands it the rest of the arguments,
 * and turns a failure into one clear line (and exit status 1) instead of a stack trace.
 */

export const TOOLS: Readonly<Record<string, string>> = {
  ingest: 'protobuf+snappy pushes to a Loki-compatible endpoint (or a loki-lite it starts): lines/s, MB/s, server CPU and RSS',
  query: "LogQL scan rate: loads lines (or uses --url as it is) and reports GB/s from the answers' stats",
  agent: 'CRI lines in a pods folder shipped by the agent: time until all are acknowledged, agent CPU and RSS',
  'push-decode': 'micro benchmark: the push body decoder against protobufjs',
  snappy: 'micro benchmark: our snappy codec against snappyjs on chunk blocks',
  micro: 'micro benchmarks of the hot paths: push decode, validation, chunk append, block scan, logfmt, json, regex filters, CRI decode',
  'regex-engines': "micro benchmark: user-regex engines on the bench's lines (loki-lite's, V8's linear engine; re2, re2-wasm, re2js if --modules has them)",
  compactor: 'one day at 96 index files against compacted (query latency), compaction s per index MB, retention sweep s per 10,000 chunks',
  transport: 'push replication to 3 peers over gRPC (loki-lite transport) against plain HTTP/2 and HTTP/1.1 keep-alive: MB/s, client and peer CPU-s per 100 MB',
  compare: 'one of ingest, query or agent against two systems in alternation (A B A B): medians and B/A per figure',
};

export function usage(): string {
  const width = Math.max(...Object.keys(TOOLS).map((t) => t.length));
  return `usage: pnpm bench <tool> [--flag value ...]\ntools:\n${Object.entries(TOOLS)
    .map(([t, what]) => `  ${t.padEnd(width)}  ${what}`)
    .join('\n')}`;
}

/** The tool named first (after pnpm's `--`, if any) and the arguments that are its own. */
export function pickTool(argv: readonly string[]): { tool: string; args: string[] } {
  const rest = argv[0] === '--' ? argv.slice(1) : [...argv];
  const tool = rest.shift();
  if (tool === undefined || tool === '--help' || tool === '-h') throw new Error(usage());
  if (!Object.hasOwn(TOOLS, tool)) throw new Error(`unknown tool "${tool}"\n${usage()}`);
  return { tool, args: rest };
}

async function main(): Promise<void> {
  const { tool, args } = pickTool(process.argv.slice(2));
  process.argv = [process.argv[0]!, fileURLToPath(new URL(`./${tool}.js`, import.meta.url)), ...args];
  await import(`./${tool}.js`);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: Error) => {
    console.error(`bench: ${e.message}`);
    process.exit(1);
  });
}
