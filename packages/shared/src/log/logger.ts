/** The logging the domain code needs; main.ts passes the server's (pino) logger, tests a silent one. */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Lines on stderr like Loki's own logs: logfmt (`level=info ts=2026-11-25T00:00:00.000Z msg="..."`) or, with
 * `json` (-log.format), one JSON object per line with the same fields.
 */
export function stderrLogger(level: (typeof LEVELS)[number], format: 'logfmt' | 'json' = 'logfmt'): Logger {
  const min = LEVELS.indexOf(level);
  const text = format === 'json'
    // go-kit's JSON logger, which Loki's is, writes a map: its keys come out sorted.
    ? (lvl: string, msg: string) => `${JSON.stringify({ level: lvl, msg, ts: new Date().toISOString() })}\n`
    : (lvl: string, msg: string) => `level=${lvl} ts=${new Date().toISOString()} msg=${JSON.stringify(msg)}\n`;
  const line = (lvl: (typeof LEVELS)[number], msg: string) => {
    if (LEVELS.indexOf(lvl) >= min) process.stderr.write(text(lvl, msg));
  };
  return { info: (m) => line('info', m), warn: (m) => line('warn', m), error: (m) => line('error', m) };
}
