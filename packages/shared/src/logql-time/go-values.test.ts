import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFloat, formatGoFixed, goParseFloat } from './go-values.js';

/**
 * loki-lite's checkProperty convention, which this package cannot import: each property once with a fixed
 * seed (the same inputs every run) and once with a fresh one (new inputs every run); fast-check's failure
 * message names the seed and path that replay a counterexample.
 */
function checkProperty(property: fc.IProperty<[string]>, runs: { readonly numRuns: number }): void {
  fc.assert(property, { seed: 20261125, numRuns: runs.numRuns });
  fc.assert(property, { numRuns: runs.numRuns });
}

describe('goParseFloat', () => {
  it('accepts exactly the decimal forms Go does, read as Number reads them', () => {
    const decimal = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
    const text = fc.array(fc.constantFrom('0', '1', '9', '.', '-', '+', 'e', 'E', ' ', 'x'), { maxLength: 8 }).map((cs) => cs.join(''));
    checkProperty(
      fc.property(text, (s) => {
        const c = goParseFloat(s);
        expect(c.ok).toBe(decimal.test(s));
        if (c.ok) expect(c.value).toBe(Number(s));
      }),
      { numRuns: 500 },
    );
  });

  it('reads plain decimals of any length as Number does (exactly, past the digits a double holds too)', () => {
    const digits = (max: number) => fc.array(fc.constantFrom('0', '1', '2', '5', '7', '9'), { minLength: 1, maxLength: max }).map((cs) => cs.join(''));
    const decimal = fc
      .tuple(fc.boolean(), digits(18), fc.option(digits(18)))
      .map(([minus, int, frac]) => `${minus ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}`);
    checkProperty(
      fc.property(decimal, (s) => {
        expect(goParseFloat(s)).toEqual({ ok: true, value: Number(s) });
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['960', 960],
    ['-1.5', -1.5],
    ['1.', 1],
    ['.5', 0.5],
    ['1e3', 1000],
    ['Inf', Infinity],
    ['-0', -0],
    ['0.1', 0.1],
    ['123456789012345.6', 123456789012345.6],
    ['9007199254740993', 9007199254740992],
  ])('reads %s', (s, value) => {
    expect(goParseFloat(s)).toEqual({ ok: true, value });
  });

  it.each(['', '-', '1..2', '1-2', '0x10'])("rejects %j with Go's error text", (s) => {
    expect(goParseFloat(s)).toEqual({ ok: false, error: `strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax` });
  });
});

describe('formatFloat (Go FormatFloat f, -1)', () => {
  it.each([
    [2, '2'],
    [0.5, '0.5'],
    [907.8000000000001, '907.8000000000001'],
    [-3, '-3'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [1e21, '1000000000000000000000'],
    [1.5e-7, '0.00000015'],
    [-2.5e-8, '-0.000000025'],
    [123456789e15, '123456789000000000000000'],
  ])('%s -> %s', (v, s) => {
    expect(formatFloat(v)).toBe(s);
  });
});

describe("formatGoFixed (fmt's %.Nf)", () => {
  it.each([
    [2.25, 1, '2.2'], // a tie: Go rounds to the even digit, toFixed away from zero
    [2.35, 1, '2.4'], // not a tie: 2.35 is stored as 2.35000000000000008882
    [-2.25, 1, '-2.2'],
    [0.5, 0, '0'],
    [1.5, 0, '2'],
    [2.5, 0, '2'],
    [1.125, 2, '1.12'],
    [3.14159, 3, '3.142'],
    [-0, 2, '-0.00'],
    [1e21, 1, '1000000000000000000000.0'],
    [Infinity, 2, '+Inf'],
    [NaN, 2, 'NaN'],
  ])('formats %s with %i decimals as %s', (v, decimals, text) => {
    expect(formatGoFixed(v, decimals)).toBe(text);
  });
});
