import { type FlagSpec, FlagError, goUsage, parseBoolFlag, parseGoFlags, parsePortFlag } from '@loki-lite/shared';

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
  logFormat?: string;
  /** -ingester.availability-zone: ingester.lifecycler.availability_zone (the Loki chart's ingesters pass it). */
  ingesterAvailabilityZone?: string;
  /** -print-config-stderr: the effective config, as YAML, on stderr at start. */
  printConfig: boolean;
  /** -log-config-reverse-order: the effective config at info level, a log line per YAML line, last first. */
  logConfigReverse: boolean;
  /** -version: print the version and exit. */
  version: boolean;
  /** -help or -h: print the usage and exit. */
  help: boolean;
}

const bool = (name: string, usage: string, set: (f: Flags, v: boolean) => void): FlagSpec<Flags> => ({
  name,
  type: 'bool',
  usage,
  apply: (f, v) => set(f, parseBoolFlag(name, v)),
});

const FLAGS: readonly FlagSpec<Flags>[] = [
  {
    name: 'config.file',
    type: 'string',
    usage: 'The YAML configuration file to load; without it the embedded default runs (a local folder store under ./data).',
    apply: (f, v) => (f.configFile = v),
  },
  bool('config.expand-env', 'Replace ${VAR} and ${VAR:-default} in the configuration file with environment variables.', (f, v) => (f.expandEnv = v)),
  {
    name: 'target',
    type: 'string',
    usage: 'The comma-separated roles to run; loki-lite runs all of them in one process.',
    default: 'all',
    apply: (f, v) => (f.target = v),
  },
  {
    name: 'server.http-listen-port',
    type: 'int',
    usage: 'The port the HTTP API listens on.',
    default: '3100',
    apply: (f, v) => (f.httpListenPort = parsePortFlag('server.http-listen-port', v!)),
  },
  {
    name: 'server.http-listen-address',
    type: 'string',
    usage: 'The address the HTTP API listens on (all interfaces when empty).',
    apply: (f, v) => (f.httpListenAddress = v),
  },
  {
    name: 'ingester.availability-zone',
    type: 'string',
    usage: 'The availability zone where this instance is running.',
    apply: (f, v) => (f.ingesterAvailabilityZone = v),
  },
  { name: 'log.level', type: 'string', usage: 'The lowest level logged: debug, info, warn or error.', default: 'info', apply: (f, v) => (f.logLevel = v) },
  { name: 'log.format', type: 'string', usage: 'The format of log lines: logfmt or json.', default: 'logfmt', apply: (f, v) => (f.logFormat = v) },
  bool('print-config-stderr', 'Write the configuration in effect, defaults included, to stderr as YAML at start.', (f, v) => (f.printConfig = v)),
  bool(
    'log-config-reverse-order',
    'Log the configuration in effect at info level, one line per YAML line, last line first (so it reads top-down in Grafana).',
    (f, v) => (f.logConfigReverse = v),
  ),
  bool('version', 'Print the version and build information, then exit.', (f, v) => (f.version = v)),
];

export function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { expandEnv: false, printConfig: false, logConfigReverse: false, version: false, help: false };
  if (!parseGoFlags(argv, FLAGS, flags)) flags.help = true;
  if (flags.logFormat !== undefined && flags.logFormat !== 'logfmt' && flags.logFormat !== 'json') {
    throw new FlagError(`invalid value ${JSON.stringify(flags.logFormat)} for -log.format: logfmt or json`);
  }
  return flags;
}

/** What -help prints. */
export function usage(): string {
  return goUsage('loki-lite', FLAGS as readonly FlagSpec<unknown>[]);
}
