/**
 * Durations in nanoseconds as bigint (a ns count over 2^53 is ordinary: 104 days).
 * Two grammars exist in Loki and both are needed:
 *  - Prometheus `model.ParseDuration`: `1w2d3h`, `15000ms`, units y w d h m s ms, integers only, in order.
 *  - Go `time.ParseDuration`: `1.5h`, `-300ms`, `2h45m`, units h m s ms us µs ns, decimals allowed.
 */

const NS = { ns: 1n, us: 1_000n, µs: 1_000n, μs: 1_000n, ms: 1_000_000n, s: 1_000_000_000n } as const;
const S = NS.s;
const PROM_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['y', 365n * 24n * 3600n * S],
  ['w', 7n * 24n * 3600n * S],
  ['d', 24n * 3600n * S],
  ['h', 3600n * S],
  ['m', 60n * S],
  ['s', S],
  ['ms', NS.ms],
];
const GO_UNITS: Readonly<Record<string, bigint>> = { ...NS, m: 60n * S, h: 3600n * S };

const PROM_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Prometheus duration (`model.ParseDuration`). Returns undefined when `s` is not one. */
export function parsePromDuration(s: string): bigint | undefined {
  if (s === '0') return 0n;
  if (s === '') return undefined;
  const m = PROM_RE.exec(s);
  if (!m) return undefined;
  let total = 0n;
  for (let i = 0; i < PROM_UNITS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) total += BigInt(part) * PROM_UNITS[i]![1];
  }
  return total;
}

const GO_PART = /(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/y;

/** Go duration (`time.ParseDuration`). Returns undefined when `s` is not one. */
export function parseGoDuration(s: string): bigint | undefined {
  let i = 0;
  let sign = 1n;
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1n : 1n;
    i = 1;
  }
  if (s.slice(i) === '0') return 0n;
  if (i >= s.length) return undefined;
  let total = 0n;
  while (i < s.length) {
    GO_PART.lastIndex = i;
    const m = GO_PART.exec(s);
    if (!m || m[1] === '' || m[1] === '.') return undefined;
    const unit = GO_UNITS[m[2]!]!;
    const [whole, frac = ''] = m[1]!.split('.');
    total += BigInt(whole || '0') * unit;
    if (frac) total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    i = GO_PART.lastIndex;
  }
  return sign * total;
}

/** Either grammar, as Loki's YAML config accepts for its duration keys. */
export function parseDuration(s: string): bigint | undefined {
  return parsePromDuration(s) ?? parseGoDuration(s);
}

/** Prints a ns duration like Go's time.Duration.String(): `1h30m0s`, `1.5s`, `100ms`, `0s`. */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let v = neg ? -ns : ns;
  let out: string;
  if (v < S) {
    const [unit, size] = v < NS.us ? ['ns', 1n] : v < NS.ms ? ['µs', NS.us] : ['ms', NS.ms];
    out = fraction(v, size) + unit;
  } else {
    const h = v / (3600n * S);
    v -= h * 3600n * S;
    const m = v / (60n * S);
    v -= m * 60n * S;
    out = (h > 0n ? `${h}h` : '') + (h > 0n || m > 0n ? `${m}m` : '') + fraction(v, S) + 's';
  }
  return neg ? '-' + out : out;
}

function fraction(v: bigint, unit: bigint): string {
  const whole = v / unit;
  const rest = v % unit;
  if (rest === 0n) return whole.toString();
  const digits = unit.toString().length - 1;
  return `${whole}.${rest.toString().padStart(digits, '0').replace(/0+$/, '')}`;
}

/** Prints a ns duration like Prometheus model.Duration: `721h` prints as `30d1h`, `90s` as `1m30s`. */
export function formatPromDuration(ns: bigint): string {
  let msTotal = ns / 1_000_000n;
  if (msTotal === 0n) return '0s';
  let out = '';
  const units: ReadonlyArray<readonly [string, bigint]> = [
    ['y', 365n * 86_400_000n],
    ['w', 7n * 86_400_000n],
    ['d', 86_400_000n],
    ['h', 3_600_000n],
    ['m', 60_000n],
    ['s', 1000n],
    ['ms', 1n],
  ];
  for (const [unit, size] of units) {
    const n = msTotal / size;
    if (n > 0n) {
      out += `${n}${unit}`;
      msTotal -= n * size;
    }
  }
  return out;
}
