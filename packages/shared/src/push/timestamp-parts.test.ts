import { describe, expect, it } from 'vitest';
import { compareParts, nanosOfParts, nanosPartOf, secondsOf, writeInt64Parts } from './timestamp-parts.js';

const written = (seconds: number, nanos: number): bigint => {
  const buf = Buffer.alloc(8);
  writeInt64Parts(buf, 0, Float64Array.of(seconds), Int32Array.of(nanos), 0);
  return buf.readBigInt64LE(0);
};

describe('timestamp parts', () => {
  it('write seconds * 1e9 + nanos as an exact int64, also where doubles alone would round', () => {
    const cases: Array<[number, number]> = [
      [0, 0],
      [0, 1],
      [0, 999_999_999],
      [1, 0],
      [1_764_547_200, 123_456_789],
      [1_764_547_200, 511],
      [1_764_547_200, 512],
      [2 ** 32 - 1, 999_999_999], // the last second the arithmetic path takes
      [2 ** 32, 5],
      [-1, 999_999_999],
      [-1_000_000, 0], // through the BigInt path
    ];
    for (const [s, n] of cases) expect(written(s, n)).toBe(BigInt(s) * 1_000_000_000n + BigInt(n));
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 10_000; i++) {
      const s = Math.floor(random() * 2 ** 32);
      const n = Math.floor(random() * 1e9);
      expect(written(s, n)).toBe(BigInt(s) * 1_000_000_000n + BigInt(n));
    }
  });

  it('split nanoseconds into seconds rounded down and a part in [0, 1e9), and join them back', () => {
    for (const ns of [0n, 1n, 999_999_999n, 1_000_000_000n, 1_764_547_200_123_456_789n, -1n, -1_000_000_000n, -1_000_000_001n]) {
      const s = secondsOf(ns);
      const n = nanosPartOf(ns);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(1e9);
      expect(nanosOfParts(s, n)).toBe(ns);
    }
    expect([secondsOf(-1n), nanosPartOf(-1n)]).toEqual([-1, 999_999_999]);
  });

  it('order timestamps by seconds, then nanoseconds', () => {
    expect(compareParts(5, 0, 4, 999_999_999)).toBeGreaterThan(0);
    expect(compareParts(5, 1, 5, 2)).toBeLessThan(0);
    expect(compareParts(5, 2, 5, 2)).toBe(0);
    expect(compareParts(Number.NEGATIVE_INFINITY, 0, 0, 0)).toBeLessThan(0);
  });
});
