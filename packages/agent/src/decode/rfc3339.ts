/*
 * RFC 3339 timestamps read straight from line bytes, as container runtimes write them
 * (`2024-05-01T12:34:56.123456789Z`, or with a `+02:00` offset and any number of fraction digits).
 * The result goes into a reused object as Unix seconds and nanoseconds: no string, no BigInt per line.
 */

export interface Timestamp {
  seconds: number;
  nanos: number;
}

const ZERO = 0x30;
/** SCALE[n]: what a fraction of n digits is multiplied by to become nanoseconds. */
const SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1];

function digits(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = b[i]! - ZERO;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Days from 1970-01-01 to the civil date (proleptic Gregorian), Howard Hinnant's algorithm. */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Parses the timestamp in `b[start, end)` into `out`. Returns false (leaving `out` unspecified) when the
 * bytes are not an RFC 3339 timestamp.
 */
export function parseRFC3339Bytes(b: Uint8Array, start: number, end: number, out: Timestamp): boolean {
  if (end - start < 20) return false;
  if (b[start + 4] !== 0x2d || b[start + 7] !== 0x2d || (b[start + 10] !== 0x54 && b[start + 10] !== 0x74)) return false;
  if (b[start + 13] !== 0x3a || b[start + 16] !== 0x3a) return false;
  const year = digits(b, start, 4);
  const month = digits(b, start + 5, 2);
  const day = digits(b, start + 8, 2);
  const hour = digits(b, start + 11, 2);
  const minute = digits(b, start + 14, 2);
  const second = digits(b, start + 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return false;
  }
  let i = start + 19;
  let nanos = 0;
  if (b[i] === 0x2e) {
    i++;
    const fracStart = i;
    while (i < end && b[i]! >= ZERO && b[i]! <= 0x39) {
      if (i - fracStart < 9) nanos = nanos * 10 + (b[i]! - ZERO);
      i++;
    }
    const n = i - fracStart;
    if (n === 0) return false;
    if (n < 9) nanos *= SCALE[n]!;
  }
  let offset = 0;
  if (i === end - 1 && (b[i] === 0x5a || b[i] === 0x7a)) {
    // Z
  } else if (i === end - 6 && (b[i] === 0x2b || b[i] === 0x2d) && b[i + 3] === 0x3a) {
    const oh = digits(b, i + 1, 2);
    const om = digits(b, i + 4, 2);
    if (oh < 0 || om < 0) return false;
    offset = (oh * 3600 + om * 60) * (b[i] === 0x2b ? 1 : -1);
  } else {
    return false;
  }
  out.seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  out.nanos = nanos;
  return true;
}
