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
    const runs = Buffer.concat(
      [1, 2, 3, 4, 5, 7, 8, 36].map((period) =>
        Buffer.from(
          alphabet
            .slice(0, period)
            .repeat(Math.ceil(300 / period))
            .slice(0, 300),
        ),
      ),
    );
    for (const input of [
      Buffer.alloc(0),
      text(1),
      text(3000),
      randomBytes(70_000),
      Buffer.alloc(200_000, 7),
      runs,
      Buffer.concat([randomBytes(5000), text(200), randomBytes(70_000)]),
    ]) {
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
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
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

/*
 * Hand-built streams, so that every path of the decoders is reached on purpose: the compressor above only
 * writes some tag forms (never 4-byte offsets, never a length in more bytes than it needs).
 */
type Piece = { literal: Uint8Array; lengthBytes?: number } | { kind: 1 | 2 | 3; offset: number; length: number };

function preamble(n: number): number[] {
  const out: number[] = [];
  for (; n >= 128; n = Math.floor(n / 128)) out.push((n & 127) | 128);
  out.push(n);
  return out;
}

/** The raw snappy stream of `pieces`, with `length` in the preamble (by default what they decode to). */
function stream(pieces: readonly Piece[], length?: number): Buffer {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const p of pieces) {
    if ('literal' in p) {
      const m = p.literal.length - 1;
      const extra = p.lengthBytes ?? (m < 60 ? 0 : m < 0x100 ? 1 : m < 0x10000 ? 2 : m < 0x1000000 ? 3 : 4);
      if (extra === 0) parts.push(Buffer.from([m << 2]));
      else parts.push(Buffer.from([(59 + extra) << 2, ...[0, 8, 16, 24].slice(0, extra).map((s) => Math.floor(m / 2 ** s) & 255)]));
      parts.push(p.literal);
      total += p.literal.length;
    } else {
      if (p.kind === 1) parts.push(Buffer.from([1 | ((p.length - 4) << 2) | ((p.offset >> 8) << 5), p.offset & 255]));
      else if (p.kind === 2) parts.push(Buffer.from([2 | ((p.length - 1) << 2), p.offset & 255, p.offset >> 8]));
      else parts.push(Buffer.from([3 | ((p.length - 1) << 2), ...[0, 8, 16, 24].map((s) => Math.floor(p.offset / 2 ** s) & 255)]));
      total += p.length;
    }
  }
  return Buffer.concat([Buffer.from(preamble(length ?? total)), ...parts]);
}

/** What `pieces` decode to, byte by byte: the reference the streams are checked against. */
function expected(pieces: readonly Piece[]): Buffer {
  const out = Buffer.alloc(pieces.reduce((n, p) => n + ('literal' in p ? p.literal.length : p.length), 0));
  let o = 0;
  for (const p of pieces) {
    if ('literal' in p) {
      out.set(p.literal, o);
      o += p.literal.length;
    } else for (let i = 0; i < p.length; i++, o++) out[o] = out[o - p.offset]!;
  }
  return out;
}

const literal = (text: string | Uint8Array, lengthBytes?: number): Piece => ({ literal: typeof text === 'string' ? Buffer.from(text) : text, lengthBytes });
const copy = (kind: 1 | 2 | 3, offset: number, length: number): Piece => ({ kind, offset, length });

/** Each way the package decodes, as `decode(input, maxLength)` returning undefined for corrupt input. */
function decoders(): [string, (input: Uint8Array, maxLength: number) => Buffer | undefined][] {
  const scratch = new SnappyScratchDecoder();
  // Dirty the reused memory, so a decoder that leaves bytes unwritten shows them.
  scratch.decode(snappyCompress(randomBytes(300_000)), 1 << 20);
  const uncompress = (input: Uint8Array, maxLength: number) => {
    try {
      return snappyUncompress(input, maxLength);
    } catch {
      return undefined;
    }
  };
  return [
    ['SnappyScratchDecoder', (input, max) => scratch.decode(input, max)],
    ['snappyUncompress', uncompress],
  ];
}

describe.each(decoders())('%s on hand-built streams', (_name, decode) => {
  const check = (pieces: readonly Piece[]) => {
    const input = stream(pieces);
    const want = expected(pieces);
    // snappyjs agrees wherever it reads the stream (it refuses a long literal's length within 4 bytes of the end).
    let reference: Uint8Array | undefined;
    try {
      reference = snappyjs.uncompress(input);
    } catch {
      reference = undefined;
    }
    if (reference) expect(Buffer.from(reference).equals(want)).toBe(true);
    expect(decode(input, 1 << 30)?.equals(want)).toBe(true);
  };

  it('reads literal lengths in the tag and in 1, 2, 3 and 4 extra bytes, short and long literals alike', () => {
    for (const n of [1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 60, 61, 64, 65, 255, 256, 257, 1000, 70_000]) {
      for (const lengthBytes of [undefined, 1, 2, 3, 4]) {
        if (lengthBytes && n - 1 >= 2 ** (8 * lengthBytes)) continue;
        check([literal(randomBytes(n), lengthBytes), literal('tail')]);
        check([literal('head'), literal(randomBytes(n), lengthBytes)]);
      }
    }
  });

  it('copies with each tag kind, every offset 1-20 (overlapping runs) and every length 1-64', () => {
    const head = literal('0123456789abcdefghijklmnopqrstuvwxyz');
    for (let offset = 1; offset <= 20; offset++) {
      for (let length = 1; length <= 64; length++) {
        check([head, copy(2, offset, length), literal('!')]);
        check([head, copy(3, offset, length), literal('!')]);
        if (length >= 4 && length <= 11) check([head, copy(1, offset, length), literal('!')]);
        // The copy is the last piece: it ends exactly at the end of the output.
        check([head, copy(2, offset, length)]);
      }
    }
    check([literal(randomBytes(3000)), copy(1, 2047, 11), copy(2, 3000, 64), copy(3, 3070, 64), copy(2, 3128, 5), literal('end of it')]);
  });

  it('matches snappyjs on random streams of every tag form', () => {
    let seed = 17;
    const rand = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    for (let round = 0; round < 300; round++) {
      let size = 1 + rand(40);
      const pieces: Piece[] = [literal(randomBytes(size))];
      for (let i = rand(60); i > 0; i--) {
        const r = rand(4);
        if (r === 0) {
          const n = 1 + (rand(4) === 0 ? rand(3000) : rand(20));
          pieces.push(literal(Buffer.from(Array.from({ length: n }, () => 97 + rand(3))), rand(3) === 0 ? 1 + rand(4) : undefined));
          size += n;
          continue;
        }
        const offset = 1 + (rand(2) ? rand(Math.min(size, 16)) : rand(size));
        const kind = (offset < 2048 && rand(2) ? 1 : 2 + rand(2)) as 1 | 2 | 3;
        const length = kind === 1 ? 4 + rand(8) : 1 + rand(64);
        pieces.push(copy(kind, offset, length));
        size += length;
      }
      check(pieces);
    }
    // And what snappyjs's own compressor writes, for random mixes of text, runs and noise.
    for (let round = 0; round < 100; round++) {
      const input = Buffer.concat(
        Array.from({ length: 1 + rand(8) }, () => [text(rand(200)), Buffer.alloc(rand(500), rand(256)), randomBytes(rand(3000))][rand(3)]!),
      );
      expect(decode(snappyjs.compress(input), 1 << 30)?.equals(input)).toBe(true);
    }
  });

  it('rejects corrupt streams: truncated tags, bad offsets, wrong lengths, lengths over the limit', () => {
    const head = literal('abcdefgh');
    const valid = stream([head, copy(2, 8, 8)]);
    expect(decode(valid, 16)?.toString()).toBe('abcdefghabcdefgh');
    const corrupt = [
      // A tag cut short: each kind, a literal's length bytes and a literal's body.
      ...[[1 | (0 << 2)], [2 | (7 << 2), 8], [3 | (7 << 2), 8, 0, 0], [60 << 2], [63 << 2, 1, 0, 0], [7 << 2, 1, 2, 3]].map((tag) =>
        Buffer.concat([stream([head], 24), Buffer.from(tag)]),
      ),
      valid.subarray(0, valid.length - 1),
      stream([head, copy(2, 0, 4)]), // offset 0
      stream([head, copy(1, 9, 4)]), // before the start of the output
      stream([head, copy(3, 0xffffffff, 4)]), // far before it (an address would wrap)
      stream([head, copy(2, 8, 8)], 15), // writes past the stated length
      stream([head, literal('xy')], 9), // a literal past it
      stream([head, literal(randomBytes(200_000))], 9), // far past it (past a scratch memory's end)
      stream([head, copy(2, 8, 8)], 17), // ends before the stated length
      stream([], 1), // no tags at all
      Buffer.from([...preamble(8), 63 << 2, 0xff, 0xff, 0xff, 0xff, ...Buffer.from('abcdefgh')]), // a 4 GB literal length (wraps to 0)
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), // no end to the preamble
    ];
    for (const input of corrupt) expect(decode(input, 1 << 30)).toBeUndefined();
    expect(decode(valid, 15)).toBeUndefined(); // over maxLength
  });
});

describe('SnappyScratchDecoder at the end of its wasm memory', () => {
  it('is exact at the very end of its memory, where 8- and 16-byte steps run past the last piece', () => {
    // A fresh decoder per stream, so its memory is as small as the stream allows; the sizes around 64 KB
    // make the output end at every distance from the end of the memory (a run of 1-8 bytes shifts the
    // output's end against the 8-byte alignment of its start).
    for (let n = 32_736; n <= 32_760; n++) {
      for (let run = 1; run <= 8; run++) {
        for (const last of [literal('z'), literal('0123456789abcde'), copy(1, 1, 7), copy(2, 9, 3), copy(2, 20, 16)]) {
          const pieces = [literal(Buffer.alloc(n, 0x61)), copy(2, 1, run), last];
          expect(new SnappyScratchDecoder().decode(stream(pieces), 1 << 30)?.equals(expected(pieces))).toBe(true);
        }
      }
    }
  });
});
