import { describe, expect, it } from 'vitest';
import { snappyCompress, SnappyScratchDecoder } from '../compression/snappy.js';
import { ByteNeedle, searchedInPlace } from './byte-search.js';

/** A deterministic generator, so a failure names its case. */
function random(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const every = (needle: ByteNeedle, buf: Buffer, from = 0): number[] => {
  const out: number[] = [];
  for (let p = needle.indexIn(buf, from); p >= 0; p = needle.indexIn(buf, p + 1)) out.push(p);
  return out;
};
const everyIndexOf = (needle: Buffer, buf: Buffer, from = 0): number[] => {
  const out: number[] = [];
  for (let p = buf.indexOf(needle, from); p >= 0; p = buf.indexOf(needle, p + 1)) out.push(p);
  return out;
};

describe('ByteNeedle', () => {
  it('finds what indexOf finds in a block the snappy decoder wrote, searched in place: every start offset, needles of 2-20 bytes, matches in the vector part and the last 15 bytes', () => {
    const decoder = new SnappyScratchDecoder();
    const next = random(7);
    // A three-letter alphabet: partial matches everywhere, and pairs of needle bytes that match without the rest.
    const alphabet = 'ab\n';
    for (let round = 0; round < 300; round++) {
      const length = next(300);
      const raw = Buffer.from(Array.from({ length }, () => alphabet[next(3)]!).join(''));
      const block = decoder.decode(snappyCompress(raw), 1 << 20)!;
      expect(searchedInPlace(block)).toBe(true);
      const needleBytes = Buffer.from(Array.from({ length: 2 + next(19) }, () => alphabet[next(3)]!).join(''));
      const needle = new ByteNeedle(needleBytes);
      for (const from of [0, 1, next(length + 1), Math.max(0, length - 20), length]) {
        expect(
          every(needle, block, from),
          `round ${round}: ${JSON.stringify(needleBytes.toString())} from ${from} in ${JSON.stringify(raw.toString())}`,
        ).toEqual(everyIndexOf(needleBytes, raw, from));
      }
    }
  });

  it('finds a needle whose rarest bytes are not its first ones, at the start, in the middle and at the very end of a block', () => {
    const decoder = new SnappyScratchDecoder();
    const filler = 'Tue 2026-12-03T13:25:07Z level=info msg="step done" took=12ms\n'.repeat(40);
    const raw = Buffer.from(`Traceback${filler}Traceback (most recent call last)${filler}Traceback`);
    const block = decoder.decode(snappyCompress(raw), 1 << 20)!;
    expect(searchedInPlace(block)).toBe(true);
    expect(every(new ByteNeedle(Buffer.from('Traceback')), block)).toEqual(everyIndexOf(Buffer.from('Traceback'), raw));
    expect(every(new ByteNeedle(Buffer.from('Traceback')), block)).toHaveLength(3);
    expect(new ByteNeedle(Buffer.from('took=13ms')).indexIn(block, 0)).toBe(-1);
  });

  it("keeps searching in place after the decoder's memory grows", () => {
    const decoder = new SnappyScratchDecoder();
    const small = decoder.decode(snappyCompress(Buffer.from('x NCCL y')), 1 << 30)!;
    const raw = Buffer.concat([Buffer.alloc(3 << 20, 'z'), Buffer.from('NCCL WARN')]);
    const big = decoder.decode(snappyCompress(raw), 1 << 30)!;
    expect(big.buffer).not.toBe(small.buffer);
    expect(searchedInPlace(big)).toBe(true);
    expect(new ByteNeedle(Buffer.from('NCCL')).indexIn(big, 0)).toBe(3 << 20);
  });

  it('searches any other Buffer with indexOf', () => {
    const buf = Buffer.from('level=info msg="NCCL WARN"');
    expect(searchedInPlace(buf)).toBe(false);
    expect(new ByteNeedle(Buffer.from('NCCL')).indexIn(buf, 0)).toBe(16);
    expect(new ByteNeedle(Buffer.from('NCCL')).indexIn(buf, 17)).toBe(-1);
  });
});
