import { type Labels, newLabelMatcher } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import type { DeleteFilter } from '../deletion/query-filters.js';
import { type StreamDelete, withDeletes, withoutCoveredChunks } from './deletes.js';

const ref = (from: bigint, through: bigint) => ({ from, through });
const mem = (minTs: bigint, maxTs: bigint) => ({ minTs, maxTs });
const whole = (start: bigint, end: bigint): StreamDelete => ({ query: '{app="a"}', start, end, filtered: false });

describe('withoutCoveredChunks', () => {
  it('drops the chunks, stored and in memory, that a delete without a filter covers whole, and keeps the rest', () => {
    const stream = {
      deletes: [whole(100n, 200n)],
      memory: [mem(150n, 200n), mem(150n, 201n)],
      chunks: [ref(100n, 200n), ref(99n, 150n), ref(180n, 250n), ref(300n, 400n)],
    };
    expect(withoutCoveredChunks(stream)).toEqual({ ...stream, memory: [mem(150n, 201n)], chunks: [ref(99n, 150n), ref(180n, 250n), ref(300n, 400n)] });
  });

  it('keeps every chunk under a delete with a filter: only some of its lines go', () => {
    const stream = { deletes: [{ ...whole(0n, 1000n), query: '{app="a"} |= "x"', filtered: true }], memory: [mem(1n, 2n)], chunks: [ref(1n, 2n)] };
    expect(withoutCoveredChunks(stream)).toBe(stream);
  });
});

describe('withDeletes', () => {
  it('attaches the deletes whose matchers match a stream, each saying whether it filters lines', async () => {
    const filters: DeleteFilter[] = [
      { query: '{app="a"}', matchers: [newLabelMatcher('app', '=', 'a')], start: 1n, end: 2n },
      { query: '{app="a"} | json', matchers: [newLabelMatcher('app', '=', 'a')], start: 1n, end: 2n },
      { query: '{app="a"} |= "x"', matchers: [newLabelMatcher('app', '=', 'a')], start: 1n, end: 2n },
      { query: '{app="b"}', matchers: [newLabelMatcher('app', '=', 'b')], start: 1n, end: 2n },
    ];
    const source = { filtersFor: async () => filters };
    const streams: Array<{ labels: Labels; deletes?: readonly StreamDelete[] }> = [{ labels: [{ name: 'app', value: 'a' }] }];
    const [a] = await withDeletes(source, streams, () => 't', 0n, 10n);
    // `| json` keeps every line, so that request deletes all of the range, as Loki's HasFilter says
    expect(a!.deletes!.map((d) => [d.query, d.filtered])).toEqual([
      ['{app="a"}', false],
      ['{app="a"} | json', false],
      ['{app="a"} |= "x"', true],
    ]);
  });
});
