import { LokiError } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import type { InstanceDesc } from './desc.js';
import { Read, Write, WriteNoExtend } from './replication.js';
import { Ring, type RingOptions } from './ring.js';

const NOW = 1_000_000_000; // ms; entries heartbeat at NOW/1000 s unless told otherwise

function entry(id: string, tokens: number[], over: Partial<InstanceDesc> = {}): InstanceDesc {
  return { id, addr: `${id}:9095`, zone: '', state: 'ACTIVE', tokens, timestamp: NOW / 1000, registered_timestamp: 1, ...over };
}

function ringOf(entries: InstanceDesc[], over: Partial<RingOptions> = {}) {
  const clock = { now: NOW };
  const ring = new Ring('ring', {
    replicationFactor: 3,
    heartbeatTimeoutMs: 60_000,
    zoneAwarenessEnabled: false,
    leftTimeoutMs: 300_000,
    autoForgetUnhealthy: false,
    now: () => clock.now,
    ...over,
  });
  ring.merge(entries);
  return { ring, clock };
}

const ids = (set: { instances: InstanceDesc[] }) => set.instances.map((i) => i.id);
const stale = { timestamp: NOW / 1000 - 61 };

function thrown(f: () => unknown): LokiError {
  try {
    f();
  } catch (e) {
    if (e instanceof LokiError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

// Tokens: a 10 40 | b 20 50 | c 30 60 | d 35
const four = () => [entry('a', [10, 40]), entry('b', [20, 50]), entry('c', [30, 60]), entry('d', [35])];

describe('Ring.get (the replicas of one stream)', () => {
  it('walks clockwise from the first token above the key to RF distinct instances, wrapping around', () => {
    const { ring } = ringOf(four());
    expect(ids(ring.get(15, WriteNoExtend))).toEqual(['b', 'c', 'd']);
    // a key equal to a token belongs to the next one, as dskit's searchToken
    expect(ids(ring.get(20, WriteNoExtend))).toEqual(['c', 'd', 'a']);
    expect(ids(ring.get(60, WriteNoExtend))).toEqual(['a', 'b', 'c']);
    expect(ids(ring.get(0xffffffff, WriteNoExtend))).toEqual(['a', 'b', 'c']);
    // distinct instances: after a(40) comes b(50), c(60), wrap to a(10) which is skipped
    expect(ids(ring.get(36, WriteNoExtend))).toEqual(['a', 'b', 'c']);
  });

  it('allows RF - quorum failures when all replicas are healthy (2 of 3 must succeed)', () => {
    const set = ringOf(four()).ring.get(15, WriteNoExtend);
    expect(set.maxErrors).toBe(1);
  });

  it('drops an instance past the heartbeat timeout, still counting it in the quorum', () => {
    const { ring } = ringOf([entry('a', [10, 40]), entry('b', [20, 50], stale), entry('c', [30, 60]), entry('d', [35])]);
    const set = ring.get(15, WriteNoExtend);
    expect(ids(set)).toEqual(['c', 'd']);
    expect(set.maxErrors).toBe(0);
  });

  it("fails with dskit's text, naming the unhealthy addresses, when fewer than a quorum are live", () => {
    const { ring } = ringOf([entry('a', [10]), entry('b', [20], stale), entry('c', [30], { state: 'LEAVING' })]);
    const error = thrown(() => ring.get(15, WriteNoExtend));
    expect(error.message).toBe('at least 2 live replicas required, could only find 1 - unhealthy instances: b:9095,c:9095');
    expect(error.kind).toBe('internal');
  });

  it('becomes unhealthy as the clock passes the timeout, and healthy again with a newer heartbeat', () => {
    const { ring, clock } = ringOf([entry('a', [10]), entry('b', [20]), entry('c', [30])]);
    clock.now += 61_000;
    expect(thrown(() => ring.get(5, WriteNoExtend)).message).toBe(
      'at least 2 live replicas required, could only find 0 - unhealthy instances: a:9095,b:9095,c:9095',
    );
    ring.merge([entry('a', [10], { timestamp: clock.now / 1000 }), entry('c', [30], { timestamp: clock.now / 1000 })]);
    expect(ids(ring.get(5, WriteNoExtend))).toEqual(['a', 'c']);
  });

  it('Write extends the set past a JOINING or LEAVING instance; WriteNoExtend does not (Loki pushes with it)', () => {
    const entries = [entry('a', [10]), entry('b', [20], { state: 'LEAVING' }), entry('c', [30]), entry('d', [40]), entry('e', [50])];
    const { ring } = ringOf(entries);
    const extended = ring.get(15, Write);
    expect(ids(extended)).toEqual(['c', 'd', 'e']);
    expect(extended.maxErrors).toBe(0); // the set is 4, so 3 must succeed
    const plain = ring.get(15, WriteNoExtend);
    expect(ids(plain)).toEqual(['c', 'd']);
    expect(plain.maxErrors).toBe(0);
  });

  it('with zone awareness takes one instance per zone, ignoring zoneless instances', () => {
    const zoned = [entry('a', [10], { zone: 'z1' }), entry('b', [20], { zone: 'z1' }), entry('c', [30], { zone: 'z2' }), entry('d', [40], { zone: 'z3' })];
    const { ring } = ringOf(zoned, { zoneAwarenessEnabled: true });
    expect(ids(ring.get(5, WriteNoExtend))).toEqual(['a', 'c', 'd']);
    const error = thrown(() =>
      ringOf(
        zoned.map((e) => (e.id === 'c' || e.id === 'd' ? { ...e, ...stale } : e)),
        { zoneAwarenessEnabled: true },
      ).ring.get(5, WriteNoExtend),
    );
    expect(error.message).toBe('at least 2 live replicas required across different availability zones, could only find 1 - unhealthy instances: c:9095,d:9095');
  });

  it("fails with 'empty ring' when no instance holds tokens", () => {
    expect(thrown(() => ringOf([entry('a', [], { state: 'PENDING' })]).ring.get(1, WriteNoExtend)).message).toBe('empty ring');
  });

  it('gives a token two instances claim to the lower id, or to the one not LEAVING', () => {
    expect(ids(ringOf([entry('b', [10]), entry('a', [10])], { replicationFactor: 1 }).ring.get(5, WriteNoExtend))).toEqual(['a']);
    const leaving = ringOf([entry('a', [10], { state: 'LEAVING' }), entry('b', [10])], { replicationFactor: 1 }).ring;
    expect(ids(leaving.get(5, Write))).toEqual(['b']);
  });

  it('follows a state change on the next lookup, and a heartbeat without rebuilding the tokens', () => {
    const { ring, clock } = ringOf(four());
    expect(ids(ring.get(15, WriteNoExtend))).toEqual(['b', 'c', 'd']);
    ring.merge([entry('c', [30, 60], { state: 'LEAVING', timestamp: NOW / 1000 + 1 })]);
    expect(ids(ring.get(15, WriteNoExtend))).toEqual(['b', 'd']);
    clock.now += 61_000;
    ring.merge(['a', 'b', 'd'].map((id) => ({ ...four().find((e) => e.id === id)!, timestamp: clock.now / 1000 })));
    expect(ids(ring.get(15, WriteNoExtend))).toEqual(['b', 'd']);
  });
});

describe('Ring.replicationSetForOperation (every ingester a query asks)', () => {
  it('returns every healthy instance, LEAVING included for reads, with RF/2 failures allowed', () => {
    const { ring } = ringOf([entry('a', [10]), entry('b', [20], { state: 'LEAVING' }), entry('c', [30]), entry('d', [40])]);
    const set = ring.replicationSetForOperation(Read);
    expect(ids(set)).toEqual(['a', 'b', 'c', 'd']);
    expect(set.maxErrors).toBe(1); // 4 - (4 - 3/2)
  });

  it("needs all but RF/2 instances, and fails with dskit's text otherwise", () => {
    const one = ringOf([entry('a', [10]), entry('b', [20], stale), entry('c', [30])]).ring.replicationSetForOperation(Read);
    expect(ids(one)).toEqual(['a', 'c']);
    expect(one.maxErrors).toBe(0);
    const two = ringOf([entry('a', [10]), entry('b', [20], stale), entry('c', [30], stale)]).ring;
    expect(thrown(() => two.replicationSetForOperation(Read)).message).toBe('too many unhealthy instances in the ring');
    // fewer instances than RF: still RF - RF/2 are needed
    expect(thrown(() => ringOf([entry('a', [10])]).ring.replicationSetForOperation(Read)).message).toBe('too many unhealthy instances in the ring');
  });

  it('with zone awareness skips every instance of a zone with a failure and counts zones instead', () => {
    const zoned = [
      entry('a1', [10], { zone: 'a' }),
      entry('a2', [11], { zone: 'a' }),
      entry('b1', [20], { zone: 'b' }),
      entry('b2', [21], { zone: 'b', ...stale }),
      entry('c1', [30], { zone: 'c' }),
    ];
    const set = ringOf(zoned, { zoneAwarenessEnabled: true }).ring.replicationSetForOperation(Read);
    expect(ids(set)).toEqual(['a1', 'a2', 'c1']);
    expect(set.maxUnavailableZones).toBe(0);
    const twoZonesDown = zoned.map((e) => (e.id === 'c1' ? { ...e, ...stale } : e));
    expect(thrown(() => ringOf(twoZonesDown, { zoneAwarenessEnabled: true }).ring.replicationSetForOperation(Read)).message).toBe(
      'too many unhealthy instances in the ring',
    );
  });
});

describe('Ring membership changes', () => {
  it('forgets an instance as a tombstone that an older entry cannot undo but a newer heartbeat does', () => {
    const { ring, clock } = ringOf(four());
    clock.now += 2_000;
    ring.forget('d');
    expect(ring.instance('d')).toBeUndefined();
    expect(Object.keys(ring.desc().ingesters)).toEqual(['a', 'b', 'c']);
    expect(ids(ring.get(15, WriteNoExtend))).toEqual(['b', 'c', 'a']);
    ring.merge([entry('d', [35])]);
    expect(ring.instance('d')).toBeUndefined();
    ring.merge([entry('d', [35], { timestamp: clock.now / 1000 + 1 })]);
    expect(ring.instance('d')?.state).toBe('ACTIVE');
  });

  it('drops tombstones after the left timeout, and unhealthy instances only with autoforget', () => {
    const { ring, clock } = ringOf(four());
    ring.forget('a');
    clock.now += 120_000;
    ring.expire();
    expect(ring.allEntries().map((e) => e.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(ring.desc().ingesters.b).toBeDefined(); // unhealthy, still listed
    clock.now += 300_000;
    ring.expire();
    expect(ring.allEntries().map((e) => e.id)).toEqual(['b', 'c', 'd']);

    const auto = ringOf(four(), { autoForgetUnhealthy: true });
    auto.ring.merge([entry('a', [10, 40], { timestamp: NOW / 1000 + 61 })]);
    auto.clock.now += 61_001;
    auto.ring.expire();
    expect(Object.keys(auto.ring.desc().ingesters)).toEqual(['a']);
  });

  it('lists the tokens other instances hold, for a joining instance to avoid', () => {
    expect([...ringOf(four()).ring.tokensHeldByOthers('a')].sort((x, y) => x - y)).toEqual([20, 30, 35, 50, 60]);
  });
});
