/* How the bench tools talk: a progress line on stderr while they run, and the result on stdout. */

/** Rewrites one status line on stderr every second (a new line each 10 s when stderr is not a terminal). */
export class Progress {
  private readonly timer: NodeJS.Timeout;
  private ticks = 0;
  private stopped = false;

  constructor(status: () => string) {
    const tty = process.stderr.isTTY === true;
    this.timer = setInterval(() => {
      this.ticks++;
      if (tty) process.stderr.write(`\r${status()}\u001b[K`);
      else if (this.ticks % 10 === 0) process.stderr.write(`${status()}\n`);
    }, 1000);
    this.timer.unref();
  }

  /** Stops, clearing the status line so what is printed next starts on a clean line; calling it again is harmless. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    if (process.stderr.isTTY && this.ticks > 0) process.stderr.write('\r\u001b[K');
  }
}

/** The result: JSON with `json`, else `name: value` lines, a list of records as indented `- name: value` items. */
export function printResult(result: Record<string, unknown>, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(formatRecord(result, '').join('\n'));
}

function formatRecord(record: Record<string, unknown>, indent: string): string[] {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  const out: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (Array.isArray(v) && v.every((item) => typeof item === 'object' && item !== null)) {
      out.push(`${indent}${k}:`);
      for (const item of v as Array<Record<string, unknown>>) {
        const lines = formatRecord(item, `${indent}    `);
        out.push(`${indent}  - ${lines[0]!.trimStart()}`, ...lines.slice(1));
      }
    } else {
      out.push(`${indent}${`${k}:`.padEnd(width + 1)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    }
  }
  return out;
}

/** Why a request did not get an answer: fetch puts the network error (ECONNREFUSED, ...) in `cause`. */
export function networkReason(e: unknown): string {
  const err = e as Error;
  return (err.cause as Error | undefined)?.message ?? err.message;
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The p-th quantile (0 < p < 1) of ascending values, to 0.1; 0 for none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length === 0 ? 0 : Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1));
}

/** Failed requests by status ("429", "network"): how many, and the first one's text. */
export type ErrorsByStatus = Map<string, { count: number; first: string }>;

export function countError(errors: ErrorsByStatus, status: string, text: string): void {
  const seen = errors.get(status);
  if (seen) seen.count++;
  else errors.set(status, { count: 1, first: text });
}
