/** The logging the domain code needs; main.ts passes the server's (pino) logger, tests a silent one. */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** logfmt lines on stderr, like Loki's own logs: `level=info ts=2026-11-25T00:00:00.000Z msg="..."`. */
export function stderrLogger(level: (typeof LEVELS)[number]): Logger {
  const min = LEVELS.indexOf(level);
  const line = (lvl: (typeof LEVELS)[number], msg: string) => {
    if (LEVELS.indexOf(lvl) >= min) process.stderr.write(`level=${lvl} ts=${new Date().toISOString()} msg=${JSON.stringify(msg)}\n`);
  };
  return { info: (m) => line('info', m), warn: (m) => line('warn', m), error: (m) => line('error', m) };
}
