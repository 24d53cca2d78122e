import { describe, expect, it } from 'vitest';
import { requiredLiterals } from './go-literals.js';

/** A literal written `~text` is caseless. */
const literals = (...texts: string[]) => texts.map((t) => (t.startsWith('~') ? { text: t.slice(1), caseless: true } : { text: t, caseless: false }));

describe('requiredLiterals', () => {
  it.each<[string, string[] | undefined]>([
    ['err(or)?.*timeout', ['timeout']],
    ['level=error', ['level=error']],
    ['abc?def', ['def']], // c is optional
    ['ab+cd', ['bcd']], // b+ starts and ends with b
    ['[0-9]+ms took', ['ms took']],
    ['x.y', undefined], // no literal of two
    ['grad_norm=0\\.99[0-9] tokens', ['grad_norm=0.99']], // escaped punctuation is a literal
    ['a\\.?bc', ['bc']], // the escaped dot is optional
    ['timeout|refused', ['timeout', 'refused']], // any of them
    ['level":"warn|" 500 ', ['level":"warn', '" 500 ']],
    ['(rank=|Rank )[0-9]+', ['rank=', 'Rank ']], // an alternation in a group
    ['time(out)?s|refused', ['time', 'refused']],
    ['ab|c', undefined], // a branch without a literal of two
    ['ab|c*', undefined], // a branch that may match nothing
    ['(?i)NCCL info', ['~nccl info']],
    ['(?i)tokens', ['~to']], // k and s may match non-ASCII letters: they break the run
    ['(?i)café au', ['~caf']], // so do letters outside ASCII
    ['ab(?i)cdef', ['~abcdef']], // flags later on: the exact ab is searched caselessly too (a superset)
    ['(?i:ab)|cd', ['~ab', 'cd']], // flags in a group hold inside it only
    ['(?i)ab(?-i)CD', ['~abcd']],
    ['[aA]bc', ['~abc']], // a class of one letter in both cases
    ['[.][x]y', ['.xy']], // a class of one character
    ['\\d+ errors', [' errors']],
    ['\\x41bc\\101', ['AbcA']], // escapes of characters
    ['\\Qa.b\\E+', ['a.b']], // quoted text
    ['x{10,20}y', ['xxxxxxxxxxy']], // ten copies at least
    ['(ab){2}c', ['ababc']],
    ['(?:abc)+d', ['abcd']],
    ['(ab)?c|d', undefined],
    ['^\\bword\\b$', ['word']], // assertions match no text
    ['foo(bar|baz)', ['fooba']], // the branches' common prefix
    ['(xbar|ybar)q', ['barq']], // and common suffix
    ['[\\]abc]def', ['def']], // an escaped ] inside a class
    ['[[:alpha:]xy]zz', ['zz']],
    ['\\p{Greek}+ab', ['ab']],
    ['a\\x{FFFD}b', undefined], // U+FFFD also stands for invalid UTF-8 in a line
    ['a(', undefined], // no regex at all
  ])('%s -> %j', (re, expected) => {
    expect(requiredLiterals(re)).toEqual(expected && literals(...expected));
  });

  it('spells out a long repetition only so far', () => {
    expect(requiredLiterals('x{1000}')).toEqual(literals('x'.repeat(64)));
    expect(requiredLiterals('(?:ab){3,}')).toEqual(literals('ababab'));
  });

  it('answers a pattern asked again from what it worked out, which no caller can change', () => {
    const first = requiredLiterals('level=(warn|error)');
    expect(first).toEqual(literals('level='));
    expect(requiredLiterals('level=(warn|error)')).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first![0])).toBe(true);
    expect(requiredLiterals('x.y')).toBeUndefined();
    expect(requiredLiterals('x.y')).toBeUndefined(); // a pattern without literals is remembered too
  });
});
