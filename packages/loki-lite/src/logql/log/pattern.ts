import { LokiError } from '@loki-lite/shared';

/*
 * Loki's pattern expressions (`pattern` parser, `|>` / `!>` filters): literal text and `<name>` captures,
 * `<_>` matching without capturing. Each capture runs to the first occurrence of the literal after it;
 * the last one runs to the end of the line.
 */

type Part = { literal: string } | { capture: string };

export interface CompiledPattern {
  /** Names of the named captures, in order. */
  readonly names: readonly string[];
  /** The named captures of `line` (as many as matched before a literal was missing, as in Loki). */
  captures(line: string): string[];
  /** True when the whole pattern matches: the first literal at the start, every later one found in order. */
  test(line: string): boolean;
}

const CAPTURE = /<(_|[a-zA-Z_][a-zA-Z0-9_]*)>/g;

function parse(src: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of src.matchAll(CAPTURE)) {
    if (m.index > last) parts.push({ literal: src.slice(last, m.index) });
    const prev = parts[parts.length - 1];
    if (prev && 'capture' in prev) throw new LokiError('bad_data', 'parse_error', 'parse error : found consecutive capture: invalid expression');
    parts.push({ capture: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < src.length) parts.push({ literal: src.slice(last) });
  return parts;
}

export function compilePattern(src: string, requireCapture = true): CompiledPattern {
  const parts = parse(src);
  const names = parts.flatMap((p) => ('capture' in p && p.capture !== '_' ? [p.capture] : []));
  if (requireCapture && names.length === 0) throw new LokiError('bad_data', 'parse_error', 'parse error : at least one capture is required');
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new LokiError('bad_data', 'parse_error', `parse error : duplicate capture name (${n}): invalid expression`);
    seen.add(n);
  }
  /** Walks the line; returns the captures, and whether every literal was found. */
  const walk = (line: string): { captures: string[]; complete: boolean } => {
    const captures: string[] = [];
    if (line === '' || parts.length === 0) return { captures, complete: false };
    let i = 0;
    let k = 0;
    const first = parts[0]!;
    if ('literal' in first) {
      if (!line.startsWith(first.literal)) return { captures, complete: false };
      i = first.literal.length;
      k = 1;
    }
    while (k < parts.length) {
      const cap = parts[k] as { capture: string };
      const lit = parts[k + 1] as { literal: string } | undefined;
      if (!lit) {
        if (cap.capture !== '_') captures.push(line.slice(i));
        return { captures, complete: true };
      }
      const at = line.indexOf(lit.literal, i);
      if (at < 0) {
        if (cap.capture !== '_') captures.push(line.slice(i));
        return { captures, complete: false };
      }
      if (cap.capture !== '_') captures.push(line.slice(i, at));
      i = at + lit.literal.length;
      k += 2;
    }
    return { captures, complete: true };
  };
  return { names, captures: (line) => walk(line).captures, test: (line) => walk(line).complete };
}
