import { describe, expect, it } from 'vitest';
import { deleteRequestId, newDeleteRequest, requestStatus, type DeleteRequest } from './request.js';

const HOUR_MS = 3_600_000;
const NOW = 1_764_547_200_000 + 10 * HOUR_MS;

describe('delete requests', () => {
  it("have Loki's ids: FNV-1 over tenant, creation time and query, 8 hex digits", () => {
    // python: fnv1(b'fake' + struct.pack('<Q', 1700000000123456789) + b'{app="a"}')
    expect(deleteRequestId('fake', 1_700_000_000_123_456_789n, '{app="a"}')).toBe('1ee8d71f');
  });

  it('are cut by max_interval only with line filters, aligned to its multiples, neighbours sharing a millisecond', () => {
    const start = 1_764_547_200_000 + 1_500_000; // 25 minutes past the hour
    const end = start + 2 * HOUR_MS;
    const params = { query: '{app="a"} |= "x"', start: new Date(start).toISOString(), end: new Date(end).toISOString(), maxInterval: '1h' };
    expect(newDeleteRequest(params, NOW, 24n * 3_600_000_000_000n).pieces).toEqual([
      { startMs: start, endMs: start - 1_500_000 + HOUR_MS },
      { startMs: start - 1_500_000 + HOUR_MS, endMs: start - 1_500_000 + 2 * HOUR_MS },
      { startMs: start - 1_500_000 + 2 * HOUR_MS, endMs: end },
    ]);
    expect(newDeleteRequest({ ...params, query: '{app="a"}' }, NOW, 24n * 3_600_000_000_000n).pieces).toEqual([{ startMs: start, endMs: end }]);
    // without max_interval, delete_max_interval cuts
    expect(newDeleteRequest({ ...params, maxInterval: null }, NOW, 3_600_000_000_000n).pieces).toHaveLength(3);
    expect(newDeleteRequest({ ...params, maxInterval: null }, NOW, 0n).pieces).toHaveLength(1);
  });

  it('take unix seconds of exactly ten characters, or RFC3339; end defaults to now', () => {
    const r = newDeleteRequest({ query: '{a="b"}', start: '1764547200', end: null, maxInterval: null }, NOW, 0n);
    expect(r.pieces).toEqual([{ startMs: 1_764_547_200_000, endMs: NOW }]);
    expect(newDeleteRequest({ query: '{a="b"}', start: '2025-12-01T00:00:00.5Z', end: null, maxInterval: null }, NOW, 0n).pieces[0]!.startMs).toBe(
      1_764_547_200_500,
    );
    for (const start of ['1764547200000', '1764547200.5', '176454720']) {
      expect(() => newDeleteRequest({ query: '{a="b"}', start, end: null, maxInterval: null }, NOW, 0n)).toThrow(
        'invalid start time: require unix seconds or RFC3339 format',
      );
    }
  });

  it("report Loki's status: received, N% Complete, processed", () => {
    const piece = (status: DeleteRequest['status']): DeleteRequest => ({
      tenant: 't',
      requestId: 'x',
      seq: 0,
      query: '',
      startMs: 0,
      endMs: 0,
      createdAtMs: 0,
      status,
    });
    expect(requestStatus([piece('received'), piece('received')])).toBe('received');
    expect(requestStatus([piece('processed'), piece('received'), piece('received')])).toBe('33% Complete');
    expect(requestStatus([piece('processed'), piece('processed')])).toBe('processed');
  });
});
