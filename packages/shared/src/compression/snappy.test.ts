import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as snappyjs from 'snappyjs';
import { snappyCompress, SnappyScratchDecoder, snappyUncompress } from './snappy.js';

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
      // What decodes at all must decode as the reference implementation decodes it.
      if (out) expect(Buffer.compare(out, Buffer.from(snappyjs.uncompress(input)))).toBe(0);
    }
  });
});

describe('snappyUncompress', () => {
  it('decodes every tag kind as snappyjs does: literals of each length form, copies with 1-, 2- and 4-byte offsets', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const runs = Buffer.concat([1, 2, 3, 4, 5, 7, 8, 36].map((period) => Buffer.from(alphabet.slice(0, period).repeat(Math.ceil(300 / period)).slice(0, 300))));
    for (const input of [Buffer.alloc(0), text(1), text(3000), randomBytes(70_000), Buffer.alloc(200_000, 7), runs, Buffer.concat([randomBytes(5000), text(200), randomBytes(70_000)])]) {
      const compressed = snappyCompress(input);
      expect(Buffer.compare(snappyUncompress(compressed), input)).toBe(0);
      expect(Buffer.compare(snappyUncompress(compressed), Buffer.from(snappyjs.uncompress(compressed)))).toBe(0);
    }
    // A copy with a 4-byte offset (tag kind 3), which snappyCompress never writes: "ab", then 4 bytes from 2 back.
    expect(snappyUncompress(Buffer.from([6, 1 << 2, 0x61, 0x62, (3 << 2) | 3, 2, 0, 0, 0])).toString()).toBe('ababab');
    // Literals whose length takes 1, 2 and 3 extra bytes.
    for (const n of [61, 300, 70_000]) {
      const literal = randomBytes(n);
      const m = n - 1;
      const header = m < 256 ? [60 << 2, m] : m < 65536 ? [61 << 2, m & 255, m >> 8] : [62 << 2, m & 255, (m >> 8) & 255, m >> 16];
      const preamble: number[] = [];
      for (let v = n; v >= 128; v >>>= 7) preamble.push((v & 127) | 128);
      preamble.push(n >>> (7 * preamble.length));
      expect(Buffer.compare(snappyUncompress(Buffer.concat([Buffer.from(preamble), Buffer.from(header), literal])), literal)).toBe(0);
    }
  });

  it('is exact at the end of the output, where 4-byte steps would run past it', () => {
    // Every length up to 80, so the last literal or copy ends 0-3 bytes before the end in every way.
    const decoder = new SnappyScratchDecoder();
    decoder.decode(snappyCompress(randomBytes(4096)), 1 << 20); // leaves other bytes in the scratch buffer
    for (let n = 0; n <= 80; n++) {
      for (const input of [Buffer.from('abcdefgh'.repeat(10).slice(0, n)), Buffer.concat([Buffer.from('xyzxyzxyzxyz'), randomBytes(n)])]) {
        const compressed = snappyCompress(input);
        expect(Buffer.compare(snappyUncompress(compressed), input)).toBe(0);
        expect(Buffer.compare(decoder.decode(compressed, 1 << 20)!, input)).toBe(0);
      }
    }
  });

  it('throws a clear error on corrupt input and on a length over the limit', () => {
    expect(() => snappyUncompress(Buffer.from([100, 2 << 2, 0x61, 0x62, 0x63]))).toThrow('snappy: corrupt input');
    expect(() => snappyUncompress(snappyCompress(text(100)), 100)).toThrow('over the limit');
    expect(() => snappyUncompress(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]))).toThrow('snappy: corrupt input');
  });
});

describe('snappyCompress', () => {
  it('writes streams the reference decoder reads back: tiny, incompressible, runs, text, and many 64 KB fragments', () => {
    let seed = 3;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const inputs = [
      ...Array.from({ length: 20 }, (_, n) => Buffer.from('abcabcabcabcabcabcabc'.slice(0, n))),
      randomBytes(100_000),
      Buffer.alloc(300_000, 0x61),
      text(20_000), // several fragments
      Buffer.from(Array.from({ length: 50_000 }, () => 'abcd'[rand(4)]).join('')),
      Buffer.concat([text(100), randomBytes(3000), text(100), Buffer.alloc(70_000, 1), randomBytes(10)]),
    ];
    for (const input of inputs) {
      const compressed = snappyCompress(input);
      expect(Buffer.compare(Buffer.from(snappyjs.uncompress(compressed)), input)).toBe(0);
      expect(compressed.length).toBeLessThanOrEqual(32 + input.length + Math.floor(input.length / 6));
    }
    // It compresses what compresses: repetitive text to a fraction.
    expect(snappyCompress(text(20_000)).length).toBeLessThan(text(20_000).length / 4);
  });
});

