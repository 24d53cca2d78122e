import { LokiError } from '@loki-lite/shared';

/** A query that does not parse; the message is Loki's: `parse error at line L, col C: ...`. */
export class ParseError extends LokiError {
  constructor(readonly detail: string, readonly line: number, readonly col: number) {
    super('bad_data', 'parse_error', line > 0 ? `parse error at line ${line}, col ${col}: ${detail}` : `parse error : ${detail}`);
  }
}

/** Position of an offset as Loki reports it: 1-based line and column. */
export function lineCol(src: string, offset: number): { line: number; col: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < src.length; i++) {
    if (src[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { line, col };
}
