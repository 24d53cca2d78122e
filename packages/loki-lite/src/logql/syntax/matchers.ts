import { compileGoRegex } from './regex.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

/** A label matcher of a stream selector, with its regex compiled once (fully anchored, as in Prometheus). */
export interface LabelMatcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  readonly matches: (value: string) => boolean;
}

export function newLabelMatcher(name: string, type: MatchType, value: string): LabelMatcher {
  let matches: (v: string) => boolean;
  switch (type) {
    case '=': matches = (v) => v === value; break;
    case '!=': matches = (v) => v !== value; break;
    case '=~':
    case '!~': {
      const re = compileGoRegex(value, true);
      matches = type === '=~' ? (v) => re.test(v) : (v) => !re.test(v);
      break;
    }
  }
  return { name, type, value, matches };
}

/** A missing label has the value "" for matching purposes (Prometheus semantics). */
export function matchesEmpty(m: LabelMatcher): boolean {
  return m.matches('');
}
