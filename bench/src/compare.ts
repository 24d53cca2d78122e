import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.js';
import { median, printResult } from './report.js';

/*
 * Compares two systems with one tool, in alternation (A, B, A, B, ...), and prints each figure's median for
 * both and the ratio B/A, so a comparison holds on a noisy, shared machine where the speed drifts within
 * minutes. A side is one of:
 *   - a URL: the tool runs against it (`--url`);
 *   - a checkout of this repository (a folder with bench/dist/): that checkout's own tool runs, starting
 *     that checkout's loki-lite, so two builds are compared;
 *   - `--a-cmd`/`--b-cmd` with a URL: the command (a server) is started before each run, the tool is aimed
 *     at the URL with `--pid` of the command, and the server is stopped after the run.
 * Flags after `--` go to the tool on both sides.
 *
 *   pnpm bench compare --tool ingest --a ../main-before --b . --rounds 5 -- --streams 200 --mb 200
 *   pnpm bench compare --tool query --a http://loki:3100 --b http://loki-lite:3100 -- --queries q.logql
 */

const separator = process.argv.indexOf('--', 2);
const own = process.argv.slice(2, separator < 0 ? undefined : separator);
const toolArgs = separator < 0 ? [] : process.argv.slice(separator + 1);
const args = parseArgs(own, { tool: '', a: '', b: '', 'a-cmd': '', 'b-cmd': '', rounds: '3', json: '' });
const TOOLS_WITH_URL = ['ingest', 'query', 'agent'];

interface Side {
  readonly name: 'a' | 'b';
  readonly target: string;
  readonly command: string;
}

function checkTool(): string {
  if (!TOOLS_WITH_URL.includes(args.tool)) throw new Error(`--tool must be one of ${TOOLS_WITH_URL.join(', ')}, not "${args.tool}"`);
  for (const side of ['a', 'b'] as const) if (!args[side]) throw new Error(`--${side} is missing: a URL or a checkout folder`);
  const rounds = Number(args.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number of at least 1, not "${args.rounds}"`);
  return args.tool;
}

const isUrl = (s: string) => /^https?:\/\//.test(s);

/** The tool's script and arguments for one run of a side; with a command, the server is started first. */
function toolInvocation(side: Side, tool: string, serverPid: number | undefined): { script: string; argv: string[] } {
  const json = ['--json'];
  if (isUrl(side.target)) {
    const script = fileURLToPath(new URL(`./${tool}.js`, import.meta.url));
    return { script, argv: ['--url', side.target, ...(serverPid ? ['--pid', String(serverPid)] : []), ...json, ...toolArgs] };
  }
  const script = path.resolve(side.target, 'bench', 'dist', `${tool}.js`);
  if (!existsSync(script))
    throw new Error(`--${side.name} ${side.target}: no ${path.relative(side.target, script)} there (build that checkout first, or give a URL)`);
  return { script, argv: [...json, ...toolArgs] };
}

function runNode(script: string, argv: readonly string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (status) => {
      if (status !== 0) return reject(new Error(`${path.basename(script)} failed (exit ${status}): ${errorLine(err)}`));
      try {
        resolve(JSON.parse(out) as Record<string, unknown>);
      } catch {
        reject(new Error(`${path.basename(script)} printed no JSON result: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** The error a tool died of: its `bench:` line, or the message of the exception Node printed, else its last line. */
function errorLine(stderr: string): string {
  return /^(?:bench: |\w*Error: )(.+)$/m.exec(stderr)?.[1] ?? stderr.trim().split('\n').pop() ?? '';
}

async function startServer(side: Side): Promise<ChildProcess> {
  // `exec`: the shell becomes the server, so the pid handed to the tool (--pid) is the server's own.
  const child = spawn('/bin/sh', ['-c', `exec ${side.command}`], { stdio: 'ignore', detached: true });
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`--${side.name}-cmd exited with ${child.exitCode} before ${side.target}/ready answered`);
    try {
      if ((await fetch(`${side.target}/ready`)).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopServer(child);
  throw new Error(`--${side.name}-cmd: ${side.target}/ready did not answer 200 within 30 s`);
}

/** Kills the server (its process group: anything it started too) and waits until it is gone, port and all. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid, 'SIGKILL');
  await exited;
}

/**
 * Numeric figures of a result, nested records named by their `query` field (or their position) and, where
 * they have one, their `phase` (`bench query` runs each query on data in memory and after a flush).
 */
export function figures(result: Record<string, unknown>, prefix = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(result)) {
    if (typeof v === 'number') out.set(`${prefix}${k}`, v);
    else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (typeof item !== 'object' || item === null) return;
        const rec = item as Record<string, unknown>;
        const name = typeof rec.query === 'string' ? rec.query : `${k}[${i}]`;
        const phase = typeof rec.phase === 'string' ? ` (${rec.phase})` : '';
        for (const [fk, fv] of figures(rec, `${prefix}${name}${phase}: `)) out.set(fk, fv);
      });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const tool = checkTool();
  const sides: Side[] = (['a', 'b'] as const).map((name) => ({ name, target: args[name].replace(/\/$/, ''), command: args[`${name}-cmd`] }));
  for (const s of sides) if (s.command && !isUrl(s.target)) throw new Error(`--${s.name}-cmd needs --${s.name} to be the URL the server answers on`);
  const samples = { a: new Map<string, number[]>(), b: new Map<string, number[]>() };
  const order: string[] = [];
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const side of sides) {
      process.stderr.write(`round ${round + 1}, ${side.name}: ${side.target}\n`);
      const server = side.command ? await startServer(side) : undefined;
      try {
        const { script, argv } = toolInvocation(side, tool, server?.pid);
        for (const [k, v] of figures(await runNode(script, argv))) {
          const list = samples[side.name].get(k) ?? [];
          list.push(v);
          samples[side.name].set(k, list);
        }
      } finally {
        if (server) await stopServer(server);
      }
      order.push(side.name);
    }
  }
  const rows: Array<Record<string, string | number>> = [];
  for (const [k, aValues] of samples.a) {
    const bValues = samples.b.get(k);
    if (!bValues) continue;
    const a = median(aValues);
    const b = median(bValues);
    rows.push({
      figure: k,
      'a median': Number(a.toPrecision(4)),
      'b median': Number(b.toPrecision(4)),
      'b / a': a === 0 ? 'n/a' : Number((b / a).toFixed(3)),
      'a runs': aValues.join(' '),
      'b runs': bValues.join(' '),
    });
  }
  const result = { tool, a: sides[0]!.target, b: sides[1]!.target, order: order.join(' '), figures: rows };
  if (args.json === 'true') printResult(result, true);
  else printTable(result);
}

/** The comparison as a reader wants it: one row per figure, the medians side by side. */
function printTable(r: { tool: string; a: string; b: string; order: string; figures: Array<Record<string, string | number>> }): void {
  console.log(`${r.tool}: a = ${r.a}, b = ${r.b}, runs in the order ${r.order}`);
  const cells = [['figure', 'a median', 'b median', 'b / a'], ...r.figures.map((f) => [f.figure, f['a median'], f['b median'], f['b / a']].map(String))];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  for (const row of cells) console.log(row.map((cell, c) => (c === 0 ? cell!.padEnd(widths[c]!) : cell!.padStart(widths[c]!))).join('  '));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
