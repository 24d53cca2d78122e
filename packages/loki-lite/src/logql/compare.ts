import type { ComparisonOp } from './syntax/ast.js';

/** A LogQL comparison of two numbers, shared by binary operators and numeric label filters. */
export function compare(op: ComparisonOp, a: number, b: number): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '<': return a < b;
    case '<=': return a <= b;
  }
}
