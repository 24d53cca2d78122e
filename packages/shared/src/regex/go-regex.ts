import { setFlagsFromString } from 'node:v8';
import regenerate from 'regenerate';
import { type Assertion, type GoRegexNode, isEmptySet, parseGoRegex, repeatProduct, RegexError, UNBOUNDED } from './go-syntax.js';

export { RegexError };

/*
 * User regexes (LogQL filters, parsers and matchers, relabel rules) are Go RE2: a match takes time linear in the
 * text. V8's default engine backtracks, and `(a+)+b` over 28 a's never returns. So every pattern is compiled for
 * V8 with its linear engine as the fallback: V8 runs the fast backtracking engine (JIT, literal search) until one
 * match attempt has backtracked BACKTRACKS_BEFORE_LINEAR times, then finishes that attempt with its linear-time
 * engine. A pattern only gets that fallback if the linear engine can run it, which excludes the `i` and `u` flags,
 * look-arounds, back-references and repetitions that copy their operand more than 16 times. So the Go pattern is
 * parsed (go-syntax.ts) and written out without any of those: `(?i)` as case-folded classes, Unicode classes and
 * astral characters as UTF-16 alternatives, large counted repetitions as several smaller ones; and each result is
 * checked by compiling it with the linear engine's `l` flag. A pattern that cannot be written so is refused
 * rather than run without the guarantee.
 *
 * The fallback's cost for a catastrophic pattern is the backtracks plus the linear engine's pass: 40 - 140 µs on a
 * 30-character line at 10,000 backtracks (V8's default, 50,000, costs 350 - 450 µs). An ordinary pattern on an
 * ordinary line backtracks far less and never leaves the fast engine. See bench/README.md.
 */
const BACKTRACKS_BEFORE_LINEAR = 10_000;

// Process-wide V8 flags, set before any user regex is compiled: V8 reads them when it compiles a regex's code,
// which it does lazily on its first match. The first flag lets V8 accept the `l` flag used to check patterns.
setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_LINEAR}`);

/** The copies of its operand a repetition may make in V8's linear engine, nested repetitions multiplied. */
const MAX_REPLICATION = 16;

/** Translates a Go RE2 pattern to a JavaScript source and flags that mean the same and run in linear time. */
export function translateGoRegex(pattern: string, anchored = false): { source: string; flags: string } {
  const tree = parseGoRegex(pattern);
  const whole: GoRegexNode = anchored
    ? {
        kind: 'concat',
        items: [
          { kind: 'assert', assertion: 'text_start' },
          { kind: 'group', capture: false, name: undefined, body: tree },
          { kind: 'assert', assertion: 'text_end' },
        ],
      }
    : tree;
  const writer = new JsRegexWriter(pattern);
  const source = writer.write(whole, 1, true).source;
  return { source, flags: writer.lineAnchors ? 'm' : '' };
}

/** Patterns already translated and checked (`anchored` + pattern -> source and flags), for callers that compile per line. */
const translated = new Map<string, { source: string; flags: string }>();
const TRANSLATED_MAX = 1000;

/**
 * Compiles a Go regex for V8 with the linear-time fallback: a new RegExp on each call, so no caller shares one's
 * lastIndex. `anchored` wraps it as ^(?:...)$ like Loki's label matchers. Throws RegexError with Go's wording for a
 * pattern Go rejects. A translation costs tens of µs; template functions such as regexReplaceAll ask for the same
 * pattern on every line, so translations are kept.
 */
export function compileGoRegex(pattern: string, anchored: boolean): RegExp {
  const key = `${anchored ? 'a' : 'u'}${pattern}`;
  const known = translated.get(key);
  if (known) return new RegExp(known.source, known.flags);
  const { source, flags } = translateGoRegex(pattern, anchored);
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch (e) {
    // Go accepts a few names JavaScript does not, such as (?P<1st>...).
    throw new RegexError(`error parsing regexp: ${(e as Error).message.replace(/^Invalid regular expression: .*: /s, '')}: \`${pattern}\``);
  }
  try {
    new RegExp(source, `${flags}l`);
  } catch {
    throw new RegexError(`error parsing regexp: expression too large for loki-lite's linear-time engine: \`${pattern}\``);
  }
  if (translated.size >= TRANSLATED_MAX) translated.clear();
  translated.set(key, { source, flags });
  return re;
}

interface Written {
  readonly source: string;
  /** Whether a quantifier can follow the source directly. */
  readonly atom: boolean;
}

/** Writes a parsed Go regex as JavaScript source (no `i`, no `u` flag) within the linear engine's limits. */
class JsRegexWriter {
  /** Whether `^`/`$` are line anchors (the `m` flag); undefined until the pattern has one. */
  lineAnchors: boolean | undefined;

  constructor(private readonly pattern: string) {}

  /**
   * `budget`: the copies enclosing repetitions already make; `captures`: false inside the extra copies of an
   * expanded repetition, whose groups must not capture twice; `repeatedWithoutBound`: the node is the operand
   * of a `*` or `+`.
   */
  write(node: GoRegexNode, budget: number, captures: boolean, repeatedWithoutBound = false): Written {
    switch (node.kind) {
      case 'literal':
        return writeLiteral(node.codePoints);
      case 'set':
        return writeSet(node.set, repeatedWithoutBound);
      case 'assert':
        return { source: this.assertion(node.assertion), atom: false };
      case 'group': {
        const body = this.write(node.body, budget, captures).source;
        if (!node.capture || !captures) return { source: `(?:${body})`, atom: true };
        return { source: node.name === undefined ? `(${body})` : `(?<${node.name}>${body})`, atom: true };
      }
      case 'concat':
        return { source: node.items.map((n) => this.write(n, budget, captures).source).join(''), atom: false };
      case 'alternate':
        return { source: `(?:${node.items.map((n) => this.write(n, budget, captures).source).join('|')})`, atom: true };
      case 'repeat':
        return this.repeat(node, budget, captures);
    }
  }

  private assertion(a: Assertion): string {
    switch (a) {
      case 'word_boundary':
        return '\\b';
      case 'not_word_boundary':
        return '\\B';
    }
    // JavaScript has one meaning of ^ and $ per regex: the `m` flag's, or the text's.
    const line = a === 'line_start' || a === 'line_end';
    if (this.lineAnchors !== undefined && this.lineAnchors !== line) {
      throw new RegexError(
        `error parsing regexp: loki-lite cannot mix (?m) line anchors with text anchors (^ $ \\A \\z outside (?m)) in one pattern: \`${this.pattern}\``,
      );
    }
    this.lineAnchors = line;
    return a.endsWith('start') ? '^' : '$';
  }

  private repeat(node: Extract<GoRegexNode, { kind: 'repeat' }>, budget: number, captures: boolean): Written {
    const { min, max, greedy, body } = node;
    const lazy = greedy ? '' : '?';
    // Go's `.*` is one class of UTF-16 units here; `.{2,}` is not, as a pair would count twice.
    const anyLength = max === UNBOUNDED && min <= 1;
    if (budget * copies(min, max) <= MAX_REPLICATION) {
      return { source: `${this.operand(body, budget * copies(min, max), captures, anyLength)}${quantifier(min, max)}${lazy}`, atom: false };
    }
    // Too many copies for the linear engine in one piece: write the repetition as a sequence of smaller ones.
    // Go captures a group's last iteration; so the extra copies do not capture, and the last copy does.
    const hasCaptures = captures && capturesIn(body);
    if (hasCaptures && max !== min && max !== UNBOUNDED) {
      throw new RegexError(
        `error parsing regexp: loki-lite cannot run a capture group repeated {${min},${max}} in linear time; use (?:...) or a count up to 16: \`${this.pattern}\``,
      );
    }
    const inner = Math.max(1, Math.floor(MAX_REPLICATION / (budget * repeatProduct(body, copies))));
    const copy = (n: number, capturing: boolean) => `${this.operand(body, budget * n, capturing, false)}${n === 1 ? '' : `{${n}}`}`;
    const parts: string[] = [];
    const mandatory = hasCaptures ? min - 1 : min;
    // Written once and repeated: writing the operand again per piece cost 48 ms for \pL{1000}.
    const full = copy(inner, false);
    for (let n = Math.floor(mandatory / inner); n > 0; n--) parts.push(full);
    if (mandatory % inner > 0) parts.push(copy(mandatory % inner, false));
    if (max === UNBOUNDED) {
      // X{n,} is X{n} X*; with captures, X{n-1} (?:X)* X keeps the capture on the last iteration.
      parts.push(`${this.operand(body, budget, false, true)}*${lazy}`);
      if (hasCaptures) parts.push(copy(1, true));
    } else if (hasCaptures) {
      parts.push(copy(1, true));
    } else {
      // X{n,m} is X{n} then up to m-n more, nested so that the greedy order of trials stays Go's.
      const optional = this.operand(body, budget, false, false);
      let tail = '';
      for (let i = min; i < max; i++) tail = `(?:${optional}${tail})?${lazy}`;
      parts.push(tail);
    }
    return { source: parts.join(''), atom: false };
  }

  /** The source of a repetition's operand, grouped when a quantifier could not follow it directly. */
  private operand(body: GoRegexNode, budget: number, captures: boolean, unbounded: boolean): string {
    const w = this.write(body, budget, captures, unbounded);
    return w.atom ? w.source : `(?:${w.source})`;
  }
}

/** A literal's code points, written without regenerate, whose general case costs tens of µs per set. */
function writeLiteral(codePoints: readonly number[]): Written {
  const units = codePoints.map((cp) => String.fromCodePoint(cp));
  if (units.every((u) => u.length === 1)) {
    const chars = units.map(escapeUnit);
    return { source: chars.length === 1 ? chars[0]! : `[${chars.join('')}]`, atom: true };
  }
  return { source: `(?:${units.map((u) => u.split('').map(escapeUnit).join('')).join('|')})`, atom: true };
}

/** One UTF-16 unit as regex source, in or out of a class. */
function escapeUnit(unit: string): string {
  if ('\\^$.*+?()[]{}|/-'.includes(unit)) return `\\${unit}`;
  const code = unit.charCodeAt(0);
  return code >= 0x20 && code < 0x7f ? unit : `\\u${code.toString(16).padStart(4, '0')}`;
}

const SURROGATES = [0xd800, 0xdfff] as const;
const ASTRAL = [0x10000, 0x10ffff] as const;

/**
 * A set of code points as JavaScript without the `u` flag: astral code points as surrogate pairs. Under an
 * unbounded repetition a set that holds every astral code point is one class of UTF-16 units (the pairs
 * included), which matches the same strings and keeps `.*` as fast as it was.
 */
function writeSet(set: regenerate, repeatedWithoutBound: boolean): Written {
  const scalars = set.clone().removeRange(...SURROGATES);
  if (
    repeatedWithoutBound &&
    isEmptySet(
      regenerate()
        .addRange(...ASTRAL)
        .remove(scalars),
    )
  ) {
    return {
      source: scalars
        .removeRange(...ASTRAL)
        .addRange(...SURROGATES)
        .toString({ bmpOnly: true }),
      atom: true,
    };
  }
  const source = scalars.toString();
  // BMP code points are one class or character; astral ones are pairs of units, maybe alternatives.
  const bmpOnly = isEmptySet(scalars.clone().intersection(regenerate().addRange(...ASTRAL)));
  return { source: bmpOnly ? source : `(?:${source})`, atom: true };
}

/** The copies of its operand a repetition makes in V8's linear engine (`+` is one copy and a star). */
function copies(min: number, max: number): number {
  return max === UNBOUNDED ? min + 1 : max;
}

function capturesIn(node: GoRegexNode): boolean {
  switch (node.kind) {
    case 'group':
      return node.capture || capturesIn(node.body);
    case 'repeat':
      return capturesIn(node.body);
    case 'concat':
    case 'alternate':
      return node.items.some(capturesIn);
    default:
      return false;
  }
}

function quantifier(min: number, max: number): string {
  if (max === UNBOUNDED) return min === 0 ? '*' : min === 1 ? '+' : `{${min},}`;
  if (min === 0 && max === 1) return '?';
  return min === max ? `{${min}}` : `{${min},${max}}`;
}
