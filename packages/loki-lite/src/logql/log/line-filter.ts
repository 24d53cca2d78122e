import { LokiError } from '@loki-lite/shared';
import type { LineFilterStage, PipelineStage } from '../syntax/ast.js';
import { compileGoRegex, RegexError } from '../syntax/regex.js';

export type LinePredicate = (line: string) => boolean;

const REGEX_META = /[\\^$.*+?()[\]{}|]/;

/** A regex with no metacharacters matches exactly where its text occurs: use a substring search. */
function containsMatcher(pattern: string): LinePredicate {
  if (pattern === '') return () => true;
  if (!REGEX_META.test(pattern)) return (line) => line.includes(pattern);
  // (?i) followed by a plain literal: compare lower-cased.
  const ci = /^\(\?i\)(.*)$/s.exec(pattern);
  if (ci && !REGEX_META.test(ci[1]!) && /^[\x20-\x7e]*$/.test(ci[1]!)) {
    const needle = ci[1]!.toLowerCase();
    return (line) => line.toLowerCase().includes(needle);
  }
  let re: RegExp;
  try {
    re = compileGoRegex(pattern, false);
  } catch (e) {
    if (e instanceof RegexError) throw new LokiError('bad_data', 'parse_error', `parse error : ${e.message}`);
    throw e;
  }
  return (line) => re.test(line);
}

function compileOne(stage: LineFilterStage): LinePredicate {
  const alternatives = [stage.value, ...stage.or];
  const positive = stage.op === '|=' || stage.op === '!=' ? alternatives.map((v) => (v === '' ? () => true : (l: string) => l.includes(v))) : alternatives.map(containsMatcher);
  const any: LinePredicate = positive.length === 1 ? positive[0]! : (l) => positive.some((p) => p(l));
  if (stage.op === '|=' || stage.op === '|~') return any;
  // Negated filters with `or` exclude lines matching any alternative.
  return (l) => !any(l);
}

/** Compiles line filters into one predicate, cheapest first is left to the query author, as in Loki. */
export function compileLineFilters(stages: readonly PipelineStage[]): LinePredicate | undefined {
  const filters = stages.filter((s): s is LineFilterStage => s.kind === 'line_filter');
  if (filters.length === 0) return undefined;
  const preds = filters.map(compileOne);
  if (preds.length === 1) return preds[0];
  return (line) => {
    for (const p of preds) if (!p(line)) return false;
    return true;
  };
}
