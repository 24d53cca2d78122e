import { gzipSync, deflateRawSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { LokiError } from '../errors.js';
import { snappyCompress } from '../compression/snappy.js';
import { decodePushBody } from './body.js';
import { decodePushRequestJson, encodePushRequestJson } from './json.js';
import { decodePushRequestProto, encodePushRequestProto } from './protobuf.js';
import { PUSH_PROTO } from './push-proto.js';
import type { DecodedPushRequest, PushRequest } from './types.js';

/** A decoded request with its entry columns turned back into objects, to compare with what was sent. */
const objects = (d: DecodedPushRequest) => ({ streams: d.streams.map((s) => ({ labels: s.labels, entries: s.entries.toEntries() })) });

const sample: PushRequest = {
  streams: [
    {
      labels: '{app="api", env="prod"}',
      entries: [
        { timestamp: 1795132800123456789n, line: 'hello ünïcode', structuredMetadata: [{ name: 'trace_id', value: 'abc' }] },
        { timestamp: 1795132800123456790n, line: '', structuredMetadata: [] },
      ],
    },
    { labels: '{app="db"}', entries: [{ timestamp: -1500000000n, line: 'before epoch', structuredMetadata: [] }] },
  ],
};

// An independent encoder built by protobufjs from the .proto text of Loki's push.proto, to prove our
// hand-placed field numbers and wire types are the ones Loki (and Promtail/Alloy) use.
const root = protobuf.parse(PUSH_PROTO).root;
const ReferencePushRequest = root.lookupType('logproto.PushRequest');

describe('protobuf push codec', () => {
  it('decodes what a reference protobuf encoder writes, including structured metadata and unknown fields', () => {
    const bytes = ReferencePushRequest.encode(
      ReferencePushRequest.fromObject({
        streams: [
          {
            labels: '{job="x"}',
            hash: 42,
            entries: [{ timestamp: { seconds: 1795132800, nanos: 5 }, line: 'a', structuredMetadata: [{ name: 'k', value: 'v' }] }],
          },
        ],
      }),
    ).finish();
    expect(objects(decodePushRequestProto(bytes))).toEqual({
      streams: [{ labels: '{job="x"}', entries: [{ timestamp: 1795132800000000005n, line: 'a', structuredMetadata: [{ name: 'k', value: 'v' }] }] }],
    });
  });

  it('refuses a Timestamp before 0001-01-01 or from 10000-01-01 on, as Loki (gogo) does, and takes the days in between', () => {
    const withSeconds = (seconds: number, nanos = 0) =>
      ReferencePushRequest.encode(
        ReferencePushRequest.fromObject({
          streams: [{ labels: '{job="x"}', entries: [{ timestamp: { seconds, nanos }, line: 'a' }] }],
        }),
      ).finish();
    const timestampOf = (bytes: Uint8Array) => decodePushRequestProto(bytes).streams[0]!.entries.timestamp(0);
    expect(timestampOf(withSeconds(-62135596800))).toBe(-62135596800n * 1_000_000_000n);
    expect(timestampOf(withSeconds(253402300799, 999_999_999))).toBe(253402300799_999_999_999n);
    expect(() => decodePushRequestProto(withSeconds(-62135596801))).toThrow(
      new LokiError('bad_data', 'invalid_timestamp', 'timestamp: seconds:-62135596801 before 0001-01-01'),
    );
    expect(() => decodePushRequestProto(withSeconds(253402300800, 7))).toThrow('timestamp: seconds:253402300800 nanos:7 after 10000-01-01');
    expect(() => decodePushRequestProto(withSeconds(Number.MAX_SAFE_INTEGER))).toThrow('after 10000-01-01');
  });

  it('writes what a reference decoder reads', () => {
    const decoded = ReferencePushRequest.toObject(ReferencePushRequest.decode(encodePushRequestProto(sample)), { longs: String });
    expect(decoded.streams[0].entries[0].timestamp).toEqual({ seconds: '1795132800', nanos: 123456789 });
    expect(decoded.streams[0].entries[0].structuredMetadata).toEqual([{ name: 'trace_id', value: 'abc' }]);
    expect(decoded.streams[1].entries[0].timestamp).toEqual({ seconds: '-2', nanos: 500000000 });
  });

  it('round-trips', () => {
    expect(objects(decodePushRequestProto(encodePushRequestProto(sample)))).toEqual(sample);
  });
});

describe('JSON push codec', () => {
  it('round-trips, sorting stream labels like Loki', () => {
    const text = encodePushRequestJson(sample);
    expect(objects(decodePushRequestJson(text))).toEqual(sample);
    const unsorted = '{"streams":[{"stream":{"z":"1","a":"2"},"values":[["1","x"]]}]}';
    expect(decodePushRequestJson(unsorted).streams[0]!.labels).toBe('{a="2", z="1"}');
  });

  it.each([
    ['not json', 'invalid JSON push body'],
    ['{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}', 'timestamp must be a string'],
    ['{"streams":[{"stream":{"a":"b"},"values":[["12x","x"]]}]}', 'invalid syntax'],
    ['{"streams":[{"stream":{"a":"b"},"values":[["9999999999999999999","x"]]}]}', 'value out of range'],
    ['{"streams":[{"stream":{"a":1},"values":[]}]}', 'value of "a" is not a string'],
    ['{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"k":2}]]}]}', 'value of "k" is not a string'],
  ])('rejects %s with a bad_data error', (body, text) => {
    const err = (() => {
      try {
        decodePushRequestJson(body);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LokiError);
    expect((err as LokiError).kind).toBe('bad_data');
    expect((err as LokiError).message).toContain(text);
  });
});

describe('push body', () => {
  const proto = snappyCompress(encodePushRequestProto(sample));
  const json = Buffer.from(encodePushRequestJson(sample));
  const opts = { maxMessageBytes: 1 << 20 };

  it('accepts protobuf+snappy and JSON, plain, gzip and deflate', () => {
    expect(objects(decodePushBody(Buffer.from(proto), { ...opts, contentType: 'application/x-protobuf', contentEncoding: undefined }))).toEqual(sample);
    expect(objects(decodePushBody(json, { ...opts, contentType: 'application/json; charset=utf-8', contentEncoding: '' }))).toEqual(sample);
    expect(objects(decodePushBody(gzipSync(json), { ...opts, contentType: 'application/json', contentEncoding: 'gzip' }))).toEqual(sample);
    expect(objects(decodePushBody(deflateRawSync(proto), { ...opts, contentType: 'application/x-protobuf', contentEncoding: 'deflate' }))).toEqual(sample);
  });

  it("answers Loki's errors for a missing type, an unknown encoding, corrupt snappy", () => {
    expect(() => decodePushBody(json, { ...opts, contentType: undefined, contentEncoding: '' })).toThrow('mime: no media type');
    expect(() => decodePushBody(json, { ...opts, contentType: 'application/json', contentEncoding: 'br' })).toThrow('Content-Encoding "br" not supported');
    expect(() =>
      decodePushBody(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), { ...opts, contentType: 'application/x-protobuf', contentEncoding: '' }),
    ).toThrow(LokiError);
  });

  it('rejects bodies over the limit before inflating them (413)', () => {
    const big = Buffer.alloc(4 << 20, 'a');
    for (const [body, type, enc] of [
      [gzipSync(big), 'application/json', 'gzip'],
      [Buffer.from(snappyCompress(big)), 'application/x-protobuf', ''],
      [big, 'application/json', ''],
    ] as const) {
      const err = (() => {
        try {
          decodePushBody(body, { maxMessageBytes: 1 << 20, contentType: type, contentEncoding: enc });
        } catch (e) {
          return e as LokiError;
        }
      })();
      expect(err?.kind).toBe('too_large');
      expect(err?.message).toMatch(/^request body too large: \d+ bytes, limit: 1048576 bytes$/);
    }
  });
});

describe('protobuf decoder robustness', () => {
  it('rejects truncated and corrupt messages with a bad_data error, never a crash', () => {
    const good = encodePushRequestProto(sample);
    for (let cut = 1; cut < good.length; cut += 3) {
      try {
        decodePushRequestProto(good.subarray(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(LokiError);
        expect((e as LokiError).kind).toBe('bad_data');
      }
    }
    let state = 12345;
    const rand = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(good);
      for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      try {
        decodePushRequestProto(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(LokiError);
      }
    }
  });

  it('reads negative int64 seconds (before 1970) exactly', () => {
    const req = { streams: [{ labels: '{a="b"}', entries: [{ timestamp: -86_400_000_000_001n, line: 'x', structuredMetadata: [] }] }] };
    expect(objects(decodePushRequestProto(encodePushRequestProto(req)))).toEqual(req);
  });
});
