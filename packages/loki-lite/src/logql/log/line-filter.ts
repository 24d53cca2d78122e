import { compileGoRegex, LokiError, RegexError } from '@loki-lite/shared';
import type { LineFilterStage } from '../syntax/ast.js';
import { compileIpMatcher } from './ip.js';
import { compilePattern } from './pattern.js';

export type LinePredicate = (line: string) => boolean;

const REGEX_META = /[\\^$.*+?()[\]{}|]/;

/** A regex with no metacharacters matches exactly where its text occurs: use a substring search. */
function containsMatcher(pattern: string): LinePredicate {
  if (pattern === '') return () => true;
  if (!REGEX_META.test(pattern)) return (line) => line.includes(pattern);
  let re: RegExp;
  try {
    re = compileGoRegex(pattern, false);
  } catch (e) {
    if (e instanceof RegexError) throw new LokiError('bad_data', 'parse_error', `parse error : ${e.message}`);
    throw e;
  }
  return (line) => re.test(line);
}

/** One line filter stage as a predicate on the line. */
export function compileLineFilter(stage: LineFilterStage): LinePredicate {
  if (stage.ip) {
    const ip = compileIpMatcher(stage.value);
    return stage.op === '|=' ? (l) => ip.matchesLine(l) : (l) => !ip.matchesLine(l);
  }
  if (stage.op === '|>' || stage.op === '!>') {
    const patterns = [stage.value, ...stage.or].map((p) => compilePattern(p, false));
    const any: LinePredicate = (l) => patterns.some((p) => p.test(l));
    return stage.op === '|>' ? any : (l) => !any(l);
  }
  const alternatives = [stage.value, ...stage.or];
  const positive =
    stage.op === '|=' || stage.op === '!='
      ? alternatives.map((v) => (v === '' ? () => true : (l: string) => l.includes(v)))
      : alternatives.map(containsMatcher);
  const any: LinePredicate = positive.length === 1 ? positive[0]! : (l) => positive.some((p) => p(l));
  if (stage.op === '|=' || stage.op === '|~') return any;
  // Negated filters with `or` exclude lines matching any alternative.
  return (l) => !any(l);
}
