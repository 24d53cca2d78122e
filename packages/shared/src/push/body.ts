import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { type SnappyScratchDecoder, snappyUncompress, snappyUncompressedLength } from '../compression/snappy.js';
import { LokiError } from '../errors.js';
import { decodePushRequestJson } from './json.js';
import { decodePushRequestProto } from './protobuf.js';
import type { DecodedPushRequest } from './types.js';

export interface PushBodyOptions {
  /** The Content-Type header; Loki rejects a request without one ("mime: no media type"). */
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** Largest decompressed message accepted (Loki's distributor.max_recv_msg_size, 100 MB). */
  maxMessageBytes: number;
  /**
   * Decompress protobuf bodies into this decoder's reused buffer. The decoded request then views that
   * buffer and must be consumed before the next decode with the same decoder (the push route copies
   * everything it keeps synchronously).
   */
  scratch?: SnappyScratchDecoder;
}

export function tooLarge(size: number, limit: number): LokiError {
  return new LokiError('too_large', 'request_body_too_large', `request body too large: ${size} bytes, limit: ${limit} bytes`);
}

/**
 * Decodes a push request body in any form Loki accepts: protobuf+snappy or JSON, optionally gzip or deflate
 * encoded. Every failure is a LokiError: bad_data (400) or too_large (413).
 */
export function decodePushBody(body: Buffer, opts: PushBodyOptions): DecodedPushRequest {
  const payload = decodeContentEncoding(body, opts.contentEncoding ?? '', opts.maxMessageBytes);
  const mediaType = parseMediaType(opts.contentType);
  if (mediaType === 'application/json') {
    if (payload.length > opts.maxMessageBytes) throw tooLarge(payload.length, opts.maxMessageBytes);
    return decodePushRequestJson(payload.toString('utf8'));
  }
  // Anything else is protobuf with raw snappy, as in Loki (application/x-protobuf is the usual type).
  const size = snappyUncompressedLength(payload);
  if (size < 0) throw new LokiError('bad_data', 'invalid_snappy', 'snappy: corrupt input');
  if (size > opts.maxMessageBytes) throw tooLarge(size, opts.maxMessageBytes);
  const raw = uncompress(payload, opts);
  if (!raw) throw new LokiError('bad_data', 'invalid_snappy', 'snappy: corrupt input');
  try {
    return { ...decodePushRequestProto(raw), snappyProtobuf: payload };
  } catch (e) {
    if (e instanceof LokiError) throw e;
    throw new LokiError('bad_data', 'invalid_protobuf', `proto: ${(e as Error).message}`);
  }
}

function uncompress(payload: Buffer, opts: PushBodyOptions): Buffer | undefined {
  if (opts.scratch) return opts.scratch.decode(payload, opts.maxMessageBytes);
  try {
    return snappyUncompress(payload, opts.maxMessageBytes);
  } catch {
    return undefined;
  }
}

function decodeContentEncoding(body: Buffer, encoding: string, limit: number): Buffer {
  try {
    switch (encoding.trim().toLowerCase()) {
      case '':
      case 'snappy': // the snappy framing is handled with the protobuf body; some clients also set this header
        return body;
      case 'gzip':
        return gunzipSync(body, { maxOutputLength: limit + 1 });
      case 'deflate':
        // Go's flate reader takes raw DEFLATE; HTTP's "deflate" is often zlib-wrapped. Accept both.
        return isZlibHeader(body) ? inflateSync(body, { maxOutputLength: limit + 1 }) : inflateRawSync(body, { maxOutputLength: limit + 1 });
      default:
        throw new LokiError('bad_data', 'unsupported_encoding', `Content-Encoding "${encoding}" not supported`);
    }
  } catch (e) {
    if (e instanceof LokiError) throw e;
    if (e instanceof RangeError || (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge(limit + 1, limit);
    }
    throw new LokiError('bad_data', 'invalid_encoding', `${encoding}: ${(e as Error).message}`);
  }
}

function isZlibHeader(b: Buffer): boolean {
  return b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;
}

function parseMediaType(contentType: string | undefined): string {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media === '') throw new LokiError('bad_data', 'invalid_content_type', 'mime: no media type');
  return media;
}
