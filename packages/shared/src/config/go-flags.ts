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
