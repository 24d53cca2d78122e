import { LokiError } from '@loki-lite/shared';
import type { ArithmeticOp, BinaryExpr, BinaryOp, SampleExpr } from '../syntax/ast.js';
import type { InstantValue, Sample } from './value.js';

/*
 * Evaluation of sample expressions at one instant, with Prometheus' binary-operator semantics (LogQL's are
 * the same): scalar/scalar, vector/scalar and one-to-one vector/vector matching on identical label sets.
 * The range and vector aggregations over log streams plug in here with the LogQL engine.
 */

const bad = (message: string) => new LokiError('bad_data', 'invalid_expression', message);

export function evaluateInstant(expr: SampleExpr, ts: bigint): InstantValue {
  switch (expr.kind) {
    case 'number':
      return { kind: 'scalar', value: expr.value };
    case 'vector':
      return { kind: 'vector', samples: [{ labels: [], key: '', value: expr.value }] };
    case 'binary':
      return evaluateBinary(expr, evaluateInstant(expr.lhs, ts), evaluateInstant(expr.rhs, ts));
  }
}

function arithmetic(op: ArithmeticOp, a: number, b: number): number {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    case '%': return a % b; // Go's math.Mod: the sign of the dividend, as JavaScript's %
    case '^': return a ** b;
  }
}

function compare(op: BinaryOp, a: number, b: number): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '<': return a < b;
    case '<=': return a <= b;
    default: throw new Error(`not a comparison: ${op}`);
  }
}

const isSetOp = (op: BinaryOp) => op === 'and' || op === 'or' || op === 'unless';
const isComparison = (op: BinaryOp) => op === '==' || op === '!=' || op === '>' || op === '>=' || op === '<' || op === '<=';

function evaluateBinary(expr: BinaryExpr, lhs: InstantValue, rhs: InstantValue): InstantValue {
  const { op, returnBool } = expr;
  if (isSetOp(op) && (lhs.kind === 'scalar' || rhs.kind === 'scalar')) throw bad(`set operator "${op}" not allowed in binary scalar expression`);
  if (lhs.kind === 'scalar' && rhs.kind === 'scalar') {
    if (isComparison(op)) {
      if (!returnBool) throw bad('comparisons between scalars must use BOOL modifier');
      return { kind: 'scalar', value: compare(op, lhs.value, rhs.value) ? 1 : 0 };
    }
    return { kind: 'scalar', value: arithmetic(op as ArithmeticOp, lhs.value, rhs.value) };
  }
  if (lhs.kind === 'vector' && rhs.kind === 'vector') return vectorVector(expr, lhs.samples, rhs.samples);
  // One side is a scalar: apply it to every sample of the vector, keeping the vector's labels.
  const vectorOnLeft = lhs.kind === 'vector';
  const samples = vectorOnLeft ? (lhs as { samples: readonly Sample[] }).samples : (rhs as { samples: readonly Sample[] }).samples;
  const scalar = vectorOnLeft ? (rhs as { value: number }).value : (lhs as { value: number }).value;
  const out: Sample[] = [];
  for (const s of samples) {
    const [a, b] = vectorOnLeft ? [s.value, scalar] : [scalar, s.value];
    if (isComparison(op)) {
      const holds = compare(op, a, b);
      if (returnBool) out.push({ ...s, value: holds ? 1 : 0 });
      else if (holds) out.push(s);
    } else {
      out.push({ ...s, value: arithmetic(op as ArithmeticOp, a, b) });
    }
  }
  return { kind: 'vector', samples: out };
}

function vectorVector(expr: BinaryExpr, lhs: readonly Sample[], rhs: readonly Sample[]): InstantValue {
  const { op, returnBool } = expr;
  const right = new Map(rhs.map((s) => [s.key, s]));
  if (op === 'and') return { kind: 'vector', samples: lhs.filter((s) => right.has(s.key)) };
  if (op === 'unless') return { kind: 'vector', samples: lhs.filter((s) => !right.has(s.key)) };
  if (op === 'or') {
    const left = new Set(lhs.map((s) => s.key));
    return { kind: 'vector', samples: [...lhs, ...rhs.filter((s) => !left.has(s.key))] };
  }
  const out: Sample[] = [];
  for (const l of lhs) {
    const r = right.get(l.key);
    if (!r) continue;
    if (isComparison(op)) {
      const holds = compare(op, l.value, r.value);
      if (returnBool) out.push({ ...l, value: holds ? 1 : 0 });
      else if (holds) out.push(l);
    } else {
      out.push({ ...l, value: arithmetic(op as ArithmeticOp, l.value, r.value) });
    }
  }
  return { kind: 'vector', samples: out };
}
