import { crc32 } from 'node:zlib';
import type { Label } from '@loki-lite/shared';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/binary.js';
import type { ChunkRef, SeriesChunks } from './types.js';

/** See README.md beside this file for the byte layout. */
export const INDEX_MAGIC = 0x58494c4c; // "LLIX" read as a little-endian u32
export const INDEX_VERSION = 1;

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const labelKey = (ls: readonly Label[]) => ls.map((l) => `${l.name}\xff${l.value}`).join('\xfe');

export function encodeIndex(series: readonly SeriesChunks[]): Buffer {
  const sorted = [...series].sort((a, b) => byString(labelKey(a.labels), labelKey(b.labels)));
  const symbolSet = new Set<string>();
  for (const s of sorted) for (const l of s.labels) symbolSet.add(l.name).add(l.value);
  const symbols = [...symbolSet].sort(byString);
  const symbolId = new Map(symbols.map((s, i) => [s, i]));

  const w = new ByteWriter(1 << 16);
  w.u32(INDEX_MAGIC).u8(INDEX_VERSION).u8(0).u8(0).u8(0);
  const symbolsOffset = w.length;
  w.uvarint(symbols.length);
  for (const s of symbols) w.string(s);

  const seriesOffset = w.length;
  const postings = new Map<string, number[]>();
  w.uvarint(sorted.length);
  sorted.forEach((s, ordinal) => {
    w.bytes(Buffer.from(s.fingerprint, 'hex'));
    w.uvarint(s.labels.length);
    for (const l of s.labels) {
      w.uvarint(symbolId.get(l.name)!).uvarint(symbolId.get(l.value)!);
      const key = `${symbolId.get(l.name)} ${symbolId.get(l.value)}`;
      let list = postings.get(key);
      if (!list) postings.set(key, (list = []));
      list.push(ordinal);
    }
    const chunks = [...s.chunks].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
    w.uvarint(chunks.length);
    for (const c of chunks) w.i64(c.from).i64(c.through).u32(c.checksum).uvarint(c.size).uvarint(c.entries).uvarint(c.lineBytes);
  });

  const postingsOffset = w.length;
  const pairs = [...postings.entries()]
    .map(([key, list]) => ({ name: Number(key.split(' ')[0]), value: Number(key.split(' ')[1]), list }))
    .sort((a, b) => a.name - b.name || a.value - b.value);
  w.uvarint(pairs.length);
  for (const p of pairs) {
    w.uvarint(p.name).uvarint(p.value).uvarint(p.list.length);
    let prev = 0;
    for (const ordinal of p.list) {
      w.uvarint(ordinal - prev);
      prev = ordinal;
    }
  }
  w.u32(symbolsOffset).u32(seriesOffset).u32(postingsOffset);
  w.u32(crc32(w.view()));
  return Buffer.from(w.view());
}

/** A parsed index file: series with their chunk refs, and postings name → value → series ordinals. */
export interface IndexFile {
  readonly series: readonly SeriesChunks[];
  readonly postings: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;
}

export function decodeIndex(bytes: Buffer): IndexFile {
  if (bytes.length < 24) throw new CorruptDataError('index file too short');
  if (bytes.readUInt32LE(0) !== INDEX_MAGIC) throw new CorruptDataError('not an index file: bad magic number');
  if (bytes[4] !== INDEX_VERSION) throw new CorruptDataError(`unsupported index version ${bytes[4]}`);
  const crcAt = bytes.length - 4;
  if (crc32(bytes.subarray(0, crcAt)) !== bytes.readUInt32LE(crcAt)) throw new CorruptDataError('index file checksum mismatch');
  const symbolsOffset = bytes.readUInt32LE(crcAt - 12);
  const seriesOffset = bytes.readUInt32LE(crcAt - 8);
  const postingsOffset = bytes.readUInt32LE(crcAt - 4);

  let r = new ByteReader(bytes, symbolsOffset, seriesOffset);
  const symbols: string[] = new Array(r.uvarint());
  for (let i = 0; i < symbols.length; i++) symbols[i] = r.string();
  const symbol = (id: number) => {
    const s = symbols[id];
    if (s === undefined) throw new CorruptDataError(`index symbol ${id} out of range`);
    return s;
  };

  r = new ByteReader(bytes, seriesOffset, postingsOffset);
  const series: SeriesChunks[] = new Array(r.uvarint());
  for (let i = 0; i < series.length; i++) {
    const fingerprint = r.bytes(8).toString('hex');
    const labels: Label[] = new Array(r.uvarint());
    for (let j = 0; j < labels.length; j++) labels[j] = { name: symbol(r.uvarint()), value: symbol(r.uvarint()) };
    const chunks: ChunkRef[] = new Array(r.uvarint());
    for (let j = 0; j < chunks.length; j++) {
      chunks[j] = { fingerprint, from: r.i64(), through: r.i64(), checksum: r.u32(), size: r.uvarint(), entries: r.uvarint(), lineBytes: r.uvarint() };
    }
    series[i] = { labels, fingerprint, chunks };
  }

  r = new ByteReader(bytes, postingsOffset, crcAt - 12);
  const postings = new Map<string, Map<string, number[]>>();
  const pairs = r.uvarint();
  for (let i = 0; i < pairs; i++) {
    const name = symbol(r.uvarint());
    const value = symbol(r.uvarint());
    const list: number[] = new Array(r.uvarint());
    let prev = 0;
    for (let j = 0; j < list.length; j++) list[j] = prev += r.uvarint();
    let values = postings.get(name);
    if (!values) postings.set(name, (values = new Map()));
    values.set(value, list);
  }
  return { series, postings };
}
