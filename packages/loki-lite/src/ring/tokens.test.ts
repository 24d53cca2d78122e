import { describe, expect, it } from 'vitest';
import { isHeartbeatHealthy, nextTimestamp, parseInstanceDesc, supersedes, tombstone, type InstanceDesc } from './desc.js';
import { generateTokens, tokenFor } from './tokens.js';

/** Go's fnv.New32 written out over a byte buffer, the reference the in-place version must match. */
function fnv1Reference(bytes: Buffer): number {
  let h = 2166136261;
  for (const b of bytes) h = (Math.imul(h, 16777619) ^ b) >>> 0;
  return h;
}

describe('tokenFor', () => {
  it("matches Loki's TokenFor test vector (FNV-1 32 of tenant then labels)", () => {
    expect(tokenFor('userID', 'labels')).toBe(2908432762);
  });

  it('hashes tenant and labels as one byte string, in that order', () => {
    expect(tokenFor('ab', 'c')).toBe(tokenFor('a', 'bc'));
    expect(tokenFor('tenant', '{app="x"}')).not.toBe(tokenFor('{app="x"}', 'tenant'));
  });

  it('hashes the UTF-8 bytes of any text, as Go hashes []byte(s)', () => {
    for (const [tenant, labels] of [
      ['fake', '{app="é", job="日本"}'],
      ['t', '{emoji="😀"}'],
      ['lone', '{x="\ud800"}'],
    ] as const) {
      expect(tokenFor(tenant, labels)).toBe(fnv1Reference(Buffer.from(tenant + labels, 'utf8')));
    }
  });
});

describe('generateTokens', () => {
  it('gives an id the same sorted distinct tokens every time, and another id other tokens', () => {
    const a = generateTokens('ingester-0', 128);
    expect(a).toHaveLength(128);
    expect(generateTokens('ingester-0', 128)).toEqual(a);
    expect(new Set(a).size).toBe(128);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    const b = generateTokens('ingester-1', 128);
    expect(b.filter((t) => a.includes(t))).toEqual([]);
  });

  it("skips tokens other instances hold, keeping the rest of the id's sequence", () => {
    const own = generateTokens('ingester-2', 16);
    const taken = new Set([own[3]!, own[7]!]);
    const withTaken = generateTokens('ingester-2', 16, taken);
    expect(withTaken).toHaveLength(16);
    expect(withTaken.some((t) => taken.has(t))).toBe(false);
    expect(own.filter((t) => !taken.has(t)).every((t) => withTaken.includes(t))).toBe(true);
  });

  it('spreads tokens over the whole uint32 space', () => {
    const tokens = generateTokens('spread', 1024);
    const quarters = [0, 0, 0, 0];
    for (const t of tokens) quarters[Math.floor(t / 2 ** 30)]!++;
    for (const q of quarters) expect(q).toBeGreaterThan(200);
  });
});

const entry = (over: Partial<InstanceDesc> = {}): InstanceDesc => ({
  id: 'ingester-0',
  addr: '10.0.0.1:9095',
  zone: '',
  state: 'ACTIVE',
  tokens: [1, 2],
  timestamp: 100,
  registered_timestamp: 50,
  ...over,
});

describe('ring entries', () => {
  it('counts a heartbeat healthy up to the timeout inclusive, and always with timeout 0', () => {
    expect(isHeartbeatHealthy(entry(), 60_000, 160_000)).toBe(true);
    expect(isHeartbeatHealthy(entry(), 60_000, 160_001)).toBe(false);
    expect(isHeartbeatHealthy(entry(), 0, 10_000_000)).toBe(true);
  });

  it('merges by timestamp, with a LEFT tombstone winning a tie', () => {
    expect(supersedes(entry({ timestamp: 101 }), entry())).toBe(true);
    expect(supersedes(entry({ timestamp: 99 }), entry())).toBe(false);
    expect(supersedes(entry({ state: 'LEFT' }), entry())).toBe(true);
    expect(supersedes(entry(), entry({ state: 'LEFT' }))).toBe(false);
    // equal timestamps between live entries: the same version relayed, nothing to change
    expect(supersedes(entry({ state: 'LEAVING' }), entry())).toBe(false);
    expect(supersedes(entry(), undefined)).toBe(true);
  });

  it("stamps an owner's change past its previous version, and a heartbeat with the clock", () => {
    expect(nextTimestamp(entry(), 100_200, true)).toBe(101);
    expect(nextTimestamp(entry(), 100_200, false)).toBe(100);
    expect(nextTimestamp(entry(), 130_000, true)).toBe(130);
    expect(nextTimestamp(undefined, 130_999, true)).toBe(130);
  });

  it('makes a tombstone without tokens, never older than the entry it replaces', () => {
    expect(tombstone(entry(), 200_500)).toEqual(entry({ state: 'LEFT', tokens: [], timestamp: 200 }));
    expect(tombstone(entry({ timestamp: 300 }), 200_000).timestamp).toBe(300);
  });

  it("normalises a peer's entry and rejects a malformed one", () => {
    expect(parseInstanceDesc({ ...entry(), tokens: [5, 1, 5] })?.tokens).toEqual([1, 5]);
    expect(parseInstanceDesc({ ...entry(), state: 'LEFT' })?.tokens).toEqual([]);
    expect(parseInstanceDesc(JSON.parse(JSON.stringify(entry())))).toEqual(entry());
    for (const bad of [
      null,
      'x',
      { ...entry(), state: 'GONE' },
      { ...entry(), tokens: [-1] },
      { ...entry(), tokens: [2 ** 32] },
      { ...entry(), id: '' },
      { ...entry(), timestamp: '1' },
    ]) {
      expect(parseInstanceDesc(bad)).toBeUndefined();
    }
  });
});
