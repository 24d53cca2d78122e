import { parseBoolFlag, parsePortFlag, tokenizeGoFlags, unknownFlag } from '@loki-lite/shared';

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
}

const BOOLEAN_FLAGS = new Set(['config.expand-env', 'dry-run', 'check-syntax']);

export function parseAgentFlags(argv: readonly string[]): AgentFlags {
  const flags: AgentFlags = { expandEnv: false, dryRun: false };
  for (const [name, value] of tokenizeGoFlags(argv, BOOLEAN_FLAGS)) {
    switch (name) {
      case 'config.file': flags.configFile = value; break;
      case 'config.expand-env': flags.expandEnv = parseBoolFlag(name, value); break;
      case 'dry-run': case 'check-syntax': flags.dryRun = parseBoolFlag(name, value); break;
      case 'server.http-listen-port': flags.httpListenPort = parsePortFlag(name, value!); break;
      case 'log.level': flags.logLevel = value; break;
      case 'positions.file': flags.positionsFile = value; break;
      case 'client.url': flags.clientUrl = value; break;
      case 'client.tenant-id': flags.tenantId = value; break;
      default: throw unknownFlag(name);
    }
  }
  return flags;
}
