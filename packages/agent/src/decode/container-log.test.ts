import { describe, expect, it } from 'vitest';
import { ContainerLogDecoder, type DecodedEntry } from './container-log.js';
import { parseRFC3339Bytes } from './rfc3339.js';

interface Out {
  stream: number;
  ts: string;
  line: string;
  resume: number;
}

/** Feeds `text` line by line as the tailer does (file offsets included) and collects what comes out. */
function decode(text: string, opts: { maxPartialBytes?: number; maxPartialAgeMs?: number; now?: () => number } = {}) {
  const out: Out[] = [];
  const d = new ContainerLogDecoder(
    { maxPartialBytes: opts.maxPartialBytes ?? 1 << 20, maxPartialAgeMs: opts.maxPartialAgeMs ?? 5000 },
    (e: DecodedEntry) =>
      out.push({
        stream: e.stream,
        ts: `${e.seconds}.${String(e.nanos).padStart(9, '0')}`,
        line: Buffer.from(e.buf.subarray(e.start, e.end)).toString(),
        resume: e.resumeOffset,
      }),
    opts.now,
  );
  const buf = Buffer.from(text);
  let at = 0;
  for (;;) {
    const nl = buf.indexOf(10, at);
    if (nl < 0) break;
    d.line(buf, at, nl, at, nl + 1);
    at = nl + 1;
  }
  return { out, d };
}

describe('RFC 3339 from bytes', () => {
  it.each([
    ['2024-05-01T12:34:56.123456789Z', 1714566896, 123456789],
    ['2024-05-01T12:34:56Z', 1714566896, 0],
    ['2024-05-01T12:34:56.5Z', 1714566896, 500000000],
    ['2024-05-01T14:34:56.000000001+02:00', 1714566896, 1],
    ['1969-12-31T23:59:59.9Z', -1, 900000000],
  ])('%s', (s, seconds, nanos) => {
    const ts = { seconds: 0, nanos: 0 };
    expect(parseRFC3339Bytes(Buffer.from(s), 0, s.length, ts)).toBe(true);
    expect(ts).toEqual({ seconds, nanos });
  });

  it.each(['2024-05-01 12:34:56Z', '2024-13-01T12:34:56Z', '2024-05-01T12:34:56', 'not a time at all!!'])('rejects %s', (s) => {
    expect(parseRFC3339Bytes(Buffer.from(s), 0, s.length, { seconds: 0, nanos: 0 })).toBe(false);
  });
});

describe('container log decoding', () => {
  it('reads CRI lines: timestamp, stream, content (also empty), and resumes after each line', () => {
    const text = '2024-05-01T12:34:56.1Z stdout F hello world\n2024-05-01T12:34:57Z stderr F \n';
    const { out, d } = decode(text);
    expect(d.format).toBe('cri');
    expect(out).toEqual([
      { stream: 0, ts: '1714566896.100000000', line: 'hello world', resume: 44 },
      { stream: 1, ts: '1714566897.000000000', line: '', resume: text.length },
    ]);
  });

  it('joins P parts to their F per stream; the resume offset stays at a held part', () => {
    const l1 = '2024-05-01T12:34:56Z stdout P part one, \n';
    const l2 = '2024-05-01T12:34:56Z stderr F an error\n';
    const l3 = '2024-05-01T12:34:57Z stdout F part two\n';
    const { out } = decode(l1 + l2 + l3);
    expect(out).toEqual([
      { stream: 1, ts: '1714566896.000000000', line: 'an error', resume: 0 },
      { stream: 0, ts: '1714566897.000000000', line: 'part one, part two', resume: (l1 + l2 + l3).length },
    ]);
  });

  it('emits what is held when a joined line would pass the size cap, and a partial line past its time limit', () => {
    let now = 0;
    const parts = ['aaaa', 'bbbb', 'cc'].map((p) => `2024-05-01T12:34:56Z stdout P ${p}\n`).join('');
    const { out, d } = decode(parts, { maxPartialBytes: 8, maxPartialAgeMs: 1000, now: () => now });
    expect(out.map((o) => o.line)).toEqual(['aaaabbbb']);
    expect(out[0]!.resume).toBe(parts.lastIndexOf('2024'));
    d.flushExpired();
    expect(out.length).toBe(1);
    now = 1000;
    d.flushExpired();
    expect(out.map((o) => o.line)).toEqual(['aaaabbbb', 'cc']);
    expect(out[1]!.resume).toBe(parts.length);
  });

  it('reads docker json-file lines and joins 16 KiB splits (no trailing newline)', () => {
    const line = (log: string, stream = 'stdout') => `${JSON.stringify({ log, stream, time: '2024-05-01T12:34:56.000000001Z' })}\n`;
    const { out, d } = decode(line('first ') + line('oops\n', 'stderr') + line('second\r\n'));
    expect(d.format).toBe('docker');
    expect(out.map((o) => [o.stream, o.line, o.ts])).toEqual([
      [1, 'oops', '1714566896.000000001'],
      [0, 'first second', '1714566896.000000001'],
    ]);
  });

  it('passes lines that are not in the detected format through as they are, stamped with the read time', () => {
    const { out } = decode('2024-05-01T12:34:56Z stdout F ok\ngarbage line\n', { now: () => 1_500 });
    expect(out.map((o) => [o.line, o.ts])).toEqual([
      ['ok', '1714566896.000000000'],
      ['garbage line', '1.500000000'],
    ]);
  });
});
