import type { LogFields, Logger, LogLevel } from '@loki-lite/shared';

const ORDER: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** A logger that keeps the lines at or above `level` as field lists, for tests that read a server's log. */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: LogLevel; fields: Record<string, string | number> }> = [];

  constructor(private readonly level: LogLevel) {}

  enabled(level: LogLevel): boolean {
    return ORDER.indexOf(level) >= ORDER.indexOf(this.level);
  }

  fields(level: LogLevel, fields: LogFields): void {
    if (this.enabled(level)) this.lines.push({ level, fields: Object.fromEntries(fields) });
  }

  debug = (msg: string) => this.fields('debug', [['msg', msg]]);
  info = (msg: string) => this.fields('info', [['msg', msg]]);
  warn = (msg: string) => this.fields('warn', [['msg', msg]]);
  error = (msg: string) => this.fields('error', [['msg', msg]]);

  /** The lines whose msg matches. */
  withMsg(pattern: RegExp): Array<{ level: LogLevel; fields: Record<string, string | number> }> {
    return this.lines.filter((l) => pattern.test(String(l.fields.msg ?? '')));
  }
}
