import { parseGoDuration } from './duration.js';

/*
 * Go's readings and printings of numbers and byte sizes as Loki applies them to LogQL values: conversions of
 * label values in label filters, `unwrap` and templates (with Go's error texts, which end up in
 * __error_details__), and the printing of floats and sizes in queries and sample values. They sit below
 * LogQL's syntax, pipelines and engine so that every layer reads and prints a value the same way.
 */

export type Conversion = { ok: true; value: number } | { ok: false; error: string };

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL = /^[+-]?(inf|infinity|nan)$/i;

/** Go's strconv.ParseFloat(s, 64) for the forms log values take (no hex floats or underscores). */
export function goParseFloat(s: string): Conversion {
  const plain = plainDecimal(s);
  if (!Number.isNaN(plain)) return { ok: true, value: plain };
  if (DECIMAL.test(s)) return { ok: true, value: Number(s) };
  if (SPECIAL.test(s)) {
    const lower = s.toLowerCase();
    if (lower.endsWith('nan'))
      return lower === 'nan' ? { ok: true, value: NaN } : { ok: false, error: `strconv.ParseFloat: parsing ${goQuoteValue(s)}: invalid syntax` };
    return { ok: true, value: s[0] === '-' ? -Infinity : Infinity };
  }
  return { ok: false, error: `strconv.ParseFloat: parsing ${goQuoteValue(s)}: invalid syntax` };
}

/** Digits a double holds exactly, with room to spare: 10^15 < 2^53. */
const EXACT_DIGITS = 15;
const POWERS_OF_TEN = Array.from({ length: EXACT_DIGITS + 1 }, (_, k) => 10 ** k);

/**
 * The value of `s` when it is digits with at most one '.' between digits, and maybe a leading '-' (the
 * usual log number, which DECIMAL's regex also accepts), else NaN. Up to EXACT_DIGITS digits, the digits
 * read as an integer and the power of ten of the fraction are exact doubles, so their quotient is the
 * correctly rounded value, as Go's ParseFloat and Number give it (Clinger's fast path) without a call
 * into the runtime; a longer number is read by Number.
 */
function plainDecimal(s: string): number {
  const negative = s.charCodeAt(0) === 45;
  let digits = 0;
  let dot = -1;
  let mantissa = 0;
  for (let i = negative ? 1 : 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      mantissa = mantissa * 10 + (c - 48);
    } else if (c === 46 && dot < 0 && digits > 0) dot = i;
    else return NaN;
  }
  if (digits === 0 || dot === s.length - 1) return NaN;
  if (digits > EXACT_DIGITS) return Number(s);
  const value = dot < 0 ? mantissa : mantissa / POWERS_OF_TEN[s.length - 1 - dot]!;
  return negative ? -value : value;
}

/** Go's time.ParseDuration, in seconds. */
export function goParseDurationSeconds(s: string): Conversion {
  const ns = parseGoDuration(s);
  if (ns === undefined) return { ok: false, error: `time: invalid duration ${goQuoteValue(s)}` };
  return { ok: true, value: Number(ns) / 1e9 };
}

/** go-humanize's byte units: SI for `kB`/`MB`, binary for `KiB`/`MiB`, case-insensitive. */
const HUMAN_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 2 ** 10,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mi: 2 ** 20,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gi: 2 ** 30,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  ti: 2 ** 40,
  tib: 2 ** 40,
  p: 1e15,
  pb: 1e15,
  pi: 2 ** 50,
  pib: 2 ** 50,
  e: 1e18,
  eb: 1e18,
  ei: 2 ** 60,
  eib: 2 ** 60,
};

/** go-humanize's ParseBytes, as Loki reads byte sizes in queries and label values. */
export function humanBytes(s: string): Conversion {
  let end = 0;
  while (end < s.length && /[0-9.,]/.test(s[end]!)) end++;
  const num = s.slice(0, end).replaceAll(',', '');
  const parsed = goParseFloat(num);
  if (!parsed.ok) return parsed;
  const unit = HUMAN_UNITS[s.slice(end).trim().toLowerCase()];
  if (unit === undefined) return { ok: false, error: `unhandled size name: ${s.slice(end).trim().toLowerCase()}` };
  const value = parsed.value * unit;
  if (value >= 2 ** 64) return { ok: false, error: 'too large' };
  return { ok: true, value: Math.trunc(value) };
}

export function parseHumanBytes(s: string): number | undefined {
  const c = humanBytes(s);
  return c.ok ? c.value : undefined;
}

/** fmt's %v of a float64: shortest digits, exponent form below 1e-4 and from 1e6 up (as 1e+06). */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, e] = f.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(f);
}

/**
 * A float as Go's strconv.FormatFloat(v, 'f', -1, 64) prints it, which is how Loki writes sample values:
 * the shortest digits that read back exactly, never in exponent form; NaN, +Inf, -Inf.
 */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // JavaScript switches to exponent form below 1e-6 and from 1e21; expand the shortest digits instead.
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e).replace('.', '');
  const intDigits = (s.slice(negative ? 1 : 0, e).split('.')[0] ?? '').length;
  const point = intDigits + Number(s.slice(e + 1));
  const digits =
    point <= 0
      ? '0.' + '0'.repeat(-point) + mantissa
      : point >= mantissa.length
        ? mantissa + '0'.repeat(point - mantissa.length)
        : mantissa.slice(0, point) + '.' + mantissa.slice(point);
  return (negative ? '-' : '') + digits;
}

/**
 * fmt's %.Nf (strconv.FormatFloat(v, 'f', N, 64)): the exact value rounded to N decimals, a tie to the even
 * digit. JavaScript's toFixed rounds a tie (2.25 to one decimal) away from zero instead, so ties are found
 * in the exact expansion (a tie at N+1 digits is an expansion that ends there with a 5) and redone.
 */
export function formatGoFixed(v: number, decimals: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  const abs = Math.abs(v);
  // From 1e21 toFixed switches to exponent form; such a double is an integer.
  if (abs >= 1e21) return sign + BigInt(abs).toString() + (decimals > 0 ? '.' + '0'.repeat(decimals) : '');
  const rounded = abs.toFixed(decimals);
  if (decimals >= 99) return sign + rounded;
  const fraction = (abs.toFixed(100).split('.')[1] ?? '').replace(/0+$/, '');
  const tie = fraction.length === decimals + 1 && fraction.endsWith('5');
  if (!tie) return sign + rounded;
  // toFixed went away from zero; Go keeps the truncated digits when their last one is even.
  const truncated = abs.toFixed(decimals + 1).slice(0, decimals === 0 ? -2 : -1);
  return sign + (Number(truncated[truncated.length - 1]) % 2 === 0 ? truncated : rounded);
}

/** Go's %q of a short ASCII-ish value, enough for error details. */
function goQuoteValue(s: string): string {
  return JSON.stringify(s);
}
