/** Timestamps are bigint nanoseconds since the Unix epoch throughout loki-lite. */
export type Nanos = bigint;

export const NANOS_PER_MS = 1_000_000n;
export const NANOS_PER_SECOND = 1_000_000_000n;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export class TimestampParseError extends Error {
  override readonly name = 'TimestampParseError';
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** RFC3339 with optional fractional seconds (Go's time.RFC3339Nano layout), to ns. */
export function parseRFC3339(s: string): Nanos | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, , sign, oh, om] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (Number.isNaN(ms)) return undefined;
  let ns = BigInt(ms) * NANOS_PER_MS + BigInt((frac ?? '').padEnd(9, '0') || '0');
  if (sign) {
    const offset = BigInt(Number(oh) * 3600 + Number(om) * 60) * NANOS_PER_SECOND;
    ns += sign === '+' ? -offset : offset;
  }
  return ns;
}

/**
 * A query timestamp as Loki's HTTP API reads it (loghttp parseTimestamp): a value with a dot is float
 * seconds (rounded to the millisecond), an integer of up to 10 digits is seconds, a longer one nanoseconds,
 * anything else RFC3339. Empty gives `fallback`.
 */
export function parseQueryTimestamp(value: string | undefined, fallback: Nanos): Nanos {
  if (value === undefined || value === '') return fallback;
  if (value.includes('.')) {
    const f = Number(value);
    if (value.trim() !== '' && Number.isFinite(f)) {
      const whole = Math.trunc(f);
      const frac = Math.round((f - whole) * 1000) / 1000;
      const ns = BigInt(whole) * NANOS_PER_SECOND + BigInt(Math.round(frac * 1e9));
      // Go converts such a float to int64 with an undefined result; here a time 1e300 seconds out made
      // every range loop over it run for ever.
      if (ns > INT64_MAX || ns < INT64_MIN) throw new TimestampParseError(`cannot parse "${value}" to a valid timestamp`);
      return ns;
    }
  }
  if (/^[+-]?\d+$/.test(value)) {
    const n = BigInt(value);
    if (n > INT64_MAX || n < INT64_MIN) {
      throw new TimestampParseError(`strconv.ParseInt: parsing "${value}": value out of range`);
    }
    return value.length <= 10 ? n * NANOS_PER_SECOND : n;
  }
  const t = parseRFC3339(value);
  if (t !== undefined) return t;
  throw new TimestampParseError(`cannot parse "${value}" to a valid timestamp`);
}

/** Formats ns as RFC3339 with trailing zeros of the fraction removed (Go's RFC3339Nano). */
export function formatRFC3339Nano(ns: Nanos): string {
  const ms = ns / NANOS_PER_MS;
  let sub = ns % NANOS_PER_SECOND;
  if (sub < 0n) sub += NANOS_PER_SECOND;
  const base = new Date(Number(ms - (ms % 1000n) - (ns < 0n && sub !== 0n ? 1000n : 0n))).toISOString().slice(0, 19);
  const frac = sub === 0n ? '' : '.' + sub.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac}Z`;
}

/** Formats ns in Go's time.RFC3339 layout: whole seconds (floored, also before 1970), `2026-11-20T01:05:00Z`. */
export function formatRFC3339(ns: Nanos): string {
  const sub = ((ns % NANOS_PER_SECOND) + NANOS_PER_SECOND) % NANOS_PER_SECOND;
  return formatRFC3339Nano(ns - sub);
}

/** Formats ns like Go's time.Time.String() in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function formatGoTime(ns: Nanos): string {
  const iso = formatRFC3339Nano(ns);
  return iso.replace('T', ' ').replace('Z', ' +0000 UTC');
}

export function nowNanos(): Nanos {
  return BigInt(Date.now()) * NANOS_PER_MS;
}
