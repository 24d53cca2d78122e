import { describe, expect, it } from 'vitest';
import { formatBytes, formatSIBytes, parseBytes, readByteSize } from './bytes.js';
import { formatGoDuration, parseGoDuration, parsePromDuration } from './duration.js';
import { formatGoTime, formatRFC3339, formatRFC3339Nano, parseQueryTimestamp, parseRFC3339 } from './timestamp.js';

const S = 1_000_000_000n;

describe('durations', () => {
  it.each([
    ['1w', 7n * 24n * 3600n * S],
    ['15000ms', 15n * S],
    ['1h30m', 5400n * S],
    ['0', 0n],
    ['1y', 365n * 24n * 3600n * S],
  ])('prometheus %s', (s, ns) => expect(parsePromDuration(s)).toBe(ns));
  it.each(['1.5h', '', 'h', '1m1h', '-1s'])('prometheus rejects %j', (s) => expect(parsePromDuration(s)).toBeUndefined());

  it.each([
    ['1.5h', 5400n * S],
    ['300ms', 300_000_000n],
    ['-1m30s', -90n * S],
    ['1µs', 1000n],
    ['2h45m', 9900n * S],
    ['.5s', S / 2n],
  ])('go %s', (s, ns) => expect(parseGoDuration(s)).toBe(ns));
  it.each(['1w', '', '1', 'abc', '1.s.'])('go rejects %j', (s) => expect(parseGoDuration(s)).toBeUndefined());

  it.each([
    [0n, '0s'],
    [5400n * S, '1h30m0s'],
    [1500_000_000n, '1.5s'],
    [100_000_000n, '100ms'],
    [-2n * S, '-2s'],
  ])('formats %s as %s', (ns, s) => expect(formatGoDuration(ns)).toBe(s));
});

describe('bytes (datasize, as Loki reads flagext.ByteSize)', () => {
  it.each([
    ['256KB', 262_144],
    ['3MiB', 3 * 1024 * 1024],
    ['1572864', 1572864],
    ['64kb', 65_536],
    [1024, 1024],
    ['1 GB ', 2 ** 30],
    ['2kilobytes', 2048],
    ['1byte', 1],
    ['512b', 512],
    ['1e', 2 ** 60],
    ['0', 0],
  ])('%j', (s, n) => expect(parseBytes(s)).toBe(n));
  it.each([
    ['1.5MB', 'invalid syntax'],
    ['-1', 'invalid syntax'],
    [' 1KB', 'invalid syntax'],
    ['lots', 'invalid syntax'],
    ['1XB', 'invalid syntax'],
    ['', 'invalid syntax'],
    ['1Mb', 'unit with capital unit prefix and lower case unit (b) - bits, not bytes '],
    ['16e', 'value out of range'],
  ])('refuses %j: %s', (s, why) => expect(readByteSize(s)).toEqual({ error: `strconv.UnmarshalText: parsing ${JSON.stringify(s)}: ${why}` }));
  it('a YAML float is the same syntax error as its text', () => expect(readByteSize(1.5).error).toMatch(/parsing "1\.5": invalid syntax/));
  it('formats SI sizes like go-humanize, as Loki prints them in its log lines', () => {
    expect([0, 9, 10, 999, 1000, 1049, 1050, 9_950_000, 82_854_982].map((n) => formatSIBytes(n))).toEqual([
      '0 B',
      '9 B',
      '10 B',
      '999 B',
      '1.0 kB',
      '1.0 kB',
      '1.1 kB',
      '10 MB',
      '83 MB',
    ]);
    // without the space, as Loki's query log and LogQL's printer write them
    expect([1e6, 1_500_000_000, 1e18].map((n) => formatSIBytes(n, ''))).toEqual(['1.0MB', '1.5GB', '1.0EB']);
  });
  it('formats like datasize, as Loki prints limits', () => {
    expect(formatBytes(3 * 2 ** 20)).toBe('3MB');
    expect(formatBytes(1536 * 1024)).toBe('1536KB');
    expect(formatBytes(300)).toBe('300B');
  });
});

describe('query timestamps (Loki loghttp rules)', () => {
  const fallback = 42n;
  it.each([
    ['', fallback],
    ['1795132800', 1795132800n * S],
    ['1795132800000000000', 1795132800000000000n],
    ['1795132800.5', 1795132800500000000n],
    ['1795132800.1234', 1795132800123000000n], // float seconds are rounded to the millisecond
    ['2026-11-20T01:05:00.5Z', 1795136700500000000n],
    ['2026-11-20T02:05:00+01:00', 1795136700000000000n],
  ])('%j', (v, ns) => expect(parseQueryTimestamp(v, fallback)).toBe(ns));

  it('rejects garbage', () => {
    expect(() => parseQueryTimestamp('yesterday', 0n)).toThrow('cannot parse "yesterday" to a valid timestamp');
  });

  it('rejects float seconds past the nanoseconds an int64 holds, as it does integers', () => {
    expect(parseQueryTimestamp('9223372036.854', 0n)).toBe(9223372036854000000n);
    expect(() => parseQueryTimestamp('9223372037.0', 0n)).toThrow('cannot parse "9223372037.0" to a valid timestamp');
    expect(() => parseQueryTimestamp('-1.7976931348623157e308', 0n)).toThrow('cannot parse "-1.7976931348623157e308" to a valid timestamp');
    expect(() => parseQueryTimestamp('9223372036854775808', 0n)).toThrow('value out of range');
  });

  it('formats RFC3339Nano and Go time strings', () => {
    expect(formatRFC3339Nano(1795136700500000000n)).toBe('2026-11-20T01:05:00.5Z');
    expect(formatRFC3339(1795136700500000000n)).toBe('2026-11-20T01:05:00Z');
    expect(formatRFC3339(-500_000_000n)).toBe('1969-12-31T23:59:59Z');
    expect(formatRFC3339Nano(1795136700000000000n)).toBe('2026-11-20T01:05:00Z');
    expect(formatGoTime(1795136700000000001n)).toBe('2026-11-20 01:05:00.000000001 +0000 UTC');
    expect(parseRFC3339(formatRFC3339Nano(123456789n))).toBe(123456789n);
  });
});
