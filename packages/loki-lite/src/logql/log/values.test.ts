import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../testing/property.js';
import { goParseFloat } from './values.js';

describe('goParseFloat', () => {
  it('accepts exactly the decimal forms Go does, read as Number reads them', async () => {
    const decimal = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
    const text = fc.array(fc.constantFrom('0', '1', '9', '.', '-', '+', 'e', 'E', ' ', 'x'), { maxLength: 8 }).map((cs) => cs.join(''));
    await checkProperty(fc.property(text, (s) => {
      const c = goParseFloat(s);
      expect(c.ok).toBe(decimal.test(s));
      if (c.ok) expect(c.value).toBe(Number(s));
    }), { numRuns: 500 });
  });

  it('reads plain decimals of any length as Number does (exactly, past the digits a double holds too)', async () => {
    const digits = (max: number) => fc.array(fc.constantFrom('0', '1', '2', '5', '7', '9'), { minLength: 1, maxLength: max }).map((cs) => cs.join(''));
    const decimal = fc.tuple(fc.boolean(), digits(18), fc.option(digits(18))).map(([minus, int, frac]) => `${minus ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}`);
    await checkProperty(fc.property(decimal, (s) => {
      expect(goParseFloat(s)).toEqual({ ok: true, value: Number(s) });
    }), { numRuns: 1000 });
  });

  it.each([['960', 960], ['-1.5', -1.5], ['1.', 1], ['.5', 0.5], ['1e3', 1000], ['Inf', Infinity], ['-0', -0], ['0.1', 0.1], ['123456789012345.6', 123456789012345.6], ['9007199254740993', 9007199254740992]])('reads %s', (s, value) => {
    expect(goParseFloat(s)).toEqual({ ok: true, value });
  });

  it.each(['', '-', '1..2', '1-2', '0x10'])('rejects %j with Go\'s error text', (s) => {
    expect(goParseFloat(s)).toEqual({ ok: false, error: `strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax` });
  });
});
