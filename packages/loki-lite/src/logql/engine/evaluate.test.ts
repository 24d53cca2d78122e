import { describe, expect, it } from 'vitest';
import { parseQuery } from '../syntax/parser.js';
import type { SampleExpr } from '../syntax/ast.js';
import { evaluateInstant } from './evaluate.js';
import { formatFloat, type InstantValue } from './value.js';

const run = (q: string): InstantValue => evaluateInstant(parseQuery(q) as SampleExpr, 0n);
const scalar = (q: string) => {
  const v = run(q);
  if (v.kind !== 'scalar') throw new Error(`${q} is not a scalar`);
  return v.value;
};
const vector = (q: string) => {
  const v = run(q);
  if (v.kind !== 'vector') throw new Error(`${q} is not a vector`);
  return v.samples.map((s) => s.value);
};

describe('sample expressions', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ^ 10 % 7', 2], // ^ binds tighter than %
    ['2 ^ 3 ^ 2', 512], // ^ is right-associative
    ['10 - 4 - 3', 3], // the others are left-associative
    ['-2 ^ 2', 4], // LogQL's grammar makes the sign part of the literal (Prometheus would say -4)
    ['7 % -3', 1], // Go's math.Mod keeps the dividend's sign
    ['-7 % 3', -1],
    ['1 / 0', Infinity],
    ['5 > bool 3', 1],
    ['5 == bool 3', 0],
    ['0x10 + 1e1', 26],
  ])('%s = %s', (q, want) => {
    expect(scalar(q)).toBe(want);
  });

  it.each([
    ['vector(1) + vector(1)', [2]],
    ['vector(5) > bool vector(3)', [1]],
    ['vector(5) > vector(3)', [5]], // comparison without bool filters and keeps the left value
    ['vector(1) > vector(3)', []],
    ['vector(2) * 3', [6]],
    ['3 - vector(2)', [1]],
    ['vector(2) < 1', []],
    ['vector(1) and vector(2)', [1]],
    ['vector(1) unless vector(2)', []],
    ['vector(1) or vector(2)', [1]],
    ['vector(-3)', [-3]],
  ])('%s', (q, want) => {
    expect(vector(q)).toEqual(want);
  });

  it.each([
    ['1 > 2', 'comparisons between scalars must use BOOL modifier'],
    ['1 and 2', 'set operator "and" not allowed in binary scalar expression'],
    ['vector(1) + bool 1', 'bool modifier can only be used on comparison operators'],
  ])('%s is refused', (q, message) => {
    expect(() => run(q)).toThrow(message);
  });
});

describe('formatFloat (Go FormatFloat f, -1)', () => {
  it.each([
    [2, '2'], [0.5, '0.5'], [907.8000000000001, '907.8000000000001'], [-3, '-3'], [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf'],
    [1e21, '1000000000000000000000'], [1.5e-7, '0.00000015'], [-2.5e-8, '-0.000000025'], [123456789e15, '123456789000000000000000'],
  ])('%s -> %s', (v, s) => {
    expect(formatFloat(v)).toBe(s);
  });
});
