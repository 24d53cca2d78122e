import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { snappyCompress, snappyDecodedLength, SnappyScratchDecoder, snappyUncompress } from './snappy.js';

const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `line ${i % 97} level=info step=${i}\n`).join(''));

describe('SnappyScratchDecoder', () => {
  it('decodes what snappyCompress wrote, reusing one buffer across calls', () => {
    const decoder = new SnappyScratchDecoder();
    const big = text(5000);
    const small = text(10);
    const first = decoder.decode(snappyCompress(big), 1 << 30)!;
    expect(Buffer.compare(first, big)).toBe(0);
    const second = decoder.decode(snappyCompress(small), 1 << 30)!;
    expect(Buffer.compare(second, small)).toBe(0);
    expect(second.buffer).toBe(first.buffer); // the same scratch, no new allocation
  });

  it('rejects a stream longer than maxLength before decoding it', () => {
    expect(new SnappyScratchDecoder().decode(snappyCompress(text(100)), 100)).toBeUndefined();
  });

  it('rejects a stream that decodes to fewer bytes than its preamble says, so no stale bytes leak', () => {
    const decoder = new SnappyScratchDecoder();
    decoder.decode(snappyCompress(Buffer.alloc(4096, 0x41)), 1 << 20);
    // Preamble says 100 bytes; the only tag is a 3-byte literal.
    const short = Buffer.from([100, 2 << 2, 0x61, 0x62, 0x63]);
    expect(decoder.decode(short, 1 << 20)).toBeUndefined();
    expect(() => snappyUncompress(short)).not.toThrow(); // snappyjs alone would hand back zero padding
  });

  it('rejects streams that write past their stated length or copy from before the start', () => {
    const decoder = new SnappyScratchDecoder();
    const long = Buffer.from([2, 2 << 2, 0x61, 0x62, 0x63]); // 3 literal bytes, preamble 2
    const badOffset = Buffer.from([8, 0 << 2, 0x61, (4 << 2) | 1 | 0, 5]); // copy at offset 5 after 1 byte
    expect(decoder.decode(long, 1 << 20)).toBeUndefined();
    expect(decoder.decode(badOffset, 1 << 20)).toBeUndefined();
  });

  it('never throws on random or truncated input', () => {
    const decoder = new SnappyScratchDecoder();
    const good = snappyCompress(text(300));
    for (let i = 0; i < 2000; i++) {
      const input = i % 2 ? randomBytes(1 + (i % 200)) : good.subarray(0, i % good.length);
      const out = decoder.decode(input, 1 << 20);
      if (out) expect(out.length).toBe(snappyDecodedLength(input));
    }
  });
});

describe('snappyDecodedLength', () => {
  it('sums the output of every tag kind (literals, 1-, 2- and 4-byte-offset copies)', () => {
    for (const input of [text(1), text(3000), randomBytes(70_000), Buffer.alloc(200_000, 7)]) {
      expect(snappyDecodedLength(snappyCompress(input))).toBe(input.length);
    }
    // A copy with a 4-byte offset (tag kind 3): literal "ab", then copy 4 bytes from offset 2.
    expect(snappyDecodedLength(Buffer.from([6, 1 << 2, 0x61, 0x62, (3 << 2) | 3, 2, 0, 0, 0]))).toBe(6);
  });
});
