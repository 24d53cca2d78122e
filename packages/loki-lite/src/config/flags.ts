/**
 * Command-line flags with Go's flag syntax, as Loki takes them: `-name=value`, `-name value`, `--name=value`,
 * and `-name` alone for booleans.
 */
export interface Flags {
  configFile?: string;
  expandEnv: boolean;
  target?: string;
  httpListenPort?: number;
  httpListenAddress?: string;
  logLevel?: string;
  printConfig: boolean;
}

const BOOLEAN_FLAGS = new Set(['config.expand-env', 'print-config-stderr', 'help', 'h']);

export class FlagError extends Error {
  override readonly name = 'FlagError';
}

export function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { expandEnv: false, printConfig: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    let value: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
    if (value === undefined && !BOOLEAN_FLAGS.has(name)) {
      value = argv[++i];
      if (value === undefined) throw new FlagError(`flag needs an argument: -${name}`);
    }
    switch (name) {
      case 'config.file': flags.configFile = value; break;
      case 'config.expand-env': flags.expandEnv = parseBool(name, value); break;
      case 'target': flags.target = value; break;
      case 'server.http-listen-port': flags.httpListenPort = parsePort(value!); break;
      case 'server.http-listen-address': flags.httpListenAddress = value; break;
      case 'log.level': flags.logLevel = value; break;
      case 'print-config-stderr': flags.printConfig = parseBool(name, value); break;
      default: throw new FlagError(`flag provided but not defined: -${name}`);
    }
  }
  return flags;
}

function parseBool(name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new FlagError(`invalid boolean value ${JSON.stringify(value)} for -${name}`);
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new FlagError(`invalid value ${JSON.stringify(value)} for -server.http-listen-port`);
  return n;
}
