import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { snappyCompress, type SnappyScratchDecoder, snappyUncompress } from '@loki-lite/shared';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/binary.js';

/** See README.md beside this file for the byte layout. */
export const CHUNK_MAGIC = 0x4b434c4c; // "LLCK" read as a little-endian u32
export const CHUNK_VERSION = 1;
export const CHUNK_HEADER_SIZE = 8;

export type ChunkEncoding = 'none' | 'gzip' | 'snappy';
const ENCODING_BYTE: Readonly<Record<ChunkEncoding, number>> = { none: 0, gzip: 1, snappy: 2 };
const ENCODING_NAME: readonly ChunkEncoding[] = ['none', 'gzip', 'snappy'];

export function compressBlock(encoding: ChunkEncoding, raw: Buffer, alloc?: (length: number) => Buffer): Buffer {
  switch (encoding) {
    case 'none':
      return copyInto(raw, alloc);
    case 'gzip':
      return alloc ? copyInto(gzipSync(raw, { level: 6 }), alloc) : gzipSync(raw, { level: 6 });
    case 'snappy':
      return snappyCompress(raw, alloc);
  }
}

function copyInto(bytes: Buffer, alloc: (length: number) => Buffer = Buffer.allocUnsafeSlow): Buffer {
  const out = alloc(bytes.length);
  bytes.copy(out);
  return out;
}

export function decompressBlock(encoding: ChunkEncoding, compressed: Buffer, uncompressedLength: number): Buffer {
  switch (encoding) {
    case 'none':
      return compressed;
    case 'gzip':
      return gunzipSync(compressed, { maxOutputLength: uncompressedLength + 1 });
    case 'snappy':
      return snappyUncompress(compressed, uncompressedLength);
  }
}

/**
 * decompressBlock, but a snappy block is decoded into `scratch`'s buffer: the result is then valid only
 * until the scratch's next use.
 */
export function decompressBlockWith(scratch: SnappyScratchDecoder, encoding: ChunkEncoding, compressed: Buffer, uncompressedLength: number): Buffer {
  if (encoding !== 'snappy') return decompressBlock(encoding, compressed, uncompressedLength);
  const raw = scratch.decode(compressed, uncompressedLength);
  if (raw?.length !== uncompressedLength) throw new CorruptDataError('chunk block does not decompress to its recorded length');
  return raw;
}

export interface BlockMeta {
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly entries: number;
  readonly offset: number;
  readonly length: number;
  readonly uncompressedLength: number;
  readonly crc: number;
}

/** A compressed block as the ingester keeps it in memory before the chunk is written out. */
export interface CompressedBlock {
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly entries: number;
  readonly data: Buffer;
  readonly uncompressedLength: number;
}

export function encodeChunk(encoding: ChunkEncoding, blocks: readonly CompressedBlock[]): Buffer {
  const w = new ByteWriter(blocks.reduce((n, b) => n + b.data.length, 64 + blocks.length * 40));
  w.u32(CHUNK_MAGIC).u8(CHUNK_VERSION).u8(ENCODING_BYTE[encoding]).u8(0).u8(0);
  const offsets: number[] = [];
  for (const b of blocks) {
    offsets.push(w.length);
    w.bytes(b.data);
  }
  const tableOffset = w.length;
  w.uvarint(blocks.length);
  blocks.forEach((b, i) => {
    w.i64(b.minTs).i64(b.maxTs).uvarint(b.entries).uvarint(offsets[i]!).uvarint(b.data.length).uvarint(b.uncompressedLength).u32(crc32(b.data));
  });
  const tableCrc = crc32(w.view().subarray(tableOffset));
  w.u32(tableOffset).u32(tableCrc);
  return Buffer.from(w.view());
}

export interface DecodedChunk {
  readonly encoding: ChunkEncoding;
  readonly blocks: readonly BlockMeta[];
  readonly bytes: Buffer;
}

/** Reads a chunk's header and block table, checking magic, version and the table checksum. */
export function decodeChunk(bytes: Buffer): DecodedChunk {
  if (bytes.length < CHUNK_HEADER_SIZE + 8) throw new CorruptDataError('chunk too short');
  if (bytes.readUInt32LE(0) !== CHUNK_MAGIC) throw new CorruptDataError('not a chunk: bad magic number');
  const version = bytes[4]!;
  if (version !== CHUNK_VERSION) throw new CorruptDataError(`unsupported chunk version ${version}`);
  const encoding = ENCODING_NAME[bytes[5]!];
  if (!encoding) throw new CorruptDataError(`unknown chunk encoding ${bytes[5]}`);
  const tableOffset = bytes.readUInt32LE(bytes.length - 8);
  const tableCrc = bytes.readUInt32LE(bytes.length - 4);
  if (tableOffset < CHUNK_HEADER_SIZE || tableOffset > bytes.length - 8) throw new CorruptDataError('chunk block table offset out of range');
  if (crc32(bytes.subarray(tableOffset, bytes.length - 8)) !== tableCrc) throw new CorruptDataError('chunk block table checksum mismatch');
  const r = new ByteReader(bytes, tableOffset, bytes.length - 8);
  const count = r.uvarint();
  const blocks: BlockMeta[] = [];
  for (let i = 0; i < count; i++) {
    const b: BlockMeta = {
      minTs: r.i64(),
      maxTs: r.i64(),
      entries: r.uvarint(),
      offset: r.uvarint(),
      length: r.uvarint(),
      uncompressedLength: r.uvarint(),
      crc: r.u32(),
    };
    if (b.offset < CHUNK_HEADER_SIZE || b.offset + b.length > tableOffset) throw new CorruptDataError(`chunk block ${i} out of range`);
    blocks.push(b);
  }
  return { encoding, blocks, bytes };
}

/**
 * Decompresses one block of a decoded chunk after checking its CRC. With `scratch`, a snappy block is
 * decoded into the scratch's buffer: the result is then valid only until the scratch's next use.
 */
export function readBlock(chunk: DecodedChunk, block: BlockMeta, scratch?: SnappyScratchDecoder): Buffer {
  const data = chunk.bytes.subarray(block.offset, block.offset + block.length);
  if (crc32(data) !== block.crc) throw new CorruptDataError('chunk block checksum mismatch');
  return scratch
    ? decompressBlockWith(scratch, chunk.encoding, data, block.uncompressedLength)
    : decompressBlock(chunk.encoding, data, block.uncompressedLength);
}

/** The checksum that goes into a chunk's object key. */
export function chunkChecksum(bytes: Buffer): number {
  return crc32(bytes);
}
