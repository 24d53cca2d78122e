import { parseQuery } from 'loki-lite/logql-parser';
import { exprString } from 'loki-lite/logql-print';

/*
 * What `bench query` runs: the built-in query sets, each with the share of the bench's lines it matches,
 * and how a query's matched lines are counted.
 */

/** instant: /query at now; range: /query_range over --since with --step; log: /query_range over --since with a limit. */
export type QueryKind = 'instant' | 'range' | 'log';

export interface QuerySpec {
  readonly name: string;
  readonly logql: string;
  readonly kind: QueryKind;
  /** Log queries: the most entries answered. */
  readonly limit?: number;
  /** Built-in sets: the share of the generated lines that match, measured (see QUERY_SETS). */
  readonly share?: string;
}

/**
 * The built-in sets, over the lines `load` pushes (LineGenerator, seed 7, `mixed`). The shares were measured
 * on 2,000,000 generated lines by running each filter on them, and agree with the lines matched that the
 * bench reports. Numeric label filters come after `__error__=""`: on mixed lines the parser fails on the
 * other kinds, and Loki answers a metric query over lines with `__error__` with a pipeline error.
 */
export const QUERY_SETS: readonly QuerySpec[] = [
  { name: 'regex 1%', share: '1.25%', kind: 'instant', logql: 'sum(count_over_time({app="bench"} |~ `loss=1\\.9[0-9]+ lr` [24h]))' },
  { name: 'regex 10%', share: '10.0%', kind: 'instant', logql: 'sum(count_over_time({app="bench"} |~ `loss=1\\.[0-7]` [24h]))' },
  { name: 'regex 50%', share: '50.0%', kind: 'instant', logql: 'sum(count_over_time({app="bench"} |~ `(rank=|Rank )[0-9]+` [24h]))' },
  { name: 'needle', share: '0.0025%', kind: 'instant', logql: 'sum(count_over_time({app="bench"} |= "Traceback" [24h]))' },
  { name: 'no match', share: '0%', kind: 'instant', logql: 'sum(count_over_time({app="bench"} |~ "err(or)?.*timeout" [24h]))' },
  { name: 'logfmt field > n', share: '1.66%', kind: 'instant', logql: 'sum(count_over_time({app="bench"} | logfmt | __error__="" | grad_norm > 1.4 [24h]))' },
  { name: 'json field > n', share: '1.00%', kind: 'instant', logql: 'sum(count_over_time({app="bench"} | json | __error__="" | latency_ms > 960 [24h]))' },
  { name: 'sum by rate', share: '50.0%', kind: 'range', logql: 'sum by (pod) (rate({app="bench"} |~ `(rank=|Rank )[0-9]+` [5m]))' },
  { name: 'log, limit 100', share: '25.0%', kind: 'log', limit: 100, logql: '{app="bench"} |= "level=info"' },
  { name: 'log, limit 1000', share: '25.0%', kind: 'log', limit: 1000, logql: '{app="bench"} |= "level=info"' },
  { name: 'log needle, limit 100', share: '0.0025%', kind: 'log', limit: 100, logql: '{app="bench"} |= "Traceback"' },
];

type Expr = ReturnType<typeof parseQuery>;
type RangeAggregation = Extract<Expr, { kind: 'range_aggregation' }>;

/** The query parsed, or undefined if it does not parse (the server then answers with the error). */
function parsed(logql: string): Expr | undefined {
  try {
    return parseQuery(logql);
  } catch {
    return undefined;
  }
}

/** A query a user gives: a log query (a selector and pipeline) runs as `log`, any other as `defaultKind`. */
export function userQuery(name: string, logql: string, defaultKind: 'instant' | 'range', limit: number): QuerySpec {
  return parsed(logql)?.kind === 'log_selector' ? { name, logql, kind: 'log', limit } : { name, logql, kind: defaultKind };
}

function rangeAggregations(e: Expr): RangeAggregation[] {
  switch (e.kind) {
    case 'range_aggregation':
      return [e];
    case 'binary':
      return [...rangeAggregations(e.lhs), ...rangeAggregations(e.rhs)];
    case 'vector_aggregation':
    case 'label_replace':
      return rangeAggregations(e.inner);
    default:
      return [];
  }
}

/**
 * The instant query that counts the lines a metric query's selector and pipeline keep (before any unwrap):
 * `sum(count_over_time(<selector and pipeline> [window]))`, the window being the query's own range for an
 * instant query, or `windowNs` (the range query's span) for a range query. `same` says the query is that
 * count already, so its own answer holds the figure. Undefined for a log query, a query with no or several
 * range aggregations, or one that does not parse.
 */
export function countQuery(q: QuerySpec, windowNs: bigint): { logql: string; same: boolean } | undefined {
  if (q.kind === 'log') return undefined;
  const expr = parsed(q.logql);
  const ranges = expr ? rangeAggregations(expr) : [];
  if (ranges.length !== 1) return undefined;
  const { unwrap: _unwrap, ...selector } = ranges[0]!.selector;
  const count: Expr = {
    kind: 'vector_aggregation',
    op: 'sum',
    grouping: undefined,
    param: undefined,
    inner: {
      kind: 'range_aggregation',
      op: 'count_over_time',
      selector,
      offset: ranges[0]!.offset,
      range: q.kind === 'instant' ? ranges[0]!.range : windowNs,
      param: undefined,
      grouping: undefined,
    },
  };
  const logql = exprString(count);
  return { logql, same: q.kind === 'instant' && logql === exprString(expr!) };
}
