import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  decodePushBody,
  type DecodedPushRequest,
  encodePushRequestJson,
  encodePushRequestProto,
  printLabels,
  type PushRequest,
  snappyCompress,
  SnappyScratchDecoder,
  sortLabels,
} from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { entryWindow, validateEntry, validateStreamLabels } from '../distributor/validate.js';
import { checkProperty, succeedsOrClientError } from '../testing/property.js';

/*
 * Property: whatever the body and headers, decoding a push (decodePushBody, as the push route does) and
 * validating what it gave (as the distributor does) either succeeds or throws a LokiError the HTTP
 * layer answers with a 4xx; never another exception. A decoded entry always points inside the message.
 *
 * Inputs: valid requests in every form Loki accepts (protobuf+snappy, JSON, gzip and deflate around
 * either), mutated at a random layer (the message or its compressed form); JSON documents of the right
 * shape with values of any type; random bytes under any headers.
 */

/** Loki's default limits. */
const { limits_config: LIMITS } = parseConfig(
  'schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: inmemory, schema: v13, index: {prefix: index_, period: 24h}}]}',
).config;
const NOW_NS = 1_800_000_000_000_000_000n;
const WINDOW = entryWindow(LIMITS, NOW_NS);
/** Small enough that some bodies are over it. */
const MAX_MESSAGE_BYTES = 64 * 1024;
const scratch = new SnappyScratchDecoder();

const validName = fc.oneof(fc.constantFrom('app', 'job', 'pod', '__name__', 'service_name'), fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,6}$/));
const labelName = fc.oneof(validName, fc.string({ maxLength: 6, unit: 'binary-ascii' }));
const labelValue = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ maxLength: 4, unit: 'binary' }));
/** A label set as Loki prints it (sorted, unique names), from names of `name`. */
const printedLabels = (name: fc.Arbitrary<string>) =>
  fc.uniqueArray(fc.record({ name, value: labelValue }), { selector: (l) => l.name, maxLength: 4 }).map((labels) => printLabels(sortLabels(labels)));
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const entry = fc.record({
  timestamp: fc.oneof(fc.bigInt(INT64), fc.bigInt({ min: NOW_NS - 10n ** 12n, max: NOW_NS })),
  line: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40, unit: 'binary' })),
  // Sorted and unique, as JSON (a map) brings them back.
  structuredMetadata: fc.uniqueArray(fc.record({ name: labelName, value: labelValue }), { selector: (l) => l.name, maxLength: 3 }).map(sortLabels),
});
type Format = 'protobuf' | 'json';

/** Protobuf carries the label text as sent, so anything goes; JSON carries a map, so names must print and parse back. */
const pushRequest = (format: Format): fc.Arbitrary<PushRequest> => {
  const labels = format === 'json' ? printedLabels(validName) : fc.oneof(printedLabels(labelName), fc.string({ maxLength: 30, unit: 'binary' }));
  return fc.record({ streams: fc.array(fc.record({ labels, entries: fc.array(entry, { maxLength: 5 }) }), { maxLength: 4 }) });
};
const FORMATS: readonly Format[] = ['protobuf', 'json'];
type Encoding = '' | 'gzip' | 'deflate' | 'deflate-raw' | 'snappy';
interface Body {
  readonly bytes: Buffer;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
}

/** The message as sent: protobuf is snappy-framed, then any Content-Encoding goes around either. */
function encode(req: PushRequest, format: Format, encoding: Encoding, mutateAt: Layer, mutation: Mutation): Body {
  let bytes: Buffer = format === 'protobuf' ? Buffer.from(encodePushRequestProto(req)) : Buffer.from(encodePushRequestJson(req));
  if (mutateAt === 'message') bytes = mutate(bytes, mutation);
  if (format === 'protobuf') bytes = snappyCompress(bytes);
  if (mutateAt === 'framed') bytes = mutate(bytes, mutation);
  if (encoding === 'gzip') bytes = gzipSync(bytes);
  else if (encoding === 'deflate') bytes = deflateSync(bytes);
  else if (encoding === 'deflate-raw') bytes = deflateRawSync(bytes);
  if (mutateAt === 'encoded') bytes = mutate(bytes, mutation);
  return {
    bytes,
    contentType: format === 'protobuf' ? 'application/x-protobuf' : 'application/json; charset=utf-8',
    contentEncoding: encoding === 'deflate-raw' ? 'deflate' : encoding,
  };
}

type Layer = 'message' | 'framed' | 'encoded' | 'none';
interface Mutation {
  readonly edits: ReadonlyArray<{ readonly at: number; readonly kind: 'set' | 'flip' | 'insert' | 'delete'; readonly byte: number }>;
  readonly truncateAt: number | undefined;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  edits: fc.array(
    fc.record({ at: fc.nat(), kind: fc.constantFrom('set' as const, 'flip' as const, 'insert' as const, 'delete' as const), byte: fc.nat(255) }),
    { maxLength: 4 },
  ),
  truncateAt: fc.option(fc.nat(), { nil: undefined }),
});

function mutate(bytes: Buffer, m: Mutation): Buffer {
  let out = Buffer.from(bytes);
  for (const e of m.edits) {
    const at = e.at % (out.length + 1);
    if (e.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.of(e.byte), out.subarray(at)]);
    else if (at === out.length) continue;
    else if (e.kind === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    else out[at] = e.kind === 'set' ? e.byte : out[at]! ^ (1 << (e.byte & 7));
  }
  return m.truncateAt === undefined ? out : out.subarray(0, m.truncateAt % (out.length + 1));
}

const mutatedBody = fc
  .constantFrom(...FORMATS)
  .chain((format) =>
    fc.tuple(
      fc.constant(format),
      pushRequest(format),
      fc.constantFrom<Encoding>('', 'gzip', 'deflate', 'deflate-raw', 'snappy'),
      fc.constantFrom<Layer>('message', 'framed', 'encoded', 'none'),
      mutation,
    ),
  )
  .map(([format, req, encoding, layer, m]) => encode(req, format, encoding, layer, m));

/** `{"streams":[...]}` with the right keys and values of any JSON type where a string or array belongs. */
const oddJsonBody = fc
  .record(
    {
      streams: fc.oneof(
        fc.array(
          fc.record(
            {
              stream: fc.oneof(fc.dictionary(labelName, fc.oneof(labelValue, fc.jsonValue())), fc.jsonValue()),
              values: fc.oneof(
                fc.array(
                  fc.oneof(
                    fc.tuple(fc.oneof(fc.bigInt(INT64).map(String), fc.jsonValue()), fc.oneof(fc.string(), fc.jsonValue())),
                    fc.array(fc.jsonValue(), { maxLength: 4 }),
                  ),
                ),
                fc.jsonValue(),
              ),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: [] },
  )
  .map((doc): Body => ({ bytes: Buffer.from(JSON.stringify(doc)), contentType: 'application/json', contentEncoding: undefined }));

const header = (known: readonly string[]) => fc.oneof(fc.constantFrom<string | undefined>(undefined, ...known), fc.string({ maxLength: 20 }));
const randomBody = fc.record({
  bytes: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  contentType: header(['application/x-protobuf', 'application/json', 'text/plain', '']),
  contentEncoding: header(['gzip', 'deflate', 'snappy', 'br', '']),
});

/** How many bodies of the current property decoded, and how many were refused. */
const outcomes = { decoded: 0, refused: 0 };

/**
 * What the server does with a body: decode it, then validate every stream and entry. `reuseBuffer`:
 * decompress snappy into the push route's reused buffer, or into a fresh one as other callers do.
 */
function pushProperty(body: Body, reuseBuffer: boolean): void {
  let decoded: DecodedPushRequest | undefined;
  const ok = succeedsOrClientError(() => {
    const options = { contentType: body.contentType, contentEncoding: body.contentEncoding, maxMessageBytes: MAX_MESSAGE_BYTES };
    decoded = decodePushBody(body.bytes, reuseBuffer ? { ...options, scratch } : options);
  });
  if (!ok) {
    outcomes.refused++;
    return;
  }
  outcomes.decoded++;
  for (const stream of decoded!.streams) {
    const entries = stream.entries;
    for (let i = 0; i < entries.count; i++) {
      const k = entries.first + i;
      const { starts, ends } = entries.columns;
      expect(0 <= starts[k]! && starts[k]! <= ends[k]! && ends[k]! <= entries.buf.length, `entry ${i} of ${stream.labels} lies outside the message`).toBe(true);
    }
    if (!succeedsOrClientError(() => validateStreamLabels(stream.labels, LIMITS))) continue;
    for (let i = 0; i < entries.count; i++) {
      succeedsOrClientError(() => {
        const rejected = validateEntry(entries, i, stream.labels, LIMITS, WINDOW);
        entries.timestamp(i);
        entries.line(i);
        if (rejected) throw rejected;
      });
    }
  }
}

/** Checks the property over `bodies`; `bothOutcomes`: it must have decoded some and refused some. */
async function checkBodies(bodies: fc.Arbitrary<Body>, numRuns: number, bothOutcomes = true): Promise<void> {
  outcomes.decoded = outcomes.refused = 0;
  await checkProperty(fc.property(bodies, fc.boolean(), pushProperty), { numRuns });
  expect(outcomes.refused, 'bodies refused').toBeGreaterThan(numRuns / 20);
  if (bothOutcomes) expect(outcomes.decoded, 'bodies decoded').toBeGreaterThan(numRuns / 20);
}

describe('push body fuzzing', () => {
  it('answers mutated valid bodies in every format and encoding with success or a 4xx LokiError', async () => {
    await checkBodies(mutatedBody, 600);
  });

  it('answers JSON bodies with values of the wrong type with success or a 4xx LokiError', async () => {
    await checkBodies(oddJsonBody, 500);
  });

  it('answers random bytes under any headers with success or a 4xx LokiError', async () => {
    // Random bytes that decode are rare (an empty body under a known type is one).
    await checkBodies(randomBody, 1000, false);
  });

  it('decodes an unmutated body back to the request that was encoded, in every format and encoding', async () => {
    // Text with a lone surrogate does not survive UTF-8 (it comes back with U+FFFD, as in Go).
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    const texts = (req: PushRequest) =>
      req.streams.flatMap((s) => [s.labels, ...s.entries.flatMap((e) => [e.line, ...e.structuredMetadata.flatMap((l) => [l.name, l.value])])]);
    const wellFormed = (format: Format) => pushRequest(format).filter((req) => !texts(req).some((t) => loneSurrogate.test(t)));
    const request = fc.constantFrom(...FORMATS).chain((format) => fc.tuple(fc.constant(format), wellFormed(format)));
    await checkProperty(
      fc.property(request, fc.constantFrom<Encoding>('', 'gzip', 'deflate', 'deflate-raw'), ([format, req], encoding) => {
        const body = encode(req, format, encoding, 'none', { edits: [], truncateAt: undefined });
        const decoded = decodePushBody(body.bytes, { contentType: body.contentType, contentEncoding: body.contentEncoding, maxMessageBytes: 10 * 1024 * 1024 });
        expect(decoded.streams.map((s) => ({ labels: s.labels, entries: s.entries.toEntries() }))).toEqual(
          req.streams.map((s) => ({ labels: s.labels, entries: s.entries })),
        );
      }),
      { numRuns: 200 },
    );
  });
});
