import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodePushRequestProto } from './protobuf.js';
import { PUSH_PROTO } from './push-proto.js';
import { PushRequestBuilder } from './request-builder.js';

const ReferencePushRequest = protobuf.parse(PUSH_PROTO).root.lookupType('logproto.PushRequest');
const bytes = (s: string) => Buffer.from(s);

describe('PushRequestBuilder', () => {
  it('encodes entries from line bytes grouped by stream, as a reference protobuf decoder reads them', () => {
    const b = new PushRequestBuilder();
    const page = bytes('xx hello ünïcode yy');
    b.add('{app="api"}', 1795132800, 123456789, page, 3, 3 + Buffer.byteLength('hello ünïcode'));
    b.add('{app="db"}', -2, 500000000, bytes('before epoch'), 0, 12, [{ name: 'trace_id', value: 'abc' }]);
    b.add('{app="api"}', 1795132801, 0, bytes(''), 0, 0);
    const encoded = b.finish();
    expect(b.size).toBeGreaterThanOrEqual(encoded.length);
    expect(b.size - encoded.length).toBeLessThan(2 * 5);
    const ref = ReferencePushRequest.toObject(ReferencePushRequest.decode(encoded), { longs: String });
    expect(ref).toEqual({
      streams: [
        {
          labels: '{app="api"}',
          entries: [
            { timestamp: { seconds: '1795132800', nanos: 123456789 }, line: 'hello ünïcode' },
            { timestamp: { seconds: '1795132801' } }, // toObject leaves out the empty line
          ],
        },
        {
          labels: '{app="db"}',
          entries: [{ timestamp: { seconds: '-2', nanos: 500000000 }, line: 'before epoch', structuredMetadata: [{ name: 'trace_id', value: 'abc' }] }],
        },
      ],
    });
    const ours = decodePushRequestProto(encoded);
    expect(ours.streams[1]!.entries.toEntries()[0]!.timestamp).toBe(-1_500_000_000n);
  });

  it('starts empty after reset and reuses its buffers for long lines', () => {
    const b = new PushRequestBuilder();
    const long = Buffer.alloc(100_000, 'a');
    b.add('{a="1"}', 1, 0, long, 0, long.length);
    b.reset();
    expect(b.entries).toBe(0);
    expect(b.finish().length).toBe(0);
    b.add('{a="2"}', 1, 0, long, 10, 20);
    const ref = ReferencePushRequest.toObject(ReferencePushRequest.decode(b.finish()), { longs: String }) as {
      streams: Array<{ labels: string; entries: Array<{ line: string }> }>;
    };
    expect(ref.streams.map((s) => s.labels)).toEqual(['{a="2"}']);
    expect(ref.streams[0]!.entries[0]!.line).toBe('a'.repeat(10));
  });
});
