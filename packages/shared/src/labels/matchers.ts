import { compileGoRegex } from '../regex/go-regex.js';
import { getLabel, type Labels } from './labels.js';

/*
 * Label matchers (`name="v"`, `!=`, `=~`, `!~`) as stream selectors, the index, storage and the ingester
 * apply them to label sets. They live with the label sets rather than in LogQL's parser because every
 * layer that selects series needs them, and none of those should import the query language to do so.
 */

export type MatchType = '=' | '!=' | '=~' | '!~';

/** A label matcher of a stream selector, with its regex compiled once (fully anchored, as in Prometheus). */
export interface LabelMatcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  readonly matches: (value: string) => boolean;
}

/**
 * A label matcher as data, without its compiled test: what crosses a seam that could be a network call
 * (the receiver compiles it with newLabelMatcher).
 */
export type LabelMatcherData = Pick<LabelMatcher, 'name' | 'type' | 'value'>;

export function newLabelMatcher(name: string, type: MatchType, value: string): LabelMatcher {
  let matches: (v: string) => boolean;
  switch (type) {
    case '=':
      matches = (v) => v === value;
      break;
    case '!=':
      matches = (v) => v !== value;
      break;
    case '=~':
    case '!~': {
      const re = compileGoRegex(value, true);
      matches = type === '=~' ? (v) => re.test(v) : (v) => !re.test(v);
      break;
    }
  }
  return { name, type, value, matches };
}

/** True if the label set satisfies every matcher; a missing label matches as "" (Prometheus semantics). */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Labels): boolean {
  for (const m of matchers) if (!m.matches(getLabel(labels, m.name) ?? '')) return false;
  return true;
}

/** A missing label has the value "" for matching purposes (Prometheus semantics). */
export function matchesEmpty(m: LabelMatcher): boolean {
  return m.matches('');
}
