import { countError, type ErrorsByStatus, networkReason, percentile } from './report.js';

/*
 * Query load for the ingest bench (--query-load): clients that each run one instant query (time=now) back to
 * back, so push latency can be read while queries run. When stopped they start no new query and wait for
 * the ones running: dropping those would leave out the slowest answers.
 */

/** The default load query: every line of the bench's streams parsed as logfmt and counted per pod. */
export const HEAVY_QUERY = 'sum by (pod) (count_over_time({app="bench"} | logfmt | __error__="" [24h]))';

export interface QueryLoad {
  /** Queries answered 200 so far. */
  completed(): number;
  /** Stops the clients once their running queries answer; the figures, as result fields. */
  stop(): Promise<Record<string, unknown>>;
}

export function startQueryLoad(url: string, clients: number, logql: string, headers: Record<string, string>): QueryLoad {
  const target = `${url.replace(/\/$/, '')}/loki/api/v1/query`;
  const latencies: number[] = [];
  const errors: ErrorsByStatus = new Map();
  let completed = 0;
  let stopping = false;
  const client = async () => {
    while (!stopping) {
      const t = performance.now();
      try {
        const res = await fetch(`${target}?${new URLSearchParams({ query: logql, time: String(Date.now() / 1000) })}`, { headers });
        const text = await res.text();
        latencies.push(performance.now() - t);
        if (res.status === 200) completed++;
        else countError(errors, String(res.status), `HTTP ${res.status}: ${text.trim().slice(0, 300)}`);
      } catch (e) {
        countError(errors, 'network', networkReason(e));
        return; // the server is gone: asking again at once would only spin
      }
    }
  };
  const running = Promise.all(Array.from({ length: clients }, client));
  return {
    completed: () => completed,
    stop: async () => {
      stopping = true;
      await running;
      const sorted = Float64Array.from(latencies).sort();
      return {
        'query clients': clients,
        'load query': logql,
        'queries completed': completed,
        'query latency p50 ms': percentile(sorted, 0.5),
        'query latency p99 ms': percentile(sorted, 0.99),
        'query errors': Object.fromEntries(errors),
      };
    },
  };
}
