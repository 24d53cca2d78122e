import type { Logger } from '../log/logger.js';

/**
 * Runs `close` once on the first SIGTERM or SIGINT, then exits 0, or 1 when it fails. `doing` says in the
 * log what closing does (both programs have work to finish: a flush, unsent lines), so an operator waiting
 * on a rollout knows why the process has not gone yet.
 */
export function closeOnSignals(log: Logger, doing: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: ${doing}`);
    close().then(
      () => process.exit(0),
      (e: Error) => {
        log.error(`shutdown: ${e.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
