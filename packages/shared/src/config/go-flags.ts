/*
 * Command-line flags with Go's flag syntax, as Loki and Promtail take them: `-name=value`, `-name value`,
 * `--name=value`, and `-name` alone for booleans. Each program maps the names it knows.
 */

export class FlagError extends Error {
  override readonly name = 'FlagError';
}

/** Splits argv into [name, value] pairs; a boolean flag given alone has the value undefined. */
export function tokenizeGoFlags(argv: readonly string[], booleanFlags: ReadonlySet<string>): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    let value: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
    if (value === undefined && !booleanFlags.has(name)) {
      value = argv[++i];
      if (value === undefined) throw new FlagError(`flag needs an argument: -${name}`);
    }
    out.push([name, value]);
  }
  return out;
}

export function parseBoolFlag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new FlagError(`invalid boolean value ${JSON.stringify(value)} for -${name}`);
}

export function parsePortFlag(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new FlagError(`invalid value ${JSON.stringify(value)} for -${name}`);
  return n;
}

export function unknownFlag(name: string): FlagError {
  return new FlagError(`flag provided but not defined: -${name}`);
}

/** One flag a program takes: its name, how -help shows it, and how its value is applied. */
export interface FlagSpec<T> {
  readonly name: string;
  /** The value's type as -help names it; a bool flag may be given alone. */
  readonly type: 'bool' | 'string' | 'int';
  readonly usage: string;
  /** The default -help shows, when there is one worth showing. */
  readonly default?: string;
  apply(flags: T, value: string | undefined): void;
}

/** `-help`, `-h`: Go's flag package answers them with the usage, whatever the program defines. */
const HELP_FLAGS = new Set(['help', 'h']);

/**
 * Parses argv into `flags` by `specs`. Returns false when -help or -h was given (the caller prints
 * goUsage and exits 0, as Go programs do); throws FlagError for an unknown flag or a bad value.
 */
export function parseGoFlags<T>(argv: readonly string[], specs: readonly FlagSpec<T>[], flags: T): boolean {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const booleans = new Set([...HELP_FLAGS, ...specs.filter((s) => s.type === 'bool').map((s) => s.name)]);
  for (const [name, value] of tokenizeGoFlags(argv, booleans)) {
    if (HELP_FLAGS.has(name)) return false;
    const spec = byName.get(name);
    if (!spec) throw unknownFlag(name);
    spec.apply(flags, value);
  }
  return true;
}

/** The usage text Go's flag package prints: every flag, sorted by name, its type, usage and default. */
export function goUsage(program: string, specs: readonly FlagSpec<unknown>[]): string {
  const lines = [`Usage of ${program}:`];
  for (const s of [...specs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    lines.push(`  -${s.name}${s.type === 'bool' ? '' : ` ${s.type}`}`);
    lines.push(`    \t${s.usage}${s.default !== undefined ? ` (default ${s.type === 'string' ? JSON.stringify(s.default) : s.default})` : ''}`);
  }
  return lines.join('\n') + '\n';
}
