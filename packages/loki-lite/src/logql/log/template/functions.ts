import { compileGoRegex, formatGoFloat, formatGoFixed, goParseDurationSeconds, humanBytes } from '@loki-lite/shared';
import { formatGoLayout, parseGoLayout } from './go-time.js';

/*
 * The functions Loki registers for line_format and label_format (its own, the sprig subset it allows, and
 * Go's builtins), with Go's value semantics: ints (bigint here) and floats (number) print differently,
 * sprig's casts turn unparsable strings into 0, a missing label is "".
 */

/** A time.Time, as ns since the epoch (UTC). */
export class GoTime {
  constructor(readonly ns: bigint) {}
}

export type GoValue = string | number | bigint | boolean | null | GoTime | ReadonlyMap<string, unknown> | readonly unknown[];

/** fmt.Sprint of a value. */
export function printValue(v: GoValue | undefined): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return formatGoFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof GoTime) return formatGoLayout(v.ns, '2006-01-02 15:04:05.999999999 -0700 MST');
  if (v instanceof Map) return `map[${[...v].map(([k, x]) => `${k}:${printValue(x as GoValue)}`).join(' ')}]`;
  return `[${(v as unknown[]).map((x) => printValue(x as GoValue)).join(' ')}]`;
}

/** text/template's truth: zero values are false. */
export function truth(v: GoValue | undefined): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v !== '';
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (v instanceof GoTime) return true;
  if (v instanceof Map) return v.size > 0;
  return (v as unknown[]).length > 0;
}

/** sprig's toInt64 (spf13/cast): strings parsed as integers (base prefixes allowed), anything else 0. */
function toInt(v: GoValue | undefined): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') {
    const s = v.replace(/\.0*$/, '');
    if (/^[+-]?(0x[0-9a-f]+|0o?[0-7]+|0b[01]+|\d+)$/i.test(s)) {
      const neg = s.startsWith('-');
      const body = s.replace(/^[+-]/, '').replace(/^0(?=[0-7])/, '0o');
      try {
        const n = BigInt(body);
        return neg ? -n : n;
      } catch {
        return 0n;
      }
    }
  }
  return 0n;
}

function toFloat(v: GoValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v.trim() === '' ? 'x' : v);
    return Number.isNaN(n) ? 0 : n;
  }
  return 0;
}

function str(v: GoValue | undefined): string {
  return typeof v === 'string' ? v : printValue(v);
}

function cmpValues(a: GoValue | undefined, b: GoValue | undefined): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = typeof a === 'bigint' ? Number(a) : toFloat(a);
  const y = typeof b === 'bigint' ? Number(b) : toFloat(b);
  if (typeof a !== typeof b && !(isNumeric(a) && isNumeric(b))) throw new Error('incompatible types for comparison');
  return x < y ? -1 : x > y ? 1 : 0;
}

const isNumeric = (v: unknown) => typeof v === 'number' || typeof v === 'bigint';

function equal(a: GoValue | undefined, b: GoValue | undefined): boolean {
  if (isNumeric(a) && isNumeric(b)) return Number(a) === Number(b);
  if (typeof a !== typeof b) throw new Error('incompatible types for comparison');
  return a === b;
}

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase());
}

function goTrim(s: string, cutset: string, left: boolean, right: boolean): string {
  let a = 0;
  let b = s.length;
  if (left) while (a < b && cutset.includes(s[a]!)) a++;
  if (right) while (b > a && cutset.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function timeOf(v: GoValue | undefined): GoTime {
  if (v instanceof GoTime) return v;
  if (typeof v === 'bigint' || typeof v === 'number') return new GoTime(BigInt(Math.trunc(Number(v))) * 1_000_000_000n);
  return new GoTime(0n);
}

type Fn = (args: GoValue[]) => GoValue;

const arity =
  (name: string, n: number, fn: Fn): Fn =>
  (args) => {
    if (args.length !== n) throw new Error(`wrong number of args for ${name}: want ${n} got ${args.length}`);
    return fn(args);
  };

const entries: Array<[string, Fn]> = [
  // Go's builtins
  ['eq', (a) => a.slice(1).some((b) => equal(a[0], b))],
  ['ne', arity('ne', 2, ([a, b]) => !equal(a, b))],
  ['lt', arity('lt', 2, ([a, b]) => cmpValues(a, b) < 0)],
  ['le', arity('le', 2, ([a, b]) => cmpValues(a, b) <= 0)],
  ['gt', arity('gt', 2, ([a, b]) => cmpValues(a, b) > 0)],
  ['ge', arity('ge', 2, ([a, b]) => cmpValues(a, b) >= 0)],
  ['and', (a) => a.find((v) => !truth(v)) ?? a[a.length - 1] ?? null],
  ['or', (a) => a.find((v) => truth(v)) ?? a[a.length - 1] ?? null],
  ['not', arity('not', 1, ([a]) => !truth(a))],
  ['len', arity('len', 1, ([a]) => BigInt(typeof a === 'string' ? Buffer.byteLength(a) : a instanceof Map ? a.size : Array.isArray(a) ? a.length : 0))],
  ['print', (a) => a.map(str).join('')],
  ['println', (a) => `${a.map(str).join(' ')}\n`],
  ['printf', (a) => goSprintf(str(a[0]), a.slice(1))],
  ['urlquery', (a) => encodeURIComponent(a.map(str).join(''))],
  // Loki's own
  ['ToLower', arity('ToLower', 1, ([s]) => str(s).toLowerCase())],
  ['ToUpper', arity('ToUpper', 1, ([s]) => str(s).toUpperCase())],
  ['Replace', arity('Replace', 4, ([s, o, n, c]) => goReplace(str(s), str(o), str(n), Number(toInt(c))))],
  ['Trim', arity('Trim', 2, ([s, c]) => goTrim(str(s), str(c), true, true))],
  ['TrimLeft', arity('TrimLeft', 2, ([s, c]) => goTrim(str(s), str(c), true, false))],
  ['TrimRight', arity('TrimRight', 2, ([s, c]) => goTrim(str(s), str(c), false, true))],
  ['TrimPrefix', arity('TrimPrefix', 2, ([s, p]) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)))],
  ['TrimSuffix', arity('TrimSuffix', 2, ([s, p]) => (str(p) !== '' && str(s).endsWith(str(p)) ? str(s).slice(0, -str(p).length) : str(s)))],
  ['TrimSpace', arity('TrimSpace', 1, ([s]) => str(s).trim())],
  ['regexReplaceAll', arity('regexReplaceAll', 3, ([re, s, repl]) => regexReplace(str(re), str(s), str(repl), false))],
  ['regexReplaceAllLiteral', arity('regexReplaceAllLiteral', 3, ([re, s, repl]) => regexReplace(str(re), str(s), str(repl), true))],
  ['count', arity('count', 2, ([re, s]) => BigInt([...str(s).matchAll(globalRegex(str(re)))].length))],
  ['urldecode', arity('urldecode', 1, ([s]) => decodeURIComponent(str(s).replace(/\+/g, ' ')))],
  ['urlencode', arity('urlencode', 1, ([s]) => encodeURIComponent(str(s)).replace(/%20/g, '+'))],
  [
    'bytes',
    arity('bytes', 1, ([s]) => {
      const c = humanBytes(str(s));
      if (!c.ok) throw new Error(c.error);
      return c.value;
    }),
  ],
  ['duration', arity('duration', 1, ([s]) => durationSeconds(str(s)))],
  ['duration_seconds', arity('duration_seconds', 1, ([s]) => durationSeconds(str(s)))],
  ['unixEpochMillis', arity('unixEpochMillis', 1, ([t]) => timeOf(t).ns / 1_000_000n)],
  ['unixEpochNanos', arity('unixEpochNanos', 1, ([t]) => timeOf(t).ns)],
  ['unixToTime', arity('unixToTime', 1, ([s]) => unixToTime(str(s)))],
  ['toDateInZone', arity('toDateInZone', 3, ([layout, _zone, s]) => new GoTime(parseGoLayout(str(layout), str(s)) ?? 0n))],
  ['alignLeft', arity('alignLeft', 2, ([n, s]) => align(Number(toInt(n)), str(s), false))],
  ['alignRight', arity('alignRight', 2, ([n, s]) => align(Number(toInt(n)), str(s), true))],
  ['b64enc', arity('b64enc', 1, ([s]) => Buffer.from(str(s)).toString('base64'))],
  ['b64dec', arity('b64dec', 1, ([s]) => Buffer.from(str(s), 'base64').toString('utf8'))],
  // sprig
  ['lower', arity('lower', 1, ([s]) => str(s).toLowerCase())],
  ['upper', arity('upper', 1, ([s]) => str(s).toUpperCase())],
  ['title', arity('title', 1, ([s]) => title(str(s)))],
  [
    'trunc',
    arity('trunc', 2, ([c, s]) => {
      const n = Number(toInt(c));
      const v = str(s);
      if (n < 0 && v.length + n > 0) return v.slice(v.length + n);
      if (n >= 0 && v.length > n) return v.slice(0, n);
      return v;
    }),
  ],
  [
    'substr',
    arity('substr', 3, ([a, b, s]) => {
      const v = str(s);
      const start = Number(toInt(a));
      const end = Number(toInt(b));
      if (start < 0) return v.slice(0, end);
      if (end < 0 || end > v.length) return v.slice(start);
      return v.slice(start, end);
    }),
  ],
  ['contains', arity('contains', 2, ([sub, s]) => str(s).includes(str(sub)))],
  ['hasPrefix', arity('hasPrefix', 2, ([p, s]) => str(s).startsWith(str(p)))],
  ['hasSuffix', arity('hasSuffix', 2, ([p, s]) => str(s).endsWith(str(p)))],
  ['indent', arity('indent', 2, ([n, s]) => indent(Number(toInt(n)), str(s)))],
  ['nindent', arity('nindent', 2, ([n, s]) => `\n${indent(Number(toInt(n)), str(s))}`)],
  ['replace', arity('replace', 3, ([o, n, s]) => str(s).replaceAll(str(o), str(n)))],
  ['repeat', arity('repeat', 2, ([n, s]) => str(s).repeat(Math.max(0, Number(toInt(n)))))],
  ['trim', arity('trim', 1, ([s]) => str(s).trim())],
  ['trimAll', arity('trimAll', 2, ([c, s]) => goTrim(str(s), str(c), true, true))],
  ['trimSuffix', arity('trimSuffix', 2, ([p, s]) => (str(s).endsWith(str(p)) && str(p) !== '' ? str(s).slice(0, -str(p).length) : str(s)))],
  ['trimPrefix', arity('trimPrefix', 2, ([p, s]) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)))],
  ['int', arity('int', 1, ([v]) => toInt(v))],
  ['float64', arity('float64', 1, ([v]) => toFloat(v))],
  ['add', (a) => a.reduce<bigint>((s, v) => s + toInt(v), 0n)],
  ['sub', arity('sub', 2, ([a, b]) => toInt(a) - toInt(b))],
  ['mul', (a) => a.reduce<bigint>((s, v) => s * toInt(v), 1n)],
  [
    'div',
    arity('div', 2, ([a, b]) => {
      if (toInt(b) === 0n) throw new Error('runtime error: integer divide by zero');
      return toInt(a) / toInt(b);
    }),
  ],
  [
    'mod',
    arity('mod', 2, ([a, b]) => {
      if (toInt(b) === 0n) throw new Error('runtime error: integer divide by zero');
      return toInt(a) % toInt(b);
    }),
  ],
  ['addf', (a) => a.reduce<number>((s, v) => s + toFloat(v), 0)],
  ['subf', (a) => a.slice(1).reduce<number>((s, v) => s - toFloat(v), toFloat(a[0]))],
  ['mulf', (a) => a.reduce<number>((s, v) => s * toFloat(v), 1)],
  ['divf', (a) => a.slice(1).reduce<number>((s, v) => s / toFloat(v), toFloat(a[0]))],
  ['max', (a) => a.map(toInt).reduce((m, v) => (v > m ? v : m))],
  ['min', (a) => a.map(toInt).reduce((m, v) => (v < m ? v : m))],
  ['maxf', (a) => Math.max(...a.map(toFloat))],
  ['minf', (a) => Math.min(...a.map(toFloat))],
  ['ceil', arity('ceil', 1, ([v]) => Math.ceil(toFloat(v)))],
  ['floor', arity('floor', 1, ([v]) => Math.floor(toFloat(v)))],
  [
    'round',
    (a) => {
      const p = a.length > 1 ? Number(toInt(a[1])) : 0;
      const f = 10 ** p;
      return Math.round(toFloat(a[0]) * f) / f;
    },
  ],
  ['fromJson', arity('fromJson', 1, ([s]) => fromJson(str(s)))],
  ['date', arity('date', 2, ([layout, t]) => formatGoLayout(timeOf(t).ns, str(layout)))],
  ['toDate', arity('toDate', 2, ([layout, s]) => new GoTime(parseGoLayout(str(layout), str(s)) ?? 0n))],
  ['now', () => new GoTime(BigInt(Date.now()) * 1_000_000n)],
  ['unixEpoch', arity('unixEpoch', 1, ([t]) => (timeOf(t).ns / 1_000_000_000n).toString())],
  [
    'default',
    (a) => {
      const given = a.length > 1 ? a[a.length - 1] : undefined;
      return truth(given) ? given! : a[0]!;
    },
  ],
];

export const FUNCTIONS: ReadonlyMap<string, Fn> = new Map(entries);

function durationSeconds(s: string): number {
  const c = goParseDurationSeconds(s);
  if (!c.ok) throw new Error(c.error);
  return c.value;
}

function unixToTime(s: string): GoTime {
  const n = BigInt(/^-?\d+$/.test(s) ? s : '0');
  const digits = s.replace('-', '').length;
  // Loki reads the precision from the number of digits: s, ms, µs or ns.
  if (digits <= 10) return new GoTime(n * 1_000_000_000n);
  if (digits <= 13) return new GoTime(n * 1_000_000n);
  if (digits <= 16) return new GoTime(n * 1_000n);
  return new GoTime(n);
}

function align(n: number, s: string, right: boolean): string {
  const chars = [...s];
  if (n < 0) return s;
  if (chars.length >= n) return right ? chars.slice(chars.length - n).join('') : chars.slice(0, n).join('');
  return right ? ' '.repeat(n - chars.length) + s : s + ' '.repeat(n - chars.length);
}

function indent(n: number, s: string): string {
  const pad = ' '.repeat(Math.max(0, n));
  return pad + s.replaceAll('\n', `\n${pad}`);
}

function goReplace(s: string, old: string, rep: string, n: number): string {
  if (n < 0) return s.replaceAll(old, rep);
  let out = s;
  let from = 0;
  for (let i = 0; i < n; i++) {
    const at = out.indexOf(old, from);
    if (at < 0) break;
    out = out.slice(0, at) + rep + out.slice(at + old.length);
    from = at + rep.length;
  }
  return out;
}

function globalRegex(re: string): RegExp {
  const r = compileGoRegex(re, false);
  return new RegExp(r.source, r.flags.includes('g') ? r.flags : `${r.flags}g`);
}

/** Go's Regexp.ReplaceAllString ($1/${name} expanded) or ReplaceAllLiteralString. */
function regexReplace(re: string, s: string, repl: string, literal: boolean): string {
  const g = globalRegex(re);
  if (literal) return s.replace(g, () => repl);
  return s.replace(g, (...m: unknown[]) => {
    const groups = (typeof m[m.length - 1] === 'object' ? m[m.length - 1] : undefined) as Record<string, string> | undefined;
    return repl.replace(/\$(\$|\{([a-zA-Z0-9_]+)\}|([a-zA-Z0-9_]+))/g, (_all, whole: string, braced?: string, bare?: string) => {
      if (whole === '$') return '$';
      const ref = braced ?? bare!;
      return (/^\d+$/.test(ref) ? (m[Number(ref)] as string | undefined) : groups?.[ref]) ?? '';
    });
  });
}

function fromJson(s: string): GoValue {
  const toGo = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(toGo);
    if (v && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, toGo(x)]));
    return v;
  };
  try {
    return toGo(JSON.parse(s)) as GoValue;
  } catch {
    return new Map();
  }
}

/** fmt.Sprintf for the verbs templates use: %s %d %v %f %.Nf %q %x %%. */
function goSprintf(format: string, args: GoValue[]): string {
  let i = 0;
  return format.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdvfgqxXte%])/g, (_m, flags: string, width: string, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let out: string;
    switch (verb) {
      case 'd':
        out = toInt(a).toString();
        break;
      case 'f':
        out = formatGoFixed(toFloat(a), prec === undefined ? 6 : Number(prec));
        break;
      case 'e':
        out = toFloat(a)
          .toExponential(prec === undefined ? 6 : Number(prec))
          .replace(/e([+-])(\d)$/, 'e$10$2');
        break;
      case 'g':
        out = formatGoFloat(toFloat(a));
        break;
      case 'q':
        out = JSON.stringify(str(a));
        break;
      case 'x':
        out = typeof a === 'bigint' || typeof a === 'number' ? toInt(a).toString(16) : Buffer.from(str(a)).toString('hex');
        break;
      case 'X':
        out = (typeof a === 'bigint' || typeof a === 'number' ? toInt(a).toString(16) : Buffer.from(str(a)).toString('hex')).toUpperCase();
        break;
      case 't':
        out = truth(a) ? 'true' : 'false';
        break;
      default:
        out = str(a);
    }
    if (prec !== undefined && verb === 's') out = [...out].slice(0, Number(prec)).join('');
    return padGo(out, flags, Number(width || 0), SIGNED_VERBS.has(verb));
  });
}

/** The verbs whose operand is a number printed with a sign when negative (or `+`/space flags). */
const SIGNED_VERBS = new Set(['d', 'f', 'e', 'g']);

/**
 * Go fmt's flags and width: `+` and space sign non-negative numbers; width counts runes; `-` pads on the
 * right with spaces; `0` pads on the left with zeros, after the sign for numbers and before any text for
 * the others (`%05s` of "ab" is "000ab").
 */
function padGo(text: string, flags: string, width: number, signed: boolean): string {
  let sign = '';
  let body = text;
  if (signed) {
    if (body.startsWith('-') || body.startsWith('+')) {
      sign = body[0]!;
      body = body.slice(1);
    } else if (flags.includes('+')) sign = '+';
    else if (flags.includes(' ')) sign = ' ';
  }
  const pad = width - sign.length - [...body].length;
  if (pad <= 0) return sign + body;
  if (flags.includes('-')) return sign + body + ' '.repeat(pad);
  if (flags.includes('0') && !(signed && !Number.isFinite(Number(body)))) return sign + '0'.repeat(pad) + body;
  return ' '.repeat(pad) + sign + body;
}
