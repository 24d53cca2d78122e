import fc from 'fast-check';
import { LokiError } from '@loki-lite/shared';
import { STATUS_BY_KIND } from '../server/http-errors.js';

/*
 * Property-based tests with fast-check, run the same way everywhere: each property is checked once with a
 * fixed seed (the same inputs on every run, so the suite is stable) and once with a fresh seed (new inputs
 * each run, so the suite keeps exploring). A failure prints the counterexample and the seed and path that
 * replay it.
 */

const FIXED_SEED = 20261125;

/** A failed run to go through again: the `seed` and `path` a failure message prints. */
export interface Replay {
  readonly seed: number;
  readonly path: string;
}

export interface PropertyRuns {
  /** Inputs per seed; keep the property to a few seconds on a busy machine. */
  readonly numRuns: number;
  /** Runs only the failing case a message printed (while fixing it); never commit it. */
  readonly replay?: Replay;
}

/** Checks a property (sync or async) with the fixed seed, then with a random one. */
export async function checkProperty<Ts>(property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, runs: PropertyRuns): Promise<void> {
  const check = (params: fc.Parameters<Ts>) =>
    property.isAsync() ? fc.check(property as fc.IAsyncProperty<Ts>, params) : fc.check(property as fc.IProperty<Ts>, params);
  if (runs.replay) {
    report('replayed', await check({ seed: runs.replay.seed, path: runs.replay.path, endOnFailure: true }));
    return;
  }
  report(`fixed seed ${FIXED_SEED}`, await check({ seed: FIXED_SEED, numRuns: runs.numRuns }));
  report('random seed', await check({ numRuns: runs.numRuns }));
}

function report<Ts>(which: string, details: fc.RunDetails<Ts>): void {
  if (!details.failed) return;
  const replay = `{ seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath ?? '')} }`;
  throw new Error(`${which}: ${fc.defaultReportMessage(details)}\n\nTo replay this case, add  replay: ${replay}  to this checkProperty call.`, {
    cause: details.errorInstance,
  });
}

/**
 * The contract of code that reads client input: it succeeds, or throws a LokiError the HTTP layer answers
 * with a 4xx. Anything else (a TypeError, a RangeError from a blown stack, a LokiError that maps to a
 * 5xx) throws here with the cause attached. Returns whether `run` succeeded.
 */
export function succeedsOrClientError(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (e) {
    expectClientError(e);
    return false;
  }
}

/** As succeedsOrClientError, for async code. */
export async function settlesOrClientError(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (e) {
    expectClientError(e);
    return false;
  }
}

function expectClientError(e: unknown): void {
  if (!(e instanceof LokiError)) throw new Error(`threw ${describeError(e)}, not a LokiError`, { cause: e });
  const status = STATUS_BY_KIND[e.kind];
  if (status < 400 || status >= 500) throw new Error(`threw a LokiError of kind ${e.kind} (${status}): ${e.message}`, { cause: e });
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
