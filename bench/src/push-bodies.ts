import { type PushRequest, type PushStream } from '@loki-lite/shared';
import { LineGenerator, type LineTemplate } from './loglines.js';

/* The bench's push bodies (ingest, transport): the generator's lines cut into requests, encoded by the caller. */

/** What the requests look like. */
export interface BodyShape {
  readonly streams: number;
  readonly template: LineTemplate;
  /** Cut or pad every line to this size; 0 keeps the generator's. */
  readonly lineBytes: number;
  readonly linesPerPush: number;
  /** Line bytes per request at most (Infinity: only linesPerPush counts). */
  readonly batchBytes: number;
  /** Lines in all at most (Infinity: only the bytes count). */
  readonly totalLines: number;
}

export interface Requests {
  readonly bodies: Buffer[];
  /** Lines and line bytes in each body, to count what was sent when a run stops early. */
  readonly lines: Uint32Array;
  readonly bytes: Float64Array;
}

/**
 * Builds every request body for `targetBytes` of lines: streams take turns, lines are stamped 1 µs apart
 * from `startMs` (ingest's timed load an hour ago, its preload two hours ago, so it is older than all of it).
 */
export function buildRequests(o: BodyShape, targetBytes: number, startMs: number, encode: (req: PushRequest) => Buffer): Requests {
  const gen = new LineGenerator(42, o.template, o.lineBytes);
  const start = BigInt(startMs) * 1_000_000n;
  const bodies: Buffer[] = [];
  const lines: number[] = [];
  const bytes: number[] = [];
  let seq = 0;
  let sentBytes = 0;
  const perStream = Math.max(1, Math.floor(o.linesPerPush / Math.min(o.streams, o.linesPerPush)));
  let nextStream = 0;
  while (sentBytes < targetBytes && seq < o.totalLines) {
    const batch: PushStream[] = [];
    let n = 0;
    let batchBytes = 0;
    while (n < o.linesPerPush && batchBytes < o.batchBytes && seq < o.totalLines) {
      const s = nextStream++ % o.streams;
      const entries = [];
      for (let k = 0; k < perStream && seq < o.totalLines; k++, n++) {
        const ts = start + BigInt(seq) * 1_000n;
        const line = gen.line(seq++, new Date(Number(ts / 1_000_000n)).toISOString());
        entries.push({ timestamp: ts, line, structuredMetadata: [] });
        batchBytes += Buffer.byteLength(line);
      }
      batch.push({ labels: `{namespace="training", app="bench", pod="worker-${s}", container="trainer", job="training/trainer"}`, entries });
    }
    bodies.push(encode({ streams: batch }));
    lines.push(n);
    bytes.push(batchBytes);
    sentBytes += batchBytes;
  }
  return { bodies, lines: Uint32Array.from(lines), bytes: Float64Array.from(bytes) };
}
