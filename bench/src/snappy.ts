import { snappyCompress, SnappyScratchDecoder, snappyUncompress } from '@loki-lite/shared';
import * as snappyjs from 'snappyjs';
import { Bench } from 'tinybench';
import { LineGenerator } from './loglines.js';

/*
 * Micro benchmark for raw snappy on chunk blocks: our hand-tuned compressor and WebAssembly decoder
 * (shared/compression/snappy.ts, snappy-decode.wat) against snappyjs, the library they replace.
 * Input: 256 KB blocks of the bench's training-cluster lines, as the ingester cuts them.
 *
 *   npx -y pnpm@10.34.8 bench:snappy
 */

const BLOCK = 256 * 1024;

function block(seed: number): Buffer {
  const gen = new LineGenerator(seed);
  const lines: string[] = [];
  let size = 0;
  for (let seq = 0; size < BLOCK; seq++) {
    const line = gen.line(seq, new Date(Date.UTC(2026, 11, 1) + seq).toISOString());
    lines.push(line);
    size += line.length + 10; // about what a block entry adds per line: timestamp and length
  }
  return Buffer.from(lines.join('\n'));
}

const raw = block(11);
const compressed = snappyCompress(raw);
if (Buffer.compare(snappyUncompress(compressed), raw) !== 0) throw new Error('our decoder does not round-trip the block');

const scratch = new SnappyScratchDecoder();
if (Buffer.compare(scratch.decode(compressed, BLOCK * 2)!, raw) !== 0) throw new Error('the scratch decoder does not round-trip the block');

// The scratch rows decode into a reused buffer, as a chunk scan does; the others return a fresh buffer.
const bench = new Bench({ time: 1500, warmupTime: 300 });
bench
  .add('decompress: ours (shared/compression)', () => snappyUncompress(compressed))
  .add('decompress: ours, scratch', () => scratch.decode(compressed, BLOCK * 2))
  .add('decompress: snappyjs', () => snappyjs.uncompress(compressed))
  .add('compress: ours (shared/compression)', () => snappyCompress(raw))
  .add('compress: snappyjs', () => snappyjs.compress(raw));
await bench.run();

console.log(
  `block: ${raw.length} bytes, compressed by ours to ${compressed.length} (${(raw.length / compressed.length).toFixed(2)}x), by snappyjs to ${snappyjs.compress(raw).length}`,
);
for (const task of bench.tasks) {
  const r = task.result;
  if (!r || r.state !== 'completed') throw new Error(`${task.name}: ${r?.state ?? 'no result'}`);
  const opsPerSecond = r.throughput.mean;
  console.log(
    `${task.name.padEnd(40)} ${opsPerSecond.toFixed(0).padStart(6)} ops/s  ${((opsPerSecond * raw.length) / 1e6).toFixed(0).padStart(5)} MB/s (uncompressed bytes)`,
  );
}
