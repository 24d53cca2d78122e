import { type LabelMatcher, type MatchType, newLabelMatcher } from '@loki-lite/shared';

/*
 * A parsed query as plain data, for another thread or process. The AST is plain data but for its label
 * matchers, which carry a compiled test: those travel as their name, type and value, and are compiled
 * again on arrival. Printing the query and parsing it again would not do: LogQL's printed form rounds
 * byte sizes (1234B prints as 1.2kB) and drops durations below a millisecond, as Loki's String() does.
 */

/** A label matcher on the wire. */
interface WireMatcher {
  readonly $matcher: readonly [name: string, type: MatchType, value: string];
}

/** `expr` with every label matcher replaced by its plain form; survives structuredClone and postMessage. */
export function toWire<T>(expr: T): T {
  return mapTree(expr, (node) => (isMatcher(node) ? { $matcher: [node.name, node.type, node.value] } : undefined)) as T;
}

/** The query toWire was given, its label matchers compiled again. */
export function fromWire<T>(wire: T): T {
  return mapTree(wire, (node) => {
    const m = (node as Partial<WireMatcher>).$matcher;
    return m ? newLabelMatcher(m[0], m[1], m[2]) : undefined;
  }) as T;
}

function isMatcher(node: object): node is LabelMatcher {
  return typeof (node as Partial<LabelMatcher>).matches === 'function';
}

/** A copy of a tree of arrays and plain objects, with the nodes `replace` answers for replaced. */
function mapTree(value: unknown, replace: (node: object) => object | undefined): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const replaced = replace(value);
  if (replaced !== undefined) return replaced;
  if (Array.isArray(value)) return value.map((v) => mapTree(v, replace));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = mapTree(v, replace);
  return out;
}
