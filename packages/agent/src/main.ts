import { readFileSync } from 'node:fs';
import { closeOnSignals, ConfigError, exitWith, FlagError, stderrLogger, versionText } from '@loki-lite/shared';
import { startAgent } from './agent.js';
import { agentUsage, parseAgentFlags } from './config/flags.js';
import { loadConfig } from './config/load.js';

export { startAgent, type RunningAgent, type AgentOptions } from './agent.js';
export { parseConfig } from './config/load.js';

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The command line: flags, config, start, and on SIGTERM/SIGINT a stop that saves the positions. */
export async function main(argv: readonly string[]): Promise<void> {
  let loaded;
  try {
    const flags = parseAgentFlags(argv);
    if (flags.help) return exitWith(0, process.stderr, agentUsage());
    if (flags.version) return exitWith(0, process.stdout, versionText('loki-lite-agent', VERSION));
    loaded = loadConfig(flags);
    if (flags.dryRun) {
      process.stdout.write('config is valid\n');
      return;
    }
  } catch (e) {
    if (e instanceof FlagError || e instanceof ConfigError) return exitWith(1, process.stderr, `${e.message}\n`);
    throw e;
  }
  const log = stderrLogger(loaded.config.server.log_level);
  for (const w of loaded.warnings) log.warn(w);
  const agent = await startAgent(loaded.config, { nodeName: loaded.nodeName, version: VERSION, log });
  log.info(`agent ${VERSION} started on node ${loaded.nodeName}${agent.port === undefined ? '' : `, http port ${agent.port}`}`);
  closeOnSignals(log, 'sending what was read, saving positions', () => agent.stop());
}
