import { formatPromDuration, type Labels, LokiError } from '@loki-lite/shared';
import type { Config } from '../config/schema.js';
import type { Direction } from '../iter/direction.js';
import { evaluateAt, prepare, type SampleSource } from '../logql/engine/evaluate.js';
import type { Sample } from '../logql/engine/value.js';
import type { SampleExpr } from '../logql/syntax/ast.js';
import { parseQuery } from '../logql/syntax/parser.js';
import type { Admission } from './admission.js';
import type { LogQuery, Querier } from '../querier/querier.js';
import { selectLogsSplit } from './split.js';
import { newQueryStats, queryTimeoutError, type QueryStats, type StreamResult } from '../shard/types.js';
import { alignRangeToStep } from './step-align.js';
import type { QueryRecord } from './query-log.js';
import type { Limits } from '../limits/limits.js';

/*
 * The query engine: what a range or instant query goes through between the caller (the HTTP API today, the
 * ruler and a query-frontend later) and the querier. Parse and validate (Loki's limits, with Loki's texts),
 * wait for a slot (admission.ts), run with the query_timeout deadline and the caller's signal, and give
 * back typed values; turning them into Loki's JSON is the caller's business.
 */

export interface RangeQueryRequest {
  readonly tenant: string;
  readonly query: string;
  readonly start: bigint;
  readonly end: bigint;
  /** The resolution a metric query is evaluated at (before step alignment); unused by log queries. */
  readonly step: bigint;
  readonly limit: number;
  readonly direction: Direction;
  /** Loki's categorize-labels encoding of a log query's lines. */
  readonly categorize: boolean;
  /** Aborted when the caller no longer wants the answer (its client went away). */
  readonly signal?: AbortSignal | undefined;
}

export interface InstantQueryRequest {
  readonly tenant: string;
  readonly query: string;
  readonly time: bigint;
  readonly signal?: AbortSignal | undefined;
}

/** The newest lines of a log query with their labels categorized: what Logs Drilldown's detected_* read. */
export interface LogSampleRequest {
  readonly tenant: string;
  readonly query: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly lineLimit: number;
  readonly signal?: AbortSignal | undefined;
}

/** One series of a matrix: its labels and the value at each step time where it has one. */
export interface MatrixSeries {
  readonly labels: Labels;
  readonly timestamps: bigint[];
  readonly values: number[];
}

export type RangeValue =
  | { readonly kind: 'matrix'; readonly series: readonly MatrixSeries[] }
  | { readonly kind: 'streams'; readonly streams: readonly StreamResult[] };
export type InstantValue =
  | { readonly kind: 'vector'; readonly time: bigint; readonly samples: readonly Sample[] }
  | { readonly kind: 'scalar'; readonly time: bigint; readonly value: number };

export interface QueryResult<V> {
  readonly value: V;
  readonly stats: QueryStats;
  /** Seconds from admission to the answer. */
  readonly execSeconds: number;
  /** Seconds spent waiting for a slot. */
  readonly queueSeconds: number;
}

export type EngineConfig = Pick<Config, 'query_range'> & { readonly querier: Pick<Config['querier'], 'engine'> };

const bad = (message: string) => new LokiError('bad_data', 'bad_request', message);

/** Loki's answer to a query whose client went away; nobody reads it, but logs and metrics do. */
const canceled = () => new LokiError('canceled', 'canceled', 'context canceled');

export class QueryEngine {
  constructor(
    private readonly querier: Querier,
    private readonly admission: Admission,
    private readonly config: EngineConfig,
    /** A query's limits are its tenant's (or its tenants', for `a|b`). */
    private readonly limits: Limits,
    /** Told of every range and instant query once it is answered or has failed (Loki's per-query log line). */
    private readonly onQuery: (record: QueryRecord) => void = () => {},
  ) {}

  async range(req: RangeQueryRequest): Promise<QueryResult<RangeValue>> {
    const expr = parseQuery(req.query);
    const record = {
      tenant: req.tenant,
      query: req.query,
      kind: 'range' as const,
      queryType: queryTypeOf(expr),
      start: req.start,
      end: req.end,
      step: req.step,
      limit: req.limit,
    };
    return this.recorded(
      record,
      () => this.runRange(req, expr),
      (v) => (v.kind === 'streams' ? v.streams.reduce((n, s) => n + s.entries.length, 0) : 0),
    );
  }

  private async runRange(req: RangeQueryRequest, expr: ReturnType<typeof parseQuery>): Promise<QueryResult<RangeValue>> {
    const limits = this.limits.forQuery(req.tenant);
    if (req.end < req.start) throw bad('end timestamp must not be before or equal to start time');
    if (limits.max_entries_limit_per_query > 0 && req.limit > limits.max_entries_limit_per_query) {
      throw bad(`max entries limit per query exceeded, limit > max_entries_limit_per_query (${req.limit} > ${limits.max_entries_limit_per_query})`);
    }
    if (limits.max_query_length > 0n && req.end - req.start > limits.max_query_length) {
      throw bad(
        `the query time range exceeds the limit (query length: ${formatPromDuration(req.end - req.start)}, limit: ${formatPromDuration(limits.max_query_length)})`,
      );
    }
    if (expr.kind === 'log_selector') {
      return this.execute(req.tenant, req.signal, async (stats): Promise<RangeValue> => {
        // An instant's log query reads back querier.engine.max_look_back_period, as Loki's evaluator does.
        const from = req.start === req.end ? req.start - this.config.querier.engine.max_look_back_period : req.start;
        const query = { selector: expr, from, through: req.end, direction: req.direction, limit: req.limit, categorize: req.categorize };
        // The query frontend's split (split_queries_by_interval); the querier answers each interval whole.
        const select = (q: LogQuery) => this.querier.selectLogs(req.tenant, q, stats);
        const streams = await selectLogsSplit(query, limits.split_queries_by_interval, stats, select);
        return { kind: 'streams', streams };
      });
    }
    const [start, end, step] = alignRangeToStep(req.start, req.end, req.step, { query_range: this.config.query_range, limits_config: limits });
    return this.execute(req.tenant, req.signal, async (stats): Promise<RangeValue> => {
      const series = await evaluateRange(expr, sampleSource(this.querier, req.tenant, stats), start, end, step);
      checkSeriesLimit(series.length, limits.max_query_series);
      return { kind: 'matrix', series };
    });
  }

  async instant(req: InstantQueryRequest): Promise<QueryResult<InstantValue>> {
    const expr = parseQuery(req.query);
    const record = {
      tenant: req.tenant,
      query: req.query,
      kind: 'instant' as const,
      queryType: queryTypeOf(expr),
      start: req.time,
      end: req.time,
      step: 0n,
      limit: 0,
    };
    return this.recorded(
      record,
      () => this.runInstant(req, expr),
      () => 0,
    );
  }

  private async runInstant(req: InstantQueryRequest, expr: ReturnType<typeof parseQuery>): Promise<QueryResult<InstantValue>> {
    if (expr.kind === 'log_selector') {
      throw bad('log queries are not supported as an instant query type, please change your query to a range query type');
    }
    return this.execute(req.tenant, req.signal, async (stats): Promise<InstantValue> => {
      const value = await evaluateAt(expr, sampleSource(this.querier, req.tenant, stats), req.time);
      if (value.kind === 'scalar') return { kind: 'scalar', time: req.time, value: value.value };
      checkSeriesLimit(value.samples.length, this.limits.forQuery(req.tenant).max_query_series);
      return { kind: 'vector', time: req.time, samples: value.samples };
    });
  }

  /**
   * The newest `lineLimit` lines of a log query, labels categorized (Drilldown's detected fields and their
   * values). It reads lines as a query does, so it waits for a slot and keeps query_timeout like one.
   */
  async logSample(req: LogSampleRequest): Promise<QueryResult<readonly StreamResult[]>> {
    const expr = parseQuery(req.query);
    if (expr.kind !== 'log_selector') throw bad('only log queries are supported');
    return this.execute(req.tenant, req.signal, (stats) =>
      this.querier.selectLogs(
        req.tenant,
        { selector: expr, from: req.start, through: req.end, direction: 'backward', limit: req.lineLimit, categorize: true },
        stats,
      ),
    );
  }

  /** Runs a query and tells onQuery how it went, answered or failed. */
  private async recorded<V>(
    record: Omit<QueryRecord, 'execSeconds' | 'queueSeconds' | 'stats' | 'returnedLines' | 'error'>,
    run: () => Promise<QueryResult<V>>,
    returnedLines: (v: V) => number,
  ): Promise<QueryResult<V>> {
    const started = process.hrtime.bigint();
    try {
      const result = await run();
      this.onQuery({
        ...record,
        execSeconds: result.execSeconds,
        queueSeconds: result.queueSeconds,
        stats: result.stats,
        returnedLines: returnedLines(result.value),
      });
      return result;
    } catch (error) {
      this.onQuery({ ...record, error, execSeconds: secondsSince(started), queueSeconds: 0, stats: newQueryStats(), returnedLines: 0 });
      throw error;
    }
  }

  /**
   * Runs a validated query under admission control. query_timeout counts from now, waiting included: when
   * it passes, the query's signal aborts and the answer is Loki's timeout at once, without waiting for the
   * read loop to notice. A caller's abort (the client went away) stops it the same way.
   */
  private async execute<V>(tenant: string, callerSignal: AbortSignal | undefined, run: (stats: QueryStats) => Promise<V>): Promise<QueryResult<V>> {
    const received = process.hrtime.bigint();
    const controller = new AbortController();
    const timeout = this.limits.forQuery(tenant).query_timeout;
    // setTimeout takes at most 2^31 - 1 ms (24.8 days) and fires at once past it; a longer timeout is no limit here.
    const timeoutMs = Number(timeout / 1_000_000n);
    const timer = timeout > 0n && timeoutMs <= MAX_TIMER_MS ? setTimeout(() => controller.abort(queryTimeoutError()), timeoutMs) : undefined;
    const onCallerAbort = () => controller.abort(canceled());
    if (callerSignal?.aborted) onCallerAbort();
    else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    // The deadline is also checked by the read loop itself: a query reading memory only never yields to
    // the timer.
    const stats = newQueryStats(timeout, controller.signal);
    try {
      return await this.admission.run(tenant, controller.signal, async () => {
        const admitted = process.hrtime.bigint();
        const value = await run(stats);
        return { value, stats, execSeconds: secondsSince(admitted), queueSeconds: Number(admitted - received) / 1e9 };
      });
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Loki's QueryType: `metric`; a log query with a line or label filter is `filter`, one without `limited`. */
function queryTypeOf(expr: ReturnType<typeof parseQuery>): QueryRecord['queryType'] {
  if (expr.kind !== 'log_selector') return 'metric';
  return expr.pipeline.some((s) => s.kind === 'line_filter' || s.kind === 'label_filter') ? 'filter' : 'limited';
}

const secondsSince = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

/** Evaluates a sample expression at start, start+step, ... <= end: one series per label set seen. */
async function evaluateRange(expr: SampleExpr, source: SampleSource, start: bigint, end: bigint, step: bigint): Promise<MatrixSeries[]> {
  const evaluator = await prepare(expr, source, start, end, step);
  const series = new Map<string, MatrixSeries>();
  for (let ts = start; ts <= end; ts += step) {
    const value = evaluator.at(ts);
    if (value.kind === 'scalar') {
      addPoint(series, SCALAR_KEY, NO_LABELS, ts, value.value);
      continue;
    }
    for (const s of value.samples) addPoint(series, s.key, s.labels, ts, s.value);
  }
  return [...series.values()];
}

const SCALAR_KEY = '{}';
const NO_LABELS: Labels = [];

function addPoint(series: Map<string, MatrixSeries>, key: string, labels: Labels, ts: bigint, value: number): void {
  let s = series.get(key);
  if (!s) series.set(key, (s = { labels, timestamps: [], values: [] }));
  s.timestamps.push(ts);
  s.values.push(value);
}

/** Loki's max_query_series: a metric answer with more series is refused (0 disables). */
function checkSeriesLimit(series: number, limit: number): void {
  if (limit > 0 && series > limit) throw new LokiError('limit', 'max_query_series', `maximum of series (${limit}) reached for a single query`);
}

/** The querier as the engine's sample source, for one query of one tenant. */
function sampleSource(querier: Querier, tenant: string, stats: QueryStats): SampleSource {
  return {
    fold: (fold) => querier.fold(tenant, fold, stats),
    streams: (expr, from, through, grouping) => querier.selectSamples(tenant, expr, from, through, stats, grouping),
  };
}
