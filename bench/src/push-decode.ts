import { decodePushRequestProto, encodePushRequestProto, NO_METADATA, PUSH_PROTO, type PushEntry, type PushStream } from '@loki-lite/shared';
import protobuf from 'protobufjs';
import { LineGenerator } from './loglines.js';

/*
 * Micro benchmark for the push decoder (the only hand-tuned codec on the ingest path): our WireReader
 * decoder against protobufjs' generated decoder for Loki's push.proto followed by the conversion to our
 * types, which is what using the library directly would cost. Same input, warm JIT, best of 5.
 *
 *   node bench/dist/push-decode.js
 */
const PushRequestType = protobuf.parse(PUSH_PROTO).root.lookupType('logproto.PushRequest');

interface Generated {
  streams: Array<{
    labels: string;
    entries: Array<{
      timestamp: { seconds: number | { toNumber(): number }; nanos: number };
      line: string;
      structuredMetadata: Array<{ name: string; value: string }>;
    }>;
  }>;
}

function viaProtobufjs(buf: Buffer): PushStream[] {
  const msg = PushRequestType.decode(buf) as unknown as Generated;
  return msg.streams.map((s) => ({
    labels: s.labels,
    entries: s.entries.map(
      (e): PushEntry => ({
        timestamp: BigInt(Number(e.timestamp.seconds)) * 1_000_000_000n + BigInt(e.timestamp.nanos),
        line: e.line,
        structuredMetadata: e.structuredMetadata.length > 0 ? e.structuredMetadata : NO_METADATA,
      }),
    ),
  }));
}

const gen = new LineGenerator(7);
const start = BigInt(Date.now()) * 1_000_000n;
let seq = 0;
let bytes = 0;
const bodies: Buffer[] = [];
for (let r = 0; r < 100; r++) {
  const streams: PushStream[] = [];
  for (let s = 0; s < 200; s++) {
    const entries: PushEntry[] = [];
    for (let k = 0; k < 5; k++) {
      const line = gen.line(seq, '2026-11-25T00:00:00.000Z');
      bytes += line.length;
      entries.push({ timestamp: start + BigInt(seq++) * 1000n, line, structuredMetadata: NO_METADATA });
    }
    streams.push({ labels: `{app="bench", pod="worker-${s}"}`, entries });
  }
  bodies.push(Buffer.from(encodePushRequestProto({ streams })));
}

function bestOf(fn: (b: Buffer) => unknown): number {
  let best = Infinity;
  for (let round = 0; round < 6; round++) {
    const t = process.hrtime.bigint();
    for (const b of bodies) fn(b);
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (round > 0) best = Math.min(best, s); // round 0 warms the JIT
  }
  return best;
}

const mb = bytes / 1024 / 1024;
const lines = seq;
for (const [name, fn] of [
  ['WireReader (ours)', decodePushRequestProto],
  ['protobufjs generated + convert', viaProtobufjs],
] as const) {
  const s = bestOf(fn);
  console.log(
    `${name.padEnd(32)} ${(mb / s).toFixed(0).padStart(5)} MB/s  ${((s / lines) * 1e9).toFixed(0).padStart(5)} ns/line  ${((s / mb) * 100).toFixed(2)} CPU-s per 100 MB`,
  );
}
