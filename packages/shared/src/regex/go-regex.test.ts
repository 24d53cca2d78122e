import { describe, expect, it } from 'vitest';
import { compileGoRegex } from './go-regex.js';

const fully = (re: string, input: string) => compileGoRegex(re, true).test(input);
const search = (re: string, input: string) => compileGoRegex(re, false).exec(input)?.[0];

describe('Go regex translation', () => {
  it.each([
    ['(?i)loki', 'LOKI', true],
    ['(?i)loki', 'lokix', false],
    ['[[:digit:]]+', '123', true],
    ['[[:alpha:]_]+', 'ab_c', true],
    ['[[:alpha:]]+', '12', false],
    ['[[:^digit:]]+', 'ab', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['(?P<x>a)b', 'ab', true],
    ['(?<x>a)b', 'ab', true],
    ['[]a]+', ']a]', true],
    ['[^]a]', 'b', true],
    ['(?s)a.b', 'a\nb', true],
    ['a.b', 'a\nb', false],
    ['a{,5}', 'a{,5}', true], // a `{` that starts no repeat is a literal
    ['\\101\\x42\\x{43}\\0', 'ABC\0', true],
  ])('%s matches %j fully: %s', (re, input, want) => {
    expect(fully(re, input)).toBe(want);
  });

  it.each([
    ['a(?=b)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['a(?<!b)', 'invalid or unsupported Perl syntax: `(?<`'],
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['\\e', 'invalid escape sequence: `\\e`'],
    ['[a', 'missing closing ]: `[a`'],
    ['[z-a]', 'invalid character class range: `z-a`'],
    ['[[:foo:]]', 'invalid character class range: `[:foo:]`'],
    ['\\p{Klingon}', 'invalid character class range: `\\p{Klingon}`'],
    ['a)', 'unexpected ): `a)`'],
    ['(a', 'missing closing ): `(a`'],
    ['a**', 'invalid nested repetition operator: `**`'],
    ['*a', 'missing argument to repetition operator: `*`'],
    ['a{1001}', 'invalid repeat count: `{1001}`'],
    ['(a{100}){100}', 'invalid repeat count'],
    ['(?P<>a)', 'invalid named capture: `(?P<>`'],
    ['(?i', 'missing closing ): `(?i`'],
    ['a\\', 'trailing backslash at end of expression: ``'],
  ])('rejects %s like RE2', (re, message) => {
    expect(() => compileGoRegex(re, false)).toThrow(`error parsing regexp: ${message}`);
  });

  it('refuses, rather than runs without the linear-time guarantee, what it cannot write for the linear engine', () => {
    expect(() => compileGoRegex('(a){2,40}', false)).toThrow('cannot run a capture group repeated {2,40} in linear time');
    expect(() => compileGoRegex('(?m)^a\\z', false)).toThrow('cannot mix (?m) line anchors with text anchors');
    expect(() => compileGoRegex('(?m)^a$', true)).toThrow('cannot mix (?m) line anchors with text anchors');
  });
});

describe('Go regexes run in linear time', () => {
  // A backtracking engine takes exponential time on each of these: the test would never end.
  it.each([
    ['(a+)+b', 'a'.repeat(28) + 'c', false, false],
    ['(a+)+b', 'a'.repeat(10_000) + 'c', false, false],
    ['(a|aa)+$', 'a'.repeat(5_000) + 'b', false, false],
    ['(.*a){20}', 'a'.repeat(2_000), true, true],
    ['(.*a){20}', 'a'.repeat(2_000) + 'b'.repeat(2_000), true, false],
    ['(x+x+)+y', 'x'.repeat(5_000), false, false],
    ['(?i)(a+)+b', 'A'.repeat(5_000) + 'c', false, false],
    ['(\\w+\\s?)*$', 'word '.repeat(1_000) + '!', true, false],
    ['^(([a-z])+.)+[A-Z]([a-z])+$', 'a'.repeat(5_000) + '!', false, false],
    ['([0-9a-f]{1,32})+z', '0123456789abcdef'.repeat(200), false, false],
  ])('%s (case %#) returns, as RE2 does', (re, input, found, full) => {
    expect(compileGoRegex(re, false).test(input)).toBe(found);
    expect(compileGoRegex(re, true).test(input)).toBe(full);
  });

  it('finds the same match and captures after falling back to the linear engine', () => {
    const m = compileGoRegex('(?P<run>(a+)+)b', false).exec(`${'a'.repeat(40)}c aab`);
    expect(m?.[0]).toBe('aab');
    expect(m?.groups?.run).toBe('aa');
  });
});

describe('Go semantics', () => {
  it('`.` excludes only \\n, as in Go (JavaScript also excludes \\r, U+2028 and U+2029)', () => {
    expect(fully('a.b', 'a\rb')).toBe(true);
    expect(fully('a.b', 'a\u2028b')).toBe(true);
    expect(fully('a.*b', 'a\r\u2029b')).toBe(true);
    expect(fully('a.*b', 'a\nb')).toBe(false);
    expect(fully('[^x]', '\n')).toBe(true); // a negated class does match \n
  });

  it('`\\s` is [\\t\\n\\f\\r ] (no \\v, no Unicode spaces); `\\d` and `\\w` are ASCII', () => {
    expect(fully('\\s+', '\t\n\f\r ')).toBe(true);
    expect(fully('\\s', '\v')).toBe(false);
    expect(fully('\\s', '\u00a0')).toBe(false);
    expect(fully('\\S', '\u00a0')).toBe(true);
    expect(fully('\\d', '٣')).toBe(false);
    expect(fully('\\w+', 'é')).toBe(false);
  });

  it('a code point is one character, astral ones included', () => {
    expect(fully('.', '😀')).toBe(true);
    expect(fully('[^a]', '😀')).toBe(true);
    expect(fully('\\x{1F600}', '😀')).toBe(true);
    expect(fully('\\x{1F600}{2}', '😀😀')).toBe(true);
    expect(fully('(?i)\\x{1F600}+', '😀😀😀')).toBe(true);
    expect(fully('[\\x{1F600}-\\x{1F64F}]{2}', '😀🙏')).toBe(true);
    expect(fully('.{2}', '😀')).toBe(false);
    expect(fully('a.*b', 'a😀😀b')).toBe(true);
  });

  it('(?i) folds with Unicode simple case folding: k matches the Kelvin sign, s matches ſ', () => {
    expect(fully('(?i)k', '\u212a')).toBe(true);
    expect(fully('(?i)s', 'ſ')).toBe(true);
    expect(fully('(?i)σ+', 'Σςσ')).toBe(true);
    expect(fully('(?i)é', 'É')).toBe(true);
    expect(fully('(?i)i', 'ı')).toBe(false);
    expect(fully('(?i)[a-c]+', 'AbC')).toBe(true);
    expect(fully('(?i)[^k]', '\u212a')).toBe(false);
  });

  it('scoped flags: (?i:...), (?-i), and (?i) holding to the end of its group', () => {
    expect(fully('(?i:ab)c', 'ABc')).toBe(true);
    expect(fully('(?i:ab)c', 'ABC')).toBe(false);
    expect(fully('(?i)a(?-i)b', 'Ab')).toBe(true);
    expect(fully('(?i)a(?-i)b', 'AB')).toBe(false);
    expect(fully('(x(?i)a|b)c', 'xAc')).toBe(true);
    expect(fully('(x(?i)a|b)c', 'Bc')).toBe(true); // the flag holds over the rest of the group's alternatives
    expect(fully('(x(?i)a|b)c', 'xAC')).toBe(false);
    expect(fully('(?s:.)', '\n')).toBe(true);
  });

  it('(?U) swaps greedy and lazy repetition', () => {
    expect(search('(?U)a+', 'aaa')).toBe('a');
    expect(search('(?U)a+?', 'aaa')).toBe('aaa');
  });

  it('(?m) makes ^ and $ line anchors', () => {
    expect(search('(?m)^b$', 'a\nb\nc')).toBe('b');
    expect(search('^b$', 'a\nb\nc')).toBeUndefined();
    expect(search('\\Ab', 'ab')).toBeUndefined();
  });

  it('Unicode classes: \\pL, \\p{Greek}, \\PL, \\p{^Greek}', () => {
    expect(fully('\\pL+', 'añΩж日')).toBe(true);
    expect(fully('\\pL', '1')).toBe(false);
    expect(fully('\\p{Greek}+', 'αβΩ')).toBe(true);
    expect(fully('\\p{Greek}', 'a')).toBe(false);
    expect(fully('\\PL', '1')).toBe(true);
    expect(fully('\\p{^Greek}', 'a')).toBe(true);
    expect(fully('[\\p{Lu}\\d]+', 'AΩ9')).toBe(true);
    expect(fully('\\pL', '𝐀')).toBe(true); // U+1D400, a letter outside the BMP
  });

  it("counted repetitions beyond the linear engine's 16 copies keep their meaning", () => {
    expect(fully('[0-9a-f]{32}', '0123456789abcdef0123456789abcdef')).toBe(true);
    expect(fully('[0-9a-f]{32}', '0123456789abcdef0123456789abcde')).toBe(false);
    expect(fully('x{2,40}', 'x'.repeat(40))).toBe(true);
    expect(fully('x{2,40}', 'x'.repeat(41))).toBe(false);
    expect(fully('x{2,40}', 'x')).toBe(false);
    expect(fully('(?:ab){20,}', 'ab'.repeat(25))).toBe(true);
    expect(fully('(?:ab){20,}', 'ab'.repeat(19))).toBe(false);
    expect(fully('((((a+)+)+)+)+', 'aaaa')).toBe(true);
    expect(search('x{2,40}?', 'xxxx')).toBe('xx');
    expect(search('(?:x|xy){0,20}z', 'xyxyz')).toBe('xyxyz');
  });

  it('a capture group repeated more than 16 times captures its last iteration, as in Go', () => {
    const m = compileGoRegex('(?:(\\d)-){20}', false).exec(Array.from({ length: 20 }, (_, i) => `${i % 10}-`).join(''));
    expect(m?.[1]).toBe('9');
    const plus = compileGoRegex('(?:(?:(?:(?:(a|b)+)+)+)+)+', true).exec('abab');
    expect(plus?.[1]).toBe('b');
  });
});
