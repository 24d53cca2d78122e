import { LokiError } from '@loki-lite/shared';

/** A query that does not parse; the message is Loki's: `parse error at line L, col C: ...`. */
export class ParseError extends LokiError {
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly col: number,
  ) {
    super('bad_data', 'parse_error', line > 0 ? `parse error at line ${line}, col ${col}: ${detail}` : `parse error : ${detail}`);
  }
}
