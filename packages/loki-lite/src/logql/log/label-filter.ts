import { type Conversion, goParseDurationSeconds, goParseFloat, humanBytes } from '@loki-lite/shared';
import { compare } from '../syntax/compare.js';
import type { LabelFilterExpr } from '../syntax/ast.js';
import { compileIpMatcher } from './ip.js';
import type { LabelsBuilder } from './labels-builder.js';

export const LABEL_FILTER_ERR = 'LabelFilterErr';

export type LabelPredicate = (b: LabelsBuilder) => boolean;

const CONVERSIONS: Readonly<Record<'number' | 'duration' | 'bytes', (s: string) => Conversion>> = {
  number: goParseFloat,
  duration: goParseDurationSeconds,
  bytes: humanBytes,
};

/**
 * A label filter with Loki's semantics: string matchers treat a missing label as ""; typed comparisons
 * drop lines without the label, and a value that does not convert keeps the line but marks it with
 * __error__=LabelFilterErr. Once a line has an error only string matchers filter it (so `__error__=""`
 * can). `or` stops at the first success; `and` runs both sides.
 */
export function compileLabelFilter(f: LabelFilterExpr): LabelPredicate {
  switch (f.kind) {
    case 'and': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (b) => {
        const left = l(b);
        const right = r(b);
        return left && right;
      };
    }
    case 'or': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (b) => l(b) || r(b);
    }
    case 'string': {
      const m = f.matcher;
      return (b) => m.matches(b.get(m.name) ?? '');
    }
    case 'ip': {
      const ip = compileIpMatcher(f.pattern);
      return (b) => {
        if (b.hasError()) return true;
        const v = b.get(f.name);
        if (v === undefined) return false;
        return ip.matches(v) !== f.negated;
      };
    }
    default: {
      const convert = CONVERSIONS[f.kind];
      const { name, op, value } = f;
      return (b) => {
        if (b.hasError()) return true;
        const v = b.get(name);
        if (v === undefined) return false;
        const c = convert(v);
        if (!c.ok) {
          b.setError(LABEL_FILTER_ERR, c.error);
          return true;
        }
        return compare(op, c.value, value);
      };
    }
  }
}
