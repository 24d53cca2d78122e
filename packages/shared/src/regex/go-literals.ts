import type regenerate from 'regenerate';
import { type GoRegexNode, isEmptySet, parseGoRegex } from './go-syntax.js';

/*
 * Literals that every match of a Go regex contains, read from parseGoRegex's tree, so a caller can reject a
 * text that holds none of them without running the regex (a byte prefilter over log lines). Only certain
 * facts are kept: a node that might match without a text (`x?`, `x*`, a class of many characters) requires
 * nothing, and an alternation requires something only when each of its branches does.
 */

/** A text one of which every match contains; `caseless`: its ASCII letters may occur in either case. */
export interface RequiredLiteral {
  readonly text: string;
  readonly caseless: boolean;
}

/** One character of a literal: a code point, or under `(?i)` an ASCII letter in either case (`cp` is its lower case). */
interface Unit {
  readonly cp: number;
  readonly fold: boolean;
}

type Literal = readonly Unit[];

/** What every match of a node has in common. */
interface Facts {
  /** Every match is exactly this text. */
  readonly exact?: Literal;
  /** Every match starts (ends) with this text. */
  readonly prefix: Literal;
  readonly suffix: Literal;
  /** The best set of literals one of which every match contains (the exact text's, when there is one). */
  readonly required?: readonly Literal[];
}

/** A literal shorter than this is too common in text to be worth searching for. */
const MIN_LITERAL = 2;
/** `x{n}` is spelled out as n copies of x up to this many characters (more copies are a longer prefix than any search needs). */
const MAX_SPELLED = 64;

const NOTHING: Facts = { prefix: [], suffix: [] };

/** Answers already worked out, by pattern: a querier asks once per stream, and a parse costs ~15 µs. */
const known = new Map<string, readonly RequiredLiteral[] | null>();
const KNOWN_MAX = 1000;

/**
 * For a Go regex, literals one of which every match contains (two characters or more each), or undefined
 * when the regex has no such set or does not parse. Where the tree offers several sets, the one whose
 * shortest literal is longest is taken.
 */
export function requiredLiterals(pattern: string): readonly RequiredLiteral[] | undefined {
  let found = known.get(pattern);
  if (found === undefined) {
    found = literalsOf(pattern) ?? null;
    if (known.size >= KNOWN_MAX) known.clear();
    known.set(pattern, found);
  }
  return found ?? undefined;
}

function literalsOf(pattern: string): readonly RequiredLiteral[] | undefined {
  let tree: GoRegexNode;
  try {
    tree = parseGoRegex(pattern);
  } catch {
    return undefined;
  }
  const required = factsOf(tree).required;
  if (!required || score(required) < MIN_LITERAL) return undefined;
  return Object.freeze(required.map(toRequiredLiteral));
}

function factsOf(node: GoRegexNode): Facts {
  switch (node.kind) {
    case 'literal':
    case 'set': {
      const unit = node.kind === 'literal' ? literalUnit(node.codePoints) : setUnit(node.set);
      return unit ? exactly([unit]) : NOTHING;
    }
    case 'assert':
      return exactly([]); // zero-width: the text around it stays one run
    case 'group':
      return factsOf(node.body);
    case 'concat':
      return concatFacts(node.items);
    case 'alternate':
      return alternateFacts(node.items);
    case 'repeat':
      return repeatFacts(node.min, node.max, factsOf(node.body));
  }
}

function exactly(text: Literal): Facts {
  return { exact: text, prefix: text, suffix: text, required: text.length > 0 ? [text] : undefined };
}

/**
 * A literal node's code point, or under `(?i)` an ASCII letter's two cases. Other case orbits (k and s also fold
 * to the Kelvin sign and the long s; non-ASCII letters) are no unit: the search for a caseless literal only
 * folds ASCII. U+FFFD and surrogates are none either: a line's invalid UTF-8 is read as U+FFFD.
 */
function literalUnit(codePoints: readonly number[]): Unit | undefined {
  if (codePoints.length === 1) return plainUnit(codePoints[0]!);
  if (codePoints.length !== 2) return undefined;
  const lower = Math.max(codePoints[0]!, codePoints[1]!);
  return isAsciiLetterPair(lower, Math.min(codePoints[0]!, codePoints[1]!)) ? { cp: lower, fold: true } : undefined;
}

function plainUnit(cp: number): Unit | undefined {
  return cp === 0xfffd || (cp >= 0xd800 && cp <= 0xdfff) ? undefined : { cp, fold: false };
}

function isAsciiLetterPair(lower: number, upper: number): boolean {
  return lower >= 0x61 && lower <= 0x7a && upper === lower - 0x20;
}

/** A class of one ASCII character (`[.]`), or of one ASCII letter in both cases (`[aA]`, `(?i)[a]`). */
function setUnit(set: regenerate): Unit | undefined {
  if (!isEmptySet(set.clone().removeRange(0, 0x7f))) return undefined;
  const members = set.toArray();
  if (members.length === 1) return plainUnit(members[0]!);
  return members.length === 2 && isAsciiLetterPair(members[1]!, members[0]!) ? { cp: members[1]!, fold: true } : undefined;
}

/** Runs of exact items joined with their neighbours' prefixes and suffixes; the best of them and of the items' own sets. */
function concatFacts(items: readonly GoRegexNode[]): Facts {
  const candidates: Array<readonly Literal[]> = [];
  let run: Unit[] = [];
  let prefix: Literal | undefined;
  for (const item of items) {
    const f = factsOf(item);
    if (f.exact) {
      run.push(...f.exact);
      continue;
    }
    run.push(...f.prefix);
    prefix ??= run.slice();
    candidates.push([run]);
    if (f.required) candidates.push(f.required);
    run = f.suffix.slice();
  }
  if (prefix === undefined) return exactly(run);
  candidates.push([run]);
  return { prefix, suffix: run, required: best(candidates) };
}

/** Each branch must give a set, else nothing is required; the branches' common prefix and suffix also are. */
function alternateFacts(items: readonly GoRegexNode[]): Facts {
  const branches = items.map(factsOf);
  const prefix = branches.map((b) => b.prefix).reduce(commonPrefix);
  const suffix = branches.map((b) => b.suffix).reduce(commonSuffix);
  const candidates: Array<readonly Literal[]> = [[prefix], [suffix]];
  if (branches.every((b) => b.required)) candidates.push(branches.flatMap((b) => b.required!));
  return { prefix, suffix, required: best(candidates) };
}

/** At least one copy keeps the body's facts (n copies of an exact body are spelled out); `x?`, `x*` lose them. */
function repeatFacts(min: number, max: number, body: Facts): Facts {
  if (max === 0) return exactly([]);
  if (min === 0) return NOTHING;
  if (!body.exact) return { prefix: body.prefix, suffix: body.suffix, required: body.required };
  const spelled = Math.min(min, Math.max(1, Math.floor(MAX_SPELLED / Math.max(1, body.exact.length))));
  const copies = Array.from({ length: spelled }, () => body.exact!).flat();
  if (min === max && spelled === min) return exactly(copies);
  return { prefix: copies, suffix: copies, required: copies.length > 0 ? [copies] : undefined };
}

function commonPrefix(a: Literal, b: Literal): Literal {
  let n = 0;
  while (n < a.length && n < b.length && sameUnit(a[n]!, b[n]!)) n++;
  return a.slice(0, n);
}

function commonSuffix(a: Literal, b: Literal): Literal {
  let n = 0;
  while (n < a.length && n < b.length && sameUnit(a[a.length - 1 - n]!, b[b.length - 1 - n]!)) n++;
  return a.slice(a.length - n);
}

function sameUnit(a: Unit, b: Unit): boolean {
  return a.cp === b.cp && a.fold === b.fold;
}

/** A set is as good as its shortest literal (every line must be searched for each); then, the fewer the better. */
function score(set: readonly Literal[]): number {
  return Math.min(...set.map((l) => l.length));
}

function best(candidates: ReadonlyArray<readonly Literal[]>): readonly Literal[] | undefined {
  let chosen: readonly Literal[] | undefined;
  for (const c of candidates) {
    if (score(c) === 0) continue;
    if (!chosen || score(c) > score(chosen) || (score(c) === score(chosen) && c.length < chosen.length)) chosen = c;
  }
  return chosen;
}

/** A literal with a caseless letter is searched for caselessly as a whole, its other ASCII letters too: a superset. */
function toRequiredLiteral(literal: Literal): RequiredLiteral {
  const caseless = literal.some((u) => u.fold);
  const lowered = literal.map((u) => (caseless && u.cp >= 0x41 && u.cp <= 0x5a ? u.cp + 0x20 : u.cp));
  return Object.freeze({ text: String.fromCodePoint(...lowered), caseless });
}
