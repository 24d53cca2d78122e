import { StageError } from './pipeline-error.js';

/*
 * The part of JMESPath that Promtail json stage expressions use in practice: `a`, `a.b`, `a[0]`, `a.b[2].c`,
 * and quoted keys `"a.b"`. Anything else is a config error rather than a silently different result.
 */

type Step = string | number;

export function jsonPath(expr: string): (doc: unknown) => unknown {
  const steps = parsePath(expr);
  return (doc) => {
    let v = doc;
    for (const step of steps) {
      if (v === null || typeof v !== 'object') return undefined;
      if (typeof step === 'number') {
        if (!Array.isArray(v)) return undefined;
        v = v[step < 0 ? v.length + step : step];
      } else {
        if (Array.isArray(v)) return undefined;
        v = (v as Record<string, unknown>)[step];
      }
    }
    return v;
  };
}

function parsePath(expr: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  const fail = () => new StageError(`unsupported JMESPath expression ${JSON.stringify(expr)} (the agent reads a.b, a[0] and "quoted" keys)`);
  while (i < expr.length) {
    if (steps.length > 0) {
      if (expr[i] === '.') i++;
      else if (expr[i] !== '[') throw fail();
    }
    if (expr[i] === '"') {
      const end = expr.indexOf('"', i + 1);
      if (end < 0) throw fail();
      steps.push(expr.slice(i + 1, end));
      i = end + 1;
    } else if (expr[i] === '[') {
      const m = /^\[(-?\d+)\]/.exec(expr.slice(i));
      if (!m) throw fail();
      steps.push(Number(m[1]));
      i += m[0].length;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(expr.slice(i));
      if (!m) throw fail();
      steps.push(m[0]);
      i += m[0].length;
    }
  }
  if (steps.length === 0) throw fail();
  return steps;
}
