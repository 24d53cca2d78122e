/** The kinds of line a generator makes; `mixed` takes them in turn. */
export const LINE_TEMPLATES = ['mixed', 'logfmt', 'nccl', 'json', 'access'] as const;
export type LineTemplate = (typeof LINE_TEMPLATES)[number];
const KIND: Readonly<Record<Exclude<LineTemplate, 'mixed'>, number>> = { logfmt: 0, nccl: 1, json: 2, access: 3 };
/** In `mixed`, one line in this many is a rare failure line (an NCCL watchdog timeout or a Python traceback, in turn). */
export const RARE_LINE_EVERY = 20_000;

/**
 * Log lines shaped like a distributed-training cluster's (logfmt trainer steps, NCCL, JSON data loader,
 * nginx access), deterministic for a seed so runs are comparable. With `lineBytes`, each line is cut or
 * padded (with spaces and a counter of x's) to exactly that many bytes. In `mixed`, line RARE_LINE_EVERY - 1
 * and every RARE_LINE_EVERY-th after it is a failure line instead (0.005% of lines, half of them with
 * `Traceback`): the needle a user searches for.
 */
export class LineGenerator {
  private state: number;

  constructor(
    seed: number,
    private readonly template: LineTemplate = 'mixed',
    private readonly lineBytes = 0,
  ) {
    this.state = seed >>> 0 || 1;
  }

  private rand(): number {
    // xorshift32
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x100000000;
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  line(seq: number, tsIso: string): string {
    let line = this.templated(this.template === 'mixed' ? seq % 4 : KIND[this.template], seq, tsIso);
    // The usual line is made first all the same, so the random sequence, and so every other line, is unchanged.
    if (this.template === 'mixed' && seq % RARE_LINE_EVERY === RARE_LINE_EVERY - 1) line = rareLine(seq, tsIso);
    if (this.lineBytes === 0) return line;
    return line.length >= this.lineBytes ? line.slice(0, this.lineBytes) : `${line} ${'x'.repeat(this.lineBytes - line.length - 1)}`;
  }

  private templated(kind: number, seq: number, tsIso: string): string {
    switch (kind) {
      case 0:
        return `level=info ts=${tsIso} rank=${this.int(64)} step=${seq} loss=${(2 * this.rand()).toFixed(4)} lr=${(3e-4 * this.rand()).toExponential(3)} grad_norm=${(1.5 * this.rand()).toFixed(3)} tokens_per_sec=${9000 + this.int(6000)} gpu_mem_gb=${(60 + 20 * this.rand()).toFixed(1)} msg="train step"`;
      case 1:
        return `NCCL INFO [Rank ${this.int(64)}] Channel ${this.int(32)}/32 : ${this.int(64)}[${this.int(8)}] -> ${this.int(64)}[${this.int(8)}] via P2P/IPC/read comm ${this.int(1 << 30).toString(16)} nRanks 64`;
      case 2:
        return JSON.stringify({
          level: this.rand() < 0.05 ? 'warn' : 'info',
          ts: tsIso,
          component: 'dataloader',
          shard: this.int(4096),
          bytes: this.int(1 << 26),
          latency_ms: Math.round(1000 * this.rand()),
          msg: 'fetched shard from s3',
        });
      default:
        return `10.0.${this.int(8)}.${this.int(255)} - - [${tsIso}] "POST /loki/api/v1/push HTTP/1.1" ${this.rand() < 0.02 ? 500 : 204} 0 "-" "Alloy/v1.5.0" ${(this.rand() / 10).toFixed(3)}`;
    }
  }
}

/** A failure line: deterministic, no random draws. */
function rareLine(seq: number, tsIso: string): string {
  const nth = Math.floor(seq / RARE_LINE_EVERY);
  if (nth % 2 === 0) {
    return `NCCL WARN [Rank ${nth % 64}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=${seq}, OpType=ALLREDUCE, Timeout(ms)=1800000) ran for 1800${String(nth % 1000).padStart(3, '0')} milliseconds before timing out`;
  }
  return `level=error ts=${tsIso} rank=${nth % 64} msg="Traceback (most recent call last): File \\"train.py\\", line 412, in <module>: RuntimeError: CUDA error: an illegal memory access was encountered"`;
}
