import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EntryBatch, encodePushRequestProto, snappyCompress } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteWriter } from '../../util/binary.js';
import { LimitedDisk } from '../../testing/limited-disk.js';
import { decodeRecordPayload, encodePushRecord, encodeRecord, RECORD_PUSH_BODY, scanRecords, type WalEntriesRecord, type WalRecord } from './record.js';
import { type OpenWalFile, Wal } from './wal.js';

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
  streams: [
    {
      labels: '{app="a"}',
      entries: EntryBatch.fromEntries([{ timestamp: ts, line, structuredMetadata: line.startsWith('m') ? [{ name: 'k', value: line }] : [] }]),
    },
  ],
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
    const body = snappyCompress(
      encodePushRequestProto({ streams: [{ labels: '{app="b"}', entries: [{ timestamp: 5n, line: 'from the body', structuredMetadata: [] }] }] }),
    );
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
      kind: 'push',
      tenant: 'tenant-x',
      serviceNameFrom: [],
      relabel: new Map([['{app="b"}', '{app="b", service_name="b"}']]),
      snappyProtobuf: body,
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

describe('WAL on a disk that fills up', () => {
  const segmentSize = (dir: string) => statSync(path.join(dir, readdirSync(dir).find((f) => f.startsWith('segment-'))!)).size;

  it('writes on after short writes, so a record is never acknowledged half written', async () => {
    const dir = freshDir();
    const shortWrites: OpenWalFile = async (file, flags) => {
      const fh = await open(file, flags);
      // every writev writes at most 7 bytes, as a kernel may near a full disk
      return Object.assign(Object.create(fh) as FileHandle, { writev: (bufs: Buffer[]) => fh.writev([Buffer.concat(bufs).subarray(0, 7)]) });
    };
    const wal = await Wal.open(dir, () => {}, { openFile: shortWrites });
    await Promise.all(['a', 'bb', 'ccc'].map((l) => wal.append(encode(record('t', l)))));
    await wal.close();
    expect((await replay(dir)).records.map(firstLine)).toEqual(['a', 'bb', 'ccc']);
  });

  it('fails the appends that do not fit, cuts the torn record off, and takes appends again once there is room', async () => {
    const dir = freshDir();
    const disk = new LimitedDisk(0);
    const failed: string[] = [];
    const wal = await Wal.open(dir, () => {}, {
      openFile: disk.open,
      onWriteFailed: (recs) => failed.push(...scanRecords(Buffer.concat(recs)).records.map(firstLine)),
    });
    const size = encode(record('t', 'line-0')).length;
    disk.capacity = 3 * size + 5; // three records and a few bytes of a fourth
    const acked: string[] = [];
    const refused: string[] = [];
    for (let i = 0; i < 6; i++) {
      const line = `line-${i}`;
      await wal.append(encode(record('t', line))).then(
        () => acked.push(line),
        (e: NodeJS.ErrnoException) => {
          expect(e.code).toBe('ENOSPC');
          refused.push(line);
        },
      );
    }
    expect(acked).toEqual(['line-0', 'line-1', 'line-2']);
    expect(refused).toEqual(['line-3', 'line-4', 'line-5']);
    expect(failed).toEqual(refused);
    // the few bytes of line-3 that fitted are gone again: nothing follows the last good record
    expect(segmentSize(dir)).toBe(3 * size);
    disk.capacity = 100 * size;
    await wal.append(encode(record('t', 'after-space-came-back')));
    await wal.close();
    const logged: string[] = [];
    const { records, wal: again } = await (async () => {
      const records: WalRecord[] = [];
      const w = await Wal.open(dir, (r) => records.push(r), { log: (m) => logged.push(m) });
      return { records, wal: w };
    })();
    expect(records.map(firstLine)).toEqual(['line-0', 'line-1', 'line-2', 'after-space-came-back']);
    expect(logged.filter((m) => m.includes('torn'))).toEqual([]);
    await again.close();
  });

  it('fails an append whose fsync fails and keeps the segment to the records that were fsynced', async () => {
    const dir = freshDir();
    const disk = new LimitedDisk(1 << 20);
    const wal = await Wal.open(dir, () => {}, { openFile: disk.open });
    await wal.append(encode(record('t', 'before')));
    disk.failFsyncs = 1;
    await expect(wal.append(encode(record('t', 'lost-in-fsync')))).rejects.toThrow('EIO');
    await wal.append(encode(record('t', 'after')));
    await wal.close();
    expect((await replay(dir)).records.map(firstLine)).toEqual(['before', 'after']);
  });

  it('a barrier waits for the writes begun before it, and fails if any of them failed', async () => {
    const dir = freshDir();
    const disk = new LimitedDisk(1 << 20);
    const wal = await Wal.open(dir, () => {}, { openFile: disk.open });
    expect(await wal.barrier()).toBeUndefined();
    const first = wal.append(encode(record('t', 'one')));
    let barrierDone = false;
    const barrier = wal.barrier().then(() => (barrierDone = true));
    await first;
    await barrier;
    expect(barrierDone).toBe(true);
    disk.failFsyncs = 1;
    const failing = wal.append(encode(record('t', 'two'))).catch((e: Error) => e);
    const second = wal.append(encode(record('t', 'three'))); // written in the next batch, which succeeds
    await expect(wal.barrier()).rejects.toThrow('EIO');
    expect(await failing).toBeInstanceOf(Error);
    await second;
    await wal.close();
  });

  it('does not replace segments with a checkpoint that did not fit', async () => {
    const dir = freshDir();
    const disk = new LimitedDisk(1 << 20);
    const wal = await Wal.open(dir, () => {}, { openFile: disk.open });
    await wal.append(encode(record('t', 'kept')));
    const segment = wal.rotate();
    disk.capacity = disk.used + 10;
    await expect(wal.writeCheckpoint(segment, [encode(record('t', 'kept'))])).rejects.toThrow('ENOSPC');
    expect(readdirSync(dir).sort()).toEqual(['segment-00000001']);
    await wal.close();
    expect((await replay(dir)).records.map(firstLine)).toEqual(['kept']);
  });

  it('abandons a checkpoint whose snapshot held records whose write then failed', async () => {
    const dir = freshDir();
    const disk = new LimitedDisk(1 << 20);
    const wal = await Wal.open(dir, () => {}, { openFile: disk.open });
    await wal.append(encode(record('t', 'durable')));
    disk.failFsyncs = 1;
    const failing = wal.append(encode(record('t', 'never-acknowledged'))).catch(() => 'failed');
    const failedBefore = wal.failedBatches;
    const segment = wal.rotate();
    // the snapshot was taken while 'never-acknowledged' was still being written
    const snapshot = [encode(record('t', 'durable')), encode(record('t', 'never-acknowledged'))];
    await expect(wal.writeCheckpoint(segment, snapshot, failedBefore)).rejects.toThrow('abandoned');
    expect(await failing).toBe('failed');
    await wal.close();
    expect((await replay(dir)).records.map(firstLine)).toEqual(['durable']);
  });
});

describe('WAL segments after a failed write', () => {
  it('cuts the torn record off before moving on to the next segment, so replay finds no corruption', async () => {
    const dir = freshDir();
    const disk = new LimitedDisk(0);
    const wal = await Wal.open(dir, () => {}, { openFile: disk.open });
    const size = encode(record('t', 'first')).length;
    disk.capacity = size + 5;
    await wal.append(encode(record('t', 'first')));
    // the torn part is cut off at once; that fails too, so the tear is still on disk at the rotation
    disk.failTruncates = 1;
    await expect(wal.append(encode(record('t', 'torn')))).rejects.toThrow('ENOSPC');
    wal.rotate();
    disk.capacity = 1 << 20;
    await wal.append(encode(record('t', 'next segment')));
    await wal.close();
    const corrupt: string[] = [];
    const records: WalRecord[] = [];
    const again = await Wal.open(dir, (r) => records.push(r), { onCorruption: (f) => corrupt.push(f) });
    expect(corrupt).toEqual([]);
    expect(records.map(firstLine)).toEqual(['first', 'next segment']);
    await again.close();
  });
});
