import { describe, expect, it } from 'vitest';
import { compileGoRegex } from './go-regex.js';

describe('Go regex translation', () => {
  it.each([
    ['(?i)loki', 'LOKI', true],
    ['(?i)loki', 'lokix', false],
    ['[[:digit:]]+', '123', true],
    ['[[:alpha:]_]+', 'ab_c', true],
    ['[[:alpha:]]+', '12', false],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['(?P<x>a)b', 'ab', true],
    ['[]a]+', ']a]', true],
    ['(?s)a.b', 'a\nb', true],
    ['a.b', 'a\nb', false],
  ])('%s matches %j fully: %s', (re, input, want) => {
    expect(compileGoRegex(re, true).test(input)).toBe(want);
  });

  it.each([
    ['a(?=b)', 'invalid or unsupported Perl syntax: `(?='],
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['[a', 'missing closing ]'],
    ['a)', 'error parsing regexp'],
  ])('rejects %s like RE2', (re, message) => {
    expect(() => compileGoRegex(re, false)).toThrow(message);
  });
});
