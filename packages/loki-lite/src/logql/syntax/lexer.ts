import { lineCol, readGoString, UnquoteError } from '@loki-lite/shared';
import { ParseError } from './errors.js';

/*
 * The LogQL lexer. Token kinds are named as in Loki's grammar so parse errors read the same
 * ("unexpected IDENTIFIER, expecting STRING").
 */
export type TokenKind =
  | 'IDENTIFIER'
  | 'STRING'
  | 'NUMBER'
  | 'DURATION'
  | 'BYTES'
  | '{'
  | '}'
  | '('
  | ')'
  | '['
  | ']'
  | ','
  | '.'
  | '='
  | '!='
  | '=~'
  | '!~'
  | '|='
  | '|~'
  | '|>'
  | '!>'
  | '|'
  | '=='
  | '<'
  | '<='
  | '>'
  | '>='
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '^'
  | 'EOF';

export interface Token {
  readonly kind: TokenKind;
  /** The source text (for STRING: the decoded value). */
  readonly text: string;
  readonly offset: number;
}

const PUNCT: ReadonlyArray<TokenKind> = [
  '|=',
  '|~',
  '|>',
  '!>',
  '!=',
  '!~',
  '=~',
  '==',
  '<=',
  '>=',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  '=',
  '<',
  '>',
  '|',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
];
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|y))+/;
/** Byte sizes as go-humanize reads them: any letter case, SI or binary (`kB`, `KB`, `KiB`, `mb`). */
const BYTES = /^\d+(\.\d+)?([KMGTPE]i?B|B)(?![a-zA-Z0-9_])/i;
const NUMBER = /^(0x[0-9a-fA-F]+|(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)/;

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (at: number, detail: string): never => {
    const { line, col } = lineCol(src, at);
    throw new ParseError(detail, line, col);
  };
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (ch === '"') {
      try {
        const { value, end } = readGoString(src, i);
        tokens.push({ kind: 'STRING', text: value, offset: i });
        i = end;
      } catch (e) {
        if (e instanceof UnquoteError) fail(i, e.message === 'invalid syntax' ? 'invalid char escape' : e.message);
        throw e;
      }
      continue;
    }
    if (ch === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) fail(i, 'literal not terminated');
      tokens.push({ kind: 'STRING', text: src.slice(i + 1, end), offset: i });
      i = end + 1;
      continue;
    }
    if (/[a-zA-Z_]/.test(ch)) {
      const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(src.slice(i))!;
      tokens.push({ kind: 'IDENTIFIER', text: m[0], offset: i });
      i += m[0].length;
      continue;
    }
    if (/[0-9.]/.test(ch) && (ch !== '.' || /[0-9]/.test(src[i + 1] ?? ''))) {
      const rest = src.slice(i);
      const d = DURATION.exec(rest);
      const b = BYTES.exec(rest);
      const n = NUMBER.exec(rest);
      const best = [d && { kind: 'DURATION' as const, m: d[0] }, b && { kind: 'BYTES' as const, m: b[0] }, n && { kind: 'NUMBER' as const, m: n[0] }]
        .filter((x): x is { kind: 'DURATION' | 'BYTES' | 'NUMBER'; m: string } => !!x)
        .sort((x, y) => y.m.length - x.m.length)[0]!;
      tokens.push({ kind: best.kind, text: best.m, offset: i });
      i += best.m.length;
      continue;
    }
    const p = PUNCT.find((t) => src.startsWith(t, i));
    if (!p) fail(i, `syntax error: unexpected character: '${ch}'`);
    tokens.push({ kind: p!, text: p!, offset: i });
    i += p!.length;
  }
  tokens.push({ kind: 'EOF', text: '', offset: src.length });
  return tokens;
}
