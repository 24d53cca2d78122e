import { describe, expect, it } from 'vitest';
import { fingerprint } from './fingerprint.js';
import { findDuplicateLabelName } from './labels.js';
import { parseLabels } from './parse.js';
import { printLabels } from './print.js';

describe('labels', () => {
  it.each([
    ['{}', '{}'],
    ['{b="2", a="1"}', '{a="1", b="2"}'],
    ['  { app = "x" , job=`raw\\n` }', '{app="x", job="raw\\\\n"}'],
    ['{a="quote\\" back\\\\ nl\\n tab\\t \\u00e9 \\x41"}', '{a="quote\\" back\\\\ nl\\n tab\\t é A"}'],
  ])('parses %s and prints it as Loki does', (src, printed) => {
    expect(printLabels(parseLabels(src))).toBe(printed);
  });

  it.each([
    ['', 'parse error at line 1, col 1: syntax error: unexpected $end, expecting {'],
    ['{a="b"', 'parse error at line 1, col 7: syntax error: unexpected $end, expecting , or }'],
    ['{a=b}', 'parse error at line 1, col 4: syntax error: unexpected IDENTIFIER, expecting STRING'],
    ['{1a="b"}', 'parse error at line 1, col 2'],
    ['{a="b"} x', 'parse error at line 1, col 9'],
    ['{a="\\q"}', 'invalid syntax'],
  ])('rejects %j', (src, message) => {
    expect(() => parseLabels(src)).toThrow(message);
  });

  it('keeps duplicates for the validator to name', () => {
    expect(findDuplicateLabelName(parseLabels('{a="1", b="2", a="3"}'))).toBe('a');
    expect(findDuplicateLabelName(parseLabels('{a="1", b="2"}'))).toBeUndefined();
  });

  it('fingerprints are stable, order-independent and distinguish name/value boundaries', () => {
    const fp = fingerprint(parseLabels('{a="1", b="2"}'));
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(parseLabels('{b="2", a="1"}'))).toBe(fp);
    expect(fingerprint(parseLabels('{a="12"}'))).not.toBe(fingerprint(parseLabels('{a1="2"}')));
  });
});
