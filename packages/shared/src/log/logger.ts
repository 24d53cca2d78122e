/** The logging the domain code needs; main.ts passes the server's (pino) logger, tests a silent one. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** A line of key/value fields and no message, as Loki logs a query's statistics. */
  fields(level: LogLevel, fields: LogFields): void;
  /** Whether a line at `level` is written: lines that cost work to build are built only then. */
  enabled(level: LogLevel): boolean;
}

export type LogLevel = (typeof LEVELS)[number];
export type LogFields = ReadonlyArray<readonly [key: string, value: string | number]>;

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, fields() {}, enabled: () => false };

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Lines on stderr like Loki's own logs: logfmt (`level=info ts=2026-11-25T00:00:00.000Z msg="..."`) or, with
 * `json` (-log.format), one JSON object per line with the same fields.
 */
export function stderrLogger(level: LogLevel, format: 'logfmt' | 'json' = 'logfmt'): Logger & LevelControl {
  let min = LEVELS.indexOf(level);
  const text = format === 'json' ? jsonLine : logfmtLine;
  const write = (lvl: LogLevel, fields: LogFields) => {
    if (LEVELS.indexOf(lvl) >= min) process.stderr.write(text([['level', lvl], ['ts', new Date().toISOString()], ...fields]));
  };
  const line = (lvl: LogLevel) => (msg: string) => write(lvl, [['msg', msg]]);
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    fields: write,
    enabled: (lvl) => LEVELS.indexOf(lvl) >= min,
    get level() {
      return LEVELS[min]!;
    },
    setLevel(next: LogLevel) {
      min = LEVELS.indexOf(next);
    },
  };
}

/** A logger's level, changed while it runs (Loki's /log_level). */
export interface LevelControl {
  readonly level: LogLevel;
  setLevel(level: LogLevel): void;
}

/** Whether `s` names a level: debug, info, warn or error. */
export function isLogLevel(s: string): s is LogLevel {
  return (LEVELS as readonly string[]).includes(s);
}

/** go-kit's logfmt: a value is quoted (with Go's escapes) when it is empty or holds a space, `=`, `"` or a control character. */
function logfmtLine(fields: LogFields): string {
  return fields.map(([k, v]) => `${k}=${typeof v === 'number' ? v : logfmtValue(v)}`).join(' ') + '\n';
}

function logfmtValue(v: string): string {
  return v === '' || /[\s="\\\x00-\x1f\x7f]/.test(v) ? JSON.stringify(v) : v;
}

/** go-kit's JSON logger writes a map: its keys come out sorted. */
function jsonLine(fields: LogFields): string {
  const sorted = [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(sorted)) + '\n';
}
