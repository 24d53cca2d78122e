import regenerate from 'regenerate';

/*
 * The Unicode data Go's regexp needs for `(?i)` and `\p{...}`, taken from V8's own tables (its case mappings and
 * its `u`-mode property escapes) instead of a copy of the Unicode database: both are built on demand, the first
 * time a pattern needs them, and kept.
 */

/** Go's general categories (unicode.Categories). `C` is Cc, Cf, Co and Cs: without Cn, unlike JavaScript's. */
const CATEGORIES = new Set([
  'C',
  'Cc',
  'Cf',
  'Co',
  'Cs',
  'L',
  'Ll',
  'Lm',
  'Lo',
  'Lt',
  'Lu',
  'M',
  'Mc',
  'Me',
  'Mn',
  'N',
  'Nd',
  'Nl',
  'No',
  'P',
  'Pc',
  'Pd',
  'Pe',
  'Pf',
  'Pi',
  'Po',
  'Ps',
  'S',
  'Sc',
  'Sk',
  'Sm',
  'So',
  'Z',
  'Zl',
  'Zp',
  'Zs',
]);

const SURROGATES_START = 0xd800;
const SURROGATES_END = 0xdfff;
const MAX_CODE_POINT = 0x10ffff;

const unicodeClasses = new Map<string, regenerate | undefined>();

/** The code points of Go's `\p{name}` (a general category, a script or `Any`); undefined when Go has no such class. */
export function unicodeClass(name: string): regenerate | undefined {
  if (!unicodeClasses.has(name)) unicodeClasses.set(name, buildUnicodeClass(name));
  return unicodeClasses.get(name)?.clone();
}

function buildUnicodeClass(name: string): regenerate | undefined {
  if (name === 'Any') return regenerate().addRange(0, MAX_CODE_POINT);
  if (name === 'C') return ['Cc', 'Cf', 'Co', 'Cs'].reduce((set, c) => set.add(unicodeClass(c)!), regenerate());
  const property = CATEGORIES.has(name) ? `General_Category=${name}` : /^[A-Z][A-Za-z_]+$/.test(name) ? `Script=${name}` : undefined;
  if (property === undefined) return undefined;
  let runs: RegExp;
  try {
    runs = new RegExp(`\\p{${property}}+`, 'gu');
  } catch {
    return undefined; // not a script V8 knows either
  }
  return codePointsMatching(runs);
}

/** Every code point that `runs` (a global `u` regex matching runs of one class) matches, found in two native scans. */
function codePointsMatching(runs: RegExp): regenerate {
  const set = regenerate();
  const bmp = bmpScalars();
  for (const m of bmp.matchAll(runs)) {
    // bmp skips the surrogates: index i is code point i below them, i + 0x800 above.
    const toCodePoint = (i: number) => (i < SURROGATES_START ? i : i + (SURROGATES_END - SURROGATES_START + 1));
    set.addRange(toCodePoint(m.index), toCodePoint(m.index + m[0].length - 1));
  }
  for (const m of astralScalars().matchAll(runs)) set.addRange(0x10000 + m.index / 2, 0x10000 + (m.index + m[0].length) / 2 - 1);
  return set;
}

function bmpScalars(): string {
  const units = new Uint16Array(0x10000 - (SURROGATES_END - SURROGATES_START + 1));
  for (let i = 0, cp = 0; cp <= 0xffff; cp++) if (cp < SURROGATES_START || cp > SURROGATES_END) units[i++] = cp;
  return Buffer.from(units.buffer).toString('utf16le');
}

function astralScalars(): string {
  const units = new Uint16Array(2 * (MAX_CODE_POINT - 0xffff));
  for (let cp = 0x10000, i = 0; cp <= MAX_CODE_POINT; cp++) {
    units[i++] = 0xd800 + ((cp - 0x10000) >> 10);
    units[i++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
  }
  return Buffer.from(units.buffer).toString('utf16le');
}

/** Code point -> the code points simple case folding makes equal to it (itself included), for cased ones only. */
let orbits: Map<number, readonly number[]> | undefined;

/** Cased letters all lie below this (the last are Adlam's, at U+1E900); the scan stops here. */
const LAST_CASED = 0x1ffff;

/**
 * Go's `(?i)` matches a letter with every letter of its case orbit (unicode.SimpleFold): k, K and the
 * Kelvin sign; s, S and ſ. The orbits are the classes of Unicode's simple case folding, which V8's `iu` mode uses
 * too: letters linked by their single-letter upper and lower case mappings are grouped, and each group split into
 * the letters an `iu` regex matches for one another (ı upper-cases to I yet does not fold to i).
 */
function foldOrbits(): Map<number, readonly number[]> {
  if (orbits) return orbits;
  const root = new Int32Array(LAST_CASED + 1).map((_, i) => i);
  const linked = new Uint8Array(LAST_CASED + 1);
  const find = (x: number): number => {
    while (root[x] !== x) x = root[x] = root[root[x]!]!;
    return x;
  };
  for (let cp = 0; cp <= LAST_CASED; cp++) {
    if (cp >= SURROGATES_START && cp <= SURROGATES_END) continue;
    const s = String.fromCodePoint(cp);
    for (const mapped of [s.toLowerCase(), s.toUpperCase()]) {
      const other = mapped.codePointAt(0)!;
      if (other === cp || other > LAST_CASED || mapped.length !== String.fromCodePoint(other).length) continue;
      root[find(other)] = find(cp);
      linked[cp] = linked[other] = 1;
    }
  }
  const groups = new Map<number, number[]>();
  for (let cp = 0; cp <= LAST_CASED; cp++) {
    if (!linked[cp]) continue;
    const group = groups.get(find(cp));
    if (group) group.push(cp);
    else groups.set(find(cp), [cp]);
  }
  orbits = new Map();
  for (const members of groups.values()) {
    let pending = members;
    while (pending.length > 1) {
      const same = new RegExp(`^\\u{${pending[0]!.toString(16)}}$`, 'iu');
      const orbit = pending.filter((m) => same.test(String.fromCodePoint(m)));
      if (orbit.length > 1) for (const m of orbit) orbits.set(m, orbit);
      pending = pending.filter((m) => !orbit.includes(m));
    }
  }
  return orbits;
}

/** The code points `(?i)` matches for `cp`: its case orbit, or cp alone. */
export function caseOrbit(cp: number): readonly number[] {
  return foldOrbits().get(cp) ?? [cp];
}

/** Adds to `set` every code point that folds to one of its members (Go's class under `(?i)`). */
export function addFoldedCase(set: regenerate): regenerate {
  const folded = set.clone();
  for (const [cp, orbit] of foldOrbits()) if (set.contains(cp)) folded.add(orbit as number[]);
  return folded;
}
