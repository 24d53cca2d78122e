/**
 * Byte sizes as Loki's flagext.ByteSize reads and prints them (it delegates to github.com/c2h5oh/datasize).
 * The reading is strict, and so is ours, so that a config loki-lite takes is one Loki takes too:
 * - whole digits first, then an optional unit (spaces around the unit are ignored): `256KB`, `1 GiB`, `100`;
 * - units are binary and case-insensitive (`kb`, `KiB`, `k`, `kilobyte`... are all 1024), except that `Kb`,
 *   `Mb`... (capital prefix, lower-case b) are refused as bits;
 * - no decimals, no sign, nothing before the digits: `1.5MB`, `-1`, ` 1KB` are syntax errors.
 */
const UNIT_WORDS: ReadonlyArray<readonly [bigint, readonly string[]]> = [
  [1n, ['', 'b', 'byte']],
  [1n << 10n, ['k', 'kb', 'kib', 'kilo', 'kilobyte', 'kilobytes']],
  [1n << 20n, ['m', 'mb', 'mib', 'mega', 'megabyte', 'megabytes']],
  [1n << 30n, ['g', 'gb', 'gib', 'giga', 'gigabyte', 'gigabytes']],
  [1n << 40n, ['t', 'tb', 'tib', 'tera', 'terabyte', 'terabytes']],
  [1n << 50n, ['p', 'pb', 'pib', 'peta', 'petabyte', 'petabytes']],
  [1n << 60n, ['e', 'eb', 'eib', 'exa', 'exabyte', 'exabytes']],
];
const UNITS = new Map<string, bigint>(UNIT_WORDS.flatMap(([size, words]) => words.map((w) => [w, size] as const)));
const BIT_UNITS = new Set(['Kb', 'Mb', 'Gb', 'Tb', 'Pb', 'Eb']);
const MAX_UINT64 = (1n << 64n) - 1n;

export type ByteSizeResult = { readonly bytes: number; readonly error?: undefined } | { readonly bytes?: undefined; readonly error: string };

/** Reads a byte size; the error is datasize's, word for word, as Loki prints it for a bad config value. */
export function readByteSize(value: string | number): ByteSizeResult {
  const text = String(value);
  const digits = /^[0-9]*/.exec(text)![0];
  const unit = text.slice(digits.length).trim();
  const fail = (why: string): ByteSizeResult => ({ error: `strconv.UnmarshalText: parsing ${JSON.stringify(text)}: ${why}` });
  if (digits === '') return fail('invalid syntax');
  if (BIT_UNITS.has(unit)) return fail('unit with capital unit prefix and lower case unit (b) - bits, not bytes ');
  const size = UNITS.get(unit.toLowerCase());
  if (size === undefined) return fail('invalid syntax');
  const bytes = BigInt(digits) * size;
  if (bytes > MAX_UINT64) return fail('value out of range');
  return { bytes: Number(bytes) };
}

/** The number of bytes, or undefined where Loki would refuse the text. */
export function parseBytes(value: string | number): number | undefined {
  return readByteSize(value).bytes;
}

const PRINT_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['PB', 2 ** 50],
  ['TB', 2 ** 40],
  ['GB', 2 ** 30],
  ['MB', 2 ** 20],
  ['KB', 2 ** 10],
];

/** Prints bytes like datasize: the largest binary unit that divides evenly, `3MB`, `1536KB`, `100B`. */
export function formatBytes(n: number): string {
  if (n === 0) return '0B';
  for (const [unit, size] of PRINT_UNITS) if (n % size === 0) return `${n / size}${unit}`;
  return `${n}B`;
}

const SI_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/**
 * go-humanize's Bytes: `512 B`, `1.2 kB`, `83 MB` (one decimal below 10 of a unit), as Loki prints sizes in
 * its log lines. `separator` '' gives the form of Loki's query log and LogQL's printer (`1.2kB`).
 */
export function formatSIBytes(n: number, separator = ' '): string {
  if (n < 10) return `${Math.floor(n)}${separator}B`;
  // The exponent as go-humanize takes it: log(n)/log(1000), floored.
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1000)), SI_UNITS.length - 1);
  const value = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)}${separator}${SI_UNITS[e]}`;
}
