/**
 * Byte sizes as Loki's flagext.ByteSize reads and prints them (github.com/c2h5oh/datasize): units are
 * binary, so `256KB` is 262,144 bytes; case-insensitive; `KiB`-style names are accepted as the same units;
 * a bare number is bytes. Decimals (`1.5MB`) are accepted as a convenience.
 */
const UNITS: Readonly<Record<string, number>> = {
  '': 1, b: 1,
  k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10,
  m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20,
  g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30,
  t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40,
  p: 2 ** 50, pb: 2 ** 50, pib: 2 ** 50,
};

export function parseBytes(s: string | number): number | undefined {
  if (typeof s === 'number') return Number.isFinite(s) && s >= 0 ? Math.floor(s) : undefined;
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(s);
  if (!m) return undefined;
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(m[1]) * unit);
}

const PRINT_UNITS: ReadonlyArray<readonly [string, number]> = [['PB', 2 ** 50], ['TB', 2 ** 40], ['GB', 2 ** 30], ['MB', 2 ** 20], ['KB', 2 ** 10]];

/** Prints bytes like datasize: the largest binary unit that divides evenly, `3MB`, `1536KB`, `100B`. */
export function formatBytes(n: number): string {
  if (n === 0) return '0B';
  for (const [unit, size] of PRINT_UNITS) if (n % size === 0) return `${n / size}${unit}`;
  return `${n}B`;
}
