import type { ComparisonOp } from './ast.js';

/**
 * A LogQL comparison of two numbers, shared by binary operators (engine) and numeric label filters (log).
 * It lives beside the AST that defines the operators so that both users import it downward.
 */
export function compare(op: ComparisonOp, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}
