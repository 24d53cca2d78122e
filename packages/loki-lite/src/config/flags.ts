import { parseBoolFlag, parsePortFlag, tokenizeGoFlags, unknownFlag } from '@loki-lite/shared';

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

export function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { expandEnv: false, printConfig: false };
  for (const [name, value] of tokenizeGoFlags(argv, BOOLEAN_FLAGS)) {
    switch (name) {
      case 'config.file': flags.configFile = value; break;
      case 'config.expand-env': flags.expandEnv = parseBoolFlag(name, value); break;
      case 'target': flags.target = value; break;
      case 'server.http-listen-port': flags.httpListenPort = parsePortFlag(name, value!); break;
      case 'server.http-listen-address': flags.httpListenAddress = value; break;
      case 'log.level': flags.logLevel = value; break;
      case 'print-config-stderr': flags.printConfig = parseBoolFlag(name, value); break;
      default: throw unknownFlag(name);
    }
  }
  return flags;
}
