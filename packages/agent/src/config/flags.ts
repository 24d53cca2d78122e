import { type FlagSpec, goUsage, parseBoolFlag, parseGoFlags, parsePortFlag } from '@loki-lite/shared';

/** The Promtail command-line flags the agent takes. */
export interface AgentFlags {
  configFile?: string;
  expandEnv: boolean;
  dryRun: boolean;
  httpListenPort?: number;
  logLevel?: string;
  positionsFile?: string;
  clientUrl?: string;
  tenantId?: string;
  /** -version: print the version and exit. */
  version: boolean;
  /** -help or -h: print the usage and exit. */
  help: boolean;
}

const string = (name: string, usage: string, set: (f: AgentFlags, v: string) => void, dflt?: string): FlagSpec<AgentFlags> => ({
  name,
  type: 'string',
  usage,
  default: dflt,
  apply: (f, v) => set(f, v!),
});
const bool = (name: string, usage: string, set: (f: AgentFlags, v: boolean) => void): FlagSpec<AgentFlags> => ({
  name,
  type: 'bool',
  usage,
  apply: (f, v) => set(f, parseBoolFlag(name, v)),
});

const FLAGS: readonly FlagSpec<AgentFlags>[] = [
  string('config.file', 'The Promtail-format YAML configuration file to load.', (f, v) => (f.configFile = v)),
  bool('config.expand-env', 'Replace ${VAR} and ${VAR:-default} in the configuration file with environment variables.', (f, v) => (f.expandEnv = v)),
  bool('dry-run', 'Check the configuration, print "config is valid" and exit, sending nothing.', (f, v) => (f.dryRun = v)),
  bool('check-syntax', 'The same as -dry-run.', (f, v) => (f.dryRun = v)),
  {
    name: 'server.http-listen-port',
    type: 'int',
    usage: "The port of the agent's HTTP server (/metrics, /ready).",
    default: '80',
    apply: (f, v) => (f.httpListenPort = parsePortFlag('server.http-listen-port', v!)),
  },
  string('log.level', 'The lowest level logged: debug, info, warn or error.', (f, v) => (f.logLevel = v), 'info'),
  string(
    'positions.file',
    "Where the read positions of the tailed files are kept, over the configuration's positions.filename.",
    (f, v) => (f.positionsFile = v),
  ),
  string(
    'client.url',
    "The push URL every client sends to, over the configuration's clients[].url (http://host:3100/loki/api/v1/push).",
    (f, v) => (f.clientUrl = v),
  ),
  string('client.tenant-id', 'The tenant every client pushes as (X-Scope-OrgID), over the configuration.', (f, v) => (f.tenantId = v)),
  bool('version', 'Print the version and build information, then exit.', (f, v) => (f.version = v)),
];

export function parseAgentFlags(argv: readonly string[]): AgentFlags {
  const flags: AgentFlags = { expandEnv: false, dryRun: false, version: false, help: false };
  if (!parseGoFlags(argv, FLAGS, flags)) flags.help = true;
  return flags;
}

/** What -help prints. */
export function agentUsage(): string {
  return goUsage('loki-lite-agent', FLAGS as readonly FlagSpec<unknown>[]);
}
