import { NANOS_PER_SECOND } from '../logql-time/timestamp.js';

/*
 * The ingest path keeps a timestamp as two numbers, as protobuf's Timestamp carries it: whole seconds since
 * the epoch, and nanoseconds in [0, 1e9). A BigInt of nanoseconds per line would be a heap object per line
 * and a builtin call per comparison; two numbers are neither. Timestamps become BigInts only where they
 * leave the ingest path (queries, error texts).
 */

const NANOS = 1e9;
/** 1e9 = 1953125 * 512: splitting by 512 keeps every product below 2^53 (see writeInt64Parts). */
const NANOS_ODD = 1953125;
const TWO_POW_23 = 8388608;
const TWO_POW_32 = 4294967296;

/** Negative when a is earlier than b, 0 when equal, positive when later. */
export function compareParts(aSeconds: number, aNanos: number, bSeconds: number, bNanos: number): number {
  return aSeconds - bSeconds || aNanos - bNanos;
}

export function nanosOfParts(seconds: number, nanos: number): bigint {
  return BigInt(seconds) * NANOS_PER_SECOND + BigInt(nanos);
}

/** The whole seconds of a nanosecond timestamp, rounded down (so the nanoseconds part is never negative). */
export function secondsOf(ns: bigint): number {
  const s = ns / NANOS_PER_SECOND;
  return Number(ns < 0n && s * NANOS_PER_SECOND !== ns ? s - 1n : s);
}

/** The nanoseconds part, in [0, 1e9), of a nanosecond timestamp. */
export function nanosPartOf(ns: bigint): number {
  const r = Number(ns % NANOS_PER_SECOND);
  return r < 0 ? r + NANOS : r;
}

/**
 * Writes timestamp k of seconds/nanos columns, seconds * 1e9 + nanos, as a little-endian int64 at buf[pos].
 * For seconds in [0, 2^32) (1970 to 2106) it is exact in doubles: with m = seconds * 1953125 +
 * floor(nanos / 512) (below 2^53) and r = nanos % 512, the value is m * 512 + r, whose 32-bit halves are
 * floor(m / 2^23) and (m mod 2^23) * 512 + r. Other dates go through a BigInt.
 *
 * It takes the columns, not the two numbers, because it runs once per ingested line: the seconds are
 * doubles, and a double passed to a function V8 does not inline is boxed, a heap object per line.
 */
export function writeInt64Parts(buf: Buffer, pos: number, secondsColumn: Float64Array, nanosColumn: Int32Array, k: number): void {
  const seconds = secondsColumn[k]!;
  const nanos = nanosColumn[k]!;
  if (seconds >= 0 && seconds < TWO_POW_32) {
    const low9 = nanos % 512;
    const m = seconds * NANOS_ODD + (nanos - low9) / 512;
    const hi = Math.floor(m / TWO_POW_23);
    const lo = (m - hi * TWO_POW_23) * 512 + low9;
    buf[pos] = lo & 0xff;
    buf[pos + 1] = (lo >>> 8) & 0xff;
    buf[pos + 2] = (lo >>> 16) & 0xff;
    buf[pos + 3] = lo >>> 24;
    buf[pos + 4] = hi & 0xff;
    buf[pos + 5] = (hi >>> 8) & 0xff;
    buf[pos + 6] = (hi >>> 16) & 0xff;
    buf[pos + 7] = hi >>> 24;
  } else {
    buf.writeBigInt64LE(nanosOfParts(seconds, nanos), pos);
  }
}
