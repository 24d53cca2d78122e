import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EntryBatch, encodePushRequestProto, snappyCompress } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteWriter } from '../../util/binary.js';
import { decodeRecordPayload, encodePushRecord, encodeRecord, RECORD_PUSH_BODY, type WalEntriesRecord, type WalRecord } from './record.js';
import { Wal } from './wal.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const freshDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'wal-'));
  dirs.push(d);
  return d;
};

const w = new ByteWriter();
const record = (tenant: string, line: string, ts = 1n): WalEntriesRecord => ({
  kind: 'entries',
  tenant,
  streams: [{ labels: '{app="a"}', entries: EntryBatch.fromEntries([{ timestamp: ts, line, structuredMetadata: line.startsWith('m') ? [{ name: 'k', value: line }] : [] }]) }],
});
const encode = (r: WalEntriesRecord) => encodeRecord(w, r);
const firstLine = (r: WalRecord): string => (r.kind === 'entries' ? r.streams[0]!.entries.line(0) : '(push body)');

async function replay(dir: string): Promise<{ wal: Wal; records: WalRecord[] }> {
  const records: WalRecord[] = [];
  const wal = await Wal.open(dir, (r) => records.push(r));
  return { wal, records };
}

describe('WAL', () => {
  it('replays every appended record in order, with metadata', async () => {
    const dir = freshDir();
    const { wal } = await replay(dir);
    await Promise.all(['a', 'm1', 'b', 'c'].map((l, i) => wal.append(encode(record('t', l, BigInt(i))))));
    await wal.close();
    const { records } = await replay(dir);
    expect(records.map((r) => firstLine(r))).toEqual(['a', 'm1', 'b', 'c']);
    expect((records[1] as WalEntriesRecord).streams[0]!.entries.structuredMetadata(0)).toEqual([{ name: 'k', value: 'm1' }]);
  });

  it('keeps a push-body record byte for byte, with the service_name sources its streams were stored by', async () => {
    const dir = freshDir();
    const { wal } = await replay(dir);
    const body = snappyCompress(encodePushRequestProto({ streams: [{ labels: '{app="b"}', entries: [{ timestamp: 5n, line: 'from the body', structuredMetadata: [] }] }] }));
    await wal.append(encodePushRecord(w, 'tenant-x', ['service', 'app'], body));
    await wal.close();
    const { records } = await replay(dir);
    expect(records).toEqual([{ kind: 'push', tenant: 'tenant-x', serviceNameFrom: ['service', 'app'], relabel: new Map(), snappyProtobuf: body }]);
  });

  it('still reads version 1 push-body records, which mapped each relabelled stream', () => {
    const body = Buffer.from('body bytes');
    const w1 = new ByteWriter();
    w1.u8(RECORD_PUSH_BODY).u8(1).string('tenant-x').uvarint(1).string('{app="b"}').string('{app="b", service_name="b"}').bytes(body);
    expect(decodeRecordPayload(w1.view())).toEqual({
      kind: 'push', tenant: 'tenant-x', serviceNameFrom: [], relabel: new Map([['{app="b"}', '{app="b", service_name="b"}']]), snappyProtobuf: body,
    });
  });

  it('groups concurrent appends into fewer fsyncs', async () => {
    const dir = freshDir();
    let fsyncs = 0;
    const wal = await Wal.open(dir, () => {}, { onFsync: () => fsyncs++ });
    await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append(encode(record('t', `l${i}`)))));
    expect(fsyncs).toBeGreaterThan(0);
    expect(fsyncs).toBeLessThan(200);
    await wal.close();
  });

  it('truncates a torn tail of the newest segment and keeps everything before it', async () => {
    const dir = freshDir();
    const { wal } = await replay(dir);
    await wal.append(encode(record('t', 'one')));
    await wal.append(encode(record('t', 'two')));
    await wal.close();
    const seg = path.join(dir, readdirSync(dir).find((f) => f.startsWith('segment-'))!);
    const good = statSync(seg).size;
    appendFileSync(seg, encode(record('t', 'torn')).subarray(0, 13));
    const { wal: again, records } = await replay(dir);
    expect(records.map((r) => firstLine(r))).toEqual(['one', 'two']);
    expect(statSync(seg).size).toBe(good);
    await again.close();
  });

  it('a checkpoint replaces the segments it covers; later segments replay after it', async () => {
    const dir = freshDir();
    const { wal } = await replay(dir);
    await wal.append(encode(record('t', 'old-1')));
    await wal.append(encode(record('t', 'old-2')));
    const ended = wal.rotate();
    const pending = wal.append(encode(record('t', 'new-1')));
    // the snapshot holds what memory had when the segment ended: here only old-2 is still unflushed
    await wal.writeCheckpoint(ended, [encode(record('t', 'old-2'))]);
    await pending;
    await wal.append(encode(record('t', 'new-2')));
    await wal.close();
    expect(readdirSync(dir).sort()).toEqual(['checkpoint-00000001', 'segment-00000002']);
    const { wal: again, records } = await replay(dir);
    expect(records.map((r) => firstLine(r))).toEqual(['old-2', 'new-1', 'new-2']);
    // new records go to a fresh segment after the replayed ones
    await again.append(encode(record('t', 'after-restart')));
    await again.close();
    expect(readdirSync(dir).sort()).toEqual(['checkpoint-00000001', 'segment-00000002', 'segment-00000003']);
  });

  it('reports corruption in an older file and goes on', async () => {
    const dir = freshDir();
    const { wal } = await replay(dir);
    await wal.append(encode(record('t', 'a')));
    wal.rotate();
    await wal.append(encode(record('t', 'b')));
    await wal.close();
    appendFileSync(path.join(dir, 'segment-00000001'), Buffer.from([1, 0, 0, 0, 9, 9, 9, 9, 0]));
    const corrupt: string[] = [];
    const records: WalRecord[] = [];
    const again = await Wal.open(dir, (r) => records.push(r), { onCorruption: (f) => corrupt.push(f) });
    expect(corrupt).toEqual(['segment-00000001']);
    expect(records.map((r) => firstLine(r))).toEqual(['a', 'b']);
    await again.close();
  });
});
