import { LokiError } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import type { Ticker } from '../util/ticker.js';
import { Lifecycler } from './lifecycler.js';
import { startMemberServer, type MemberServer } from './member-server.js';
import { JoinMembers, Membership, parseJoinMember, type DnsResolver, type Fetch } from './membership.js';
import { Read, WriteNoExtend } from './replication.js';
import { Ring } from './ring.js';
import { generateTokens } from './tokens.js';

const notFound = () => Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' });

/** A DNS table; a name mapped to an Error fails with it. */
function tableResolver(hosts: Record<string, string[] | Error>, srv: Record<string, Array<{ target: string; port: number }> | Error> = {}): DnsResolver {
  const answer = <T>(v: T | Error | undefined) => (v instanceof Error ? Promise.reject(v) : v === undefined ? Promise.reject(notFound()) : Promise.resolve(v));
  return { lookupHost: async (h) => answer(hosts[h]), lookupSrv: async (n) => answer(srv[n]) };
}

describe('memberlist.join_members', () => {
  it("splits Loki's entry forms", () => {
    expect(parseJoinMember('dns+loki-memberlist.loki.svc.cluster.local:7946')).toEqual({
      kind: 'dns',
      host: 'loki-memberlist.loki.svc.cluster.local',
      port: '7946',
    });
    expect(parseJoinMember('dnssrv+_tcp._memberlist.loki.svc')).toEqual({ kind: 'dnssrv', host: '_tcp._memberlist.loki.svc', port: '' });
    expect(parseJoinMember('dnssrvnoa+_memberlist._tcp.loki:7000')).toEqual({ kind: 'dnssrvnoa', host: '_memberlist._tcp.loki', port: '7000' });
    expect(parseJoinMember('10.0.0.1:7946')).toEqual({ kind: 'static', host: '10.0.0.1', port: '7946' });
    expect(parseJoinMember('loki-memberlist')).toEqual({ kind: 'static', host: 'loki-memberlist', port: '' });
    expect(parseJoinMember('[::1]:7946')).toEqual({ kind: 'static', host: '::1', port: '7946' });
    expect(parseJoinMember('fe80::1')).toEqual({ kind: 'static', host: 'fe80::1', port: '' });
  });

  it('resolves A, SRV and SRV-without-A entries, and gives a plain host the bind port', async () => {
    const resolver = tableResolver(
      { 'loki-memberlist': ['10.0.0.1', '10.0.0.2'], 'ingester-0.loki': ['10.0.1.1'], 'ingester-1.loki': ['fd00::2'] },
      {
        _srv: [
          { target: 'ingester-0.loki', port: 7946 },
          { target: 'ingester-1.loki', port: 7947 },
        ],
      },
    );
    const members = new JoinMembers(['dns+loki-memberlist:7946', 'dnssrv+_srv', 'dnssrvnoa+_srv:9000', 'static-host', '10.9.9.9:1'], 7946, resolver);
    expect(await members.resolve()).toEqual({
      addresses: [
        '10.0.0.1:7946',
        '10.0.0.2:7946',
        '10.0.1.1:7946',
        '[fd00::2]:7947',
        'ingester-0.loki:9000',
        'ingester-1.loki:9000',
        'static-host:7946',
        '10.9.9.9:1',
      ],
      errors: [],
    });
  });

  it("keeps an entry's last addresses when its lookup fails, gives none for a name that does not exist, and needs a port for dns+", async () => {
    const hosts: Record<string, string[] | Error> = { a: ['10.0.0.1'] };
    const members = new JoinMembers(['dns+a:7946', 'dns+gone:7946', 'dns+noport', 'bogus+x:1'], 7946, tableResolver(hosts));
    expect((await members.resolve()).addresses).toEqual(['10.0.0.1:7946']);
    hosts.a = new Error('i/o timeout');
    const second = await members.resolve();
    expect(second.addresses).toEqual(['10.0.0.1:7946']);
    expect(second.errors).toEqual([
      'dns+a:7946: i/o timeout',
      'dns+noport: missing port in address given for dns lookup: noport',
      'bogus+x:1: invalid lookup scheme "bogus"',
    ]);
  });
});

/** A cluster of members in one process: fetch is routed to the member at the address, unless it is down. */
class FakeCluster {
  now = 1_700_000_000_000;
  readonly members = new Map<string, Member>();
  readonly down = new Set<string>();
  readonly fetch: Fetch = async (url, init) => {
    const addr = new URL(url).host;
    const member = this.members.get(addr);
    if (member === undefined || this.down.has(addr)) throw new Error(`connect ECONNREFUSED ${addr}`);
    if (init?.method === 'POST') {
      member.membership.receive(JSON.parse(init.body as string));
      return new Response(null, { status: 204 });
    }
    return new Response(JSON.stringify(member.membership.payload()));
  };

  add(id: string, options: { ingester?: boolean } = {}): Member {
    const member = new Member(this, id, options.ingester ?? true);
    this.members.set(member.addr, member);
    this.down.delete(member.addr);
    return member;
  }

  /** Every member that is up polls once; `rounds` times. */
  async poll(rounds = 1): Promise<void> {
    for (let r = 0; r < rounds; r++) for (const [addr, m] of this.members) if (!this.down.has(addr)) await m.membership.pollOnce();
  }

  /** Moves the clock and lets every member that is up heartbeat. */
  advance(ms: number): void {
    this.now += ms;
    for (const [addr, m] of this.members) if (!this.down.has(addr)) for (const tick of m.ticks) tick();
  }
}

class Member {
  readonly addr: string;
  readonly ring: Ring;
  readonly membership: Membership;
  readonly lifecycler: Lifecycler | undefined;
  readonly ticks: Array<() => unknown> = [];

  constructor(cluster: FakeCluster, id: string, ingester: boolean) {
    this.addr = `${id}:7946`;
    const now = () => cluster.now;
    const ticker: Ticker = (_ms, tick) => {
      this.ticks.push(tick);
      return () => this.ticks.splice(this.ticks.indexOf(tick), 1);
    };
    this.ring = new Ring('ring', {
      replicationFactor: 3,
      heartbeatTimeoutMs: 60_000,
      zoneAwarenessEnabled: false,
      leftTimeoutMs: 300_000,
      autoForgetUnhealthy: false,
      now,
    });
    const everyone = [...['ingester-0', 'ingester-1', 'ingester-2', 'distributor-0'].map((m) => `${m}:7946`)];
    const resolver = tableResolver({});
    const joinMembers = new JoinMembers(everyone, 7946, resolver);
    this.membership = new Membership({ joinMembers, pollPeriodMs: 5_000, requestTimeoutMs: 1_000, fetch: cluster.fetch, ticker });
    this.membership.addRing(this.ring);
    this.lifecycler = ingester
      ? new Lifecycler(this.ring, {
          id,
          addr: `${id}:9095`,
          zone: '',
          numTokens: 128,
          heartbeatPeriodMs: 5_000,
          joinAfterMs: 0,
          finalSleepMs: 0,
          heartbeatTimeoutMs: 60_000,
          now,
          ticker,
          sleep: async () => {},
          announce: () => this.membership.announce(),
        })
      : undefined;
  }

  writeSet(token: number): string[] {
    return this.ring.get(token, WriteNoExtend).instances.map((i) => i.id);
  }
}

async function threeIngesters() {
  const cluster = new FakeCluster();
  const ingesters = ['ingester-0', 'ingester-1', 'ingester-2'].map((id) => cluster.add(id));
  const distributor = cluster.add('distributor-0', { ingester: false });
  await cluster.poll();
  for (const i of ingesters) await i.lifecycler!.start();
  await cluster.poll();
  return { cluster, ingesters, distributor };
}

const states = (m: Member) => Object.fromEntries(Object.values(m.ring.desc().ingesters).map((i) => [i.id, i.state]));
const SAMPLE_TOKENS = [0, 12345, 2 ** 31, 4_000_000_000];

describe('membership by polling', () => {
  it('converges: every member sees every ingester ACTIVE with its own tokens and picks the same replicas', async () => {
    const { ingesters, distributor } = await threeIngesters();
    for (const m of [...ingesters, distributor]) {
      expect(states(m)).toEqual({ 'ingester-0': 'ACTIVE', 'ingester-1': 'ACTIVE', 'ingester-2': 'ACTIVE' });
      expect(m.ring.instance('ingester-1')?.tokens).toEqual(generateTokens('ingester-1', 128));
    }
    for (const token of SAMPLE_TOKENS) {
      expect(distributor.writeSet(token)).toHaveLength(3);
      for (const m of ingesters) expect(m.writeSet(token)).toEqual(distributor.writeSet(token));
    }
    expect(ingesters[0]!.lifecycler!.checkReady()).toBeUndefined();
  });

  it('marks a killed ingester unhealthy after the heartbeat timeout; two killed and writes fail', async () => {
    const { cluster, ingesters, distributor } = await threeIngesters();
    cluster.down.add(ingesters[2]!.addr);
    cluster.advance(30_000);
    await cluster.poll();
    expect(distributor.ring.replicationSetForOperation(Read).instances).toHaveLength(3);
    cluster.advance(32_000); // the ACTIVE entry is a second past the PENDING one
    await cluster.poll();
    expect(distributor.ring.replicationSetForOperation(Read).instances.map((i) => i.id)).toEqual(['ingester-0', 'ingester-1']);
    expect(distributor.ring.get(12345, WriteNoExtend).instances).toHaveLength(2);
    expect(ingesters[0]!.lifecycler!.checkReady()).toBe('instance ingester-2:9095 past heartbeat timeout');

    cluster.down.add(ingesters[1]!.addr);
    cluster.advance(61_000);
    await cluster.poll();
    const error = (() => {
      try {
        distributor.ring.get(12345, WriteNoExtend);
      } catch (e) {
        return e as LokiError;
      }
    })();
    expect(error?.message).toMatch(/^at least 2 live replicas required, could only find 1 - unhealthy instances: ingester-\d:9095,ingester-\d:9095$/);
  });

  it('takes a restarted ingester back with the same tokens and registration time, ACTIVE at once', async () => {
    const { cluster, ingesters, distributor } = await threeIngesters();
    const before = distributor.ring.instance('ingester-2')!;
    cluster.down.add(ingesters[2]!.addr);
    cluster.advance(90_000);
    await cluster.poll();
    const restarted = cluster.add('ingester-2');
    await restarted.membership.pollOnce();
    await restarted.lifecycler!.start();
    expect(restarted.lifecycler!.state).toBe('ACTIVE');
    await cluster.poll();
    const after = distributor.ring.instance('ingester-2')!;
    expect(after.tokens).toEqual(before.tokens);
    expect(after.registered_timestamp).toBe(before.registered_timestamp);
    expect(distributor.ring.replicationSetForOperation(Read).instances).toHaveLength(3);
  });

  it('scale-down: LEAVING while it flushes, then the leave reaches every peer without waiting for a poll', async () => {
    const { cluster, ingesters, distributor } = await threeIngesters();
    const leaving = ingesters[2]!;
    let release!: () => void;
    const flushing = new Promise<void>((r) => (release = r));
    const left = leaving.lifecycler!.leave(() => flushing);
    await cluster.poll();
    expect(states(distributor)['ingester-2']).toBe('LEAVING');
    expect(distributor.writeSet(12345)).not.toContain('ingester-2');
    expect(distributor.ring.replicationSetForOperation(Read).instances.map((i) => i.id)).toContain('ingester-2');
    release();
    await left;
    cluster.down.add(leaving.addr);
    for (const m of [distributor, ingesters[0]!, ingesters[1]!]) expect(Object.keys(m.ring.desc().ingesters).sort()).toEqual(['ingester-0', 'ingester-1']);
  });

  it('passes a leave on through peers to a member that missed the announcement', async () => {
    const { cluster, ingesters, distributor } = await threeIngesters();
    cluster.down.add(distributor.addr);
    await ingesters[2]!.lifecycler!.leave();
    cluster.down.add(ingesters[2]!.addr);
    cluster.down.delete(distributor.addr);
    expect(states(distributor)['ingester-2']).toBe('ACTIVE');
    await distributor.membership.pollOnce();
    expect(states(distributor)['ingester-2']).toBeUndefined();
  });

  it("spreads a forget from one member's /ring page to the others", async () => {
    const { cluster, ingesters, distributor } = await threeIngesters();
    cluster.down.add(ingesters[2]!.addr);
    cluster.advance(61_000);
    await cluster.poll();
    distributor.ring.forget('ingester-2');
    await cluster.poll();
    for (const m of [distributor, ingesters[0]!, ingesters[1]!]) expect(states(m)['ingester-2']).toBeUndefined();
  });

  it('keeps a new instance PENDING without tokens until join_after has passed', async () => {
    const cluster = new FakeCluster();
    const member = cluster.add('ingester-0');
    let join!: () => void;
    const joinAfter = new Promise<void>((r) => (join = r));
    const lifecycler = new Lifecycler(member.ring, {
      id: 'ingester-0',
      addr: 'ingester-0:9095',
      zone: 'z1',
      numTokens: 4,
      heartbeatPeriodMs: 5_000,
      joinAfterMs: 30_000,
      finalSleepMs: 0,
      heartbeatTimeoutMs: 60_000,
      now: () => cluster.now,
      ticker: () => () => {},
      sleep: () => joinAfter,
      announce: async () => {},
    });
    const started = lifecycler.start();
    expect(member.ring.instance('ingester-0')).toMatchObject({ state: 'PENDING', tokens: [], zone: 'z1' });
    expect(lifecycler.checkReady()).toBe('this instance owns no tokens');
    join();
    await started;
    expect(member.ring.instance('ingester-0')).toMatchObject({ state: 'ACTIVE', tokens: generateTokens('ingester-0', 4) });
  });
});

describe('Membership rounds', () => {
  it('resolves the join members again every round, so a new pod is polled once DNS lists it', async () => {
    const now = () => 1_700_000_000_000;
    const ringOf = () =>
      new Ring('ring', {
        replicationFactor: 1,
        heartbeatTimeoutMs: 60_000,
        zoneAwarenessEnabled: false,
        leftTimeoutMs: 300_000,
        autoForgetUnhealthy: false,
        now,
      });
    const views: Record<string, Ring> = { '10.0.0.1:7946': ringOf(), '10.0.0.2:7946': ringOf() };
    views['10.0.0.1:7946']!.put({
      id: 'ingester-0',
      addr: '10.0.0.1:9095',
      zone: '',
      state: 'ACTIVE',
      tokens: [1],
      timestamp: 1_700_000_000,
      registered_timestamp: 1,
    });
    views['10.0.0.2:7946']!.put({
      id: 'ingester-1',
      addr: '10.0.0.2:9095',
      zone: '',
      state: 'ACTIVE',
      tokens: [2],
      timestamp: 1_700_000_000,
      registered_timestamp: 1,
    });
    const fetchView: Fetch = async (url) => new Response(JSON.stringify({ rings: { ring: views[new URL(url).host]!.allEntries() } }));
    const dns: Record<string, string[]> = { 'loki-memberlist': ['10.0.0.1'] };
    const ticks: Array<() => unknown> = [];
    const ring = ringOf();
    const membership = new Membership({
      joinMembers: new JoinMembers(['dns+loki-memberlist:7946'], 7946, tableResolver(dns)),
      pollPeriodMs: 5_000,
      requestTimeoutMs: 1_000,
      fetch: fetchView,
      ticker: (ms, tick) => {
        expect(ms).toBe(5_000);
        ticks.push(tick);
        return () => ticks.splice(0);
      },
    });
    membership.addRing(ring);
    membership.start();
    await ticks[0]!();
    expect(Object.keys(ring.desc().ingesters)).toEqual(['ingester-0']);
    dns['loki-memberlist'] = ['10.0.0.1', '10.0.0.2'];
    await ticks[0]!();
    expect(Object.keys(ring.desc().ingesters).sort()).toEqual(['ingester-0', 'ingester-1']);
    await membership.stop();
    expect(ticks).toEqual([]);
  });
});

describe('member server', () => {
  it('serves and takes entries over real HTTP, so two processes converge', async () => {
    const now = () => Date.now();
    const noTicker: Ticker = () => () => {};
    const servers: MemberServer[] = [];
    try {
      const rings = [0, 1].map(
        () =>
          new Ring('ring', {
            replicationFactor: 1,
            heartbeatTimeoutMs: 60_000,
            zoneAwarenessEnabled: false,
            leftTimeoutMs: 300_000,
            autoForgetUnhealthy: false,
            now,
          }),
      );
      const memberships = rings.map((ring) => {
        const m = new Membership({
          joinMembers: new JoinMembers([], 7946, tableResolver({})),
          pollPeriodMs: 1000,
          requestTimeoutMs: 5000,
          fetch,
          ticker: noTicker,
        });
        m.addRing(ring);
        return m;
      });
      for (const m of memberships) servers.push(await startMemberServer(m, '127.0.0.1', 0));
      const ports = servers.map((s) => s.port);
      const joined = rings.map((ring, i) => {
        const m = new Membership({
          joinMembers: new JoinMembers([`127.0.0.1:${ports[1 - i]}`], 7946, tableResolver({})),
          pollPeriodMs: 1000,
          requestTimeoutMs: 5000,
          fetch,
          ticker: noTicker,
        });
        m.addRing(ring);
        return m;
      });
      const lifecyclers = rings.map(
        (ring, i) =>
          new Lifecycler(ring, {
            id: `ingester-${i}`,
            addr: `127.0.0.1:${9095 + i}`,
            zone: '',
            numTokens: 8,
            heartbeatPeriodMs: 0,
            joinAfterMs: 0,
            finalSleepMs: 0,
            heartbeatTimeoutMs: 60_000,
            now,
            ticker: noTicker,
            sleep: async () => {},
            announce: () => joined[i]!.announce(),
          }),
      );
      for (const l of lifecyclers) await l.start();
      for (const m of joined) await m.pollOnce();
      for (const ring of rings) expect(Object.keys(ring.desc().ingesters).sort()).toEqual(['ingester-0', 'ingester-1']);
      await lifecyclers[1]!.leave();
      expect(Object.keys(rings[0]!.desc().ingesters)).toEqual(['ingester-0']);
      const res = await fetch(`http://127.0.0.1:${ports[0]}/ring/member`, { method: 'POST', body: '{not json' });
      expect(res.status).toBe(400);
    } finally {
      for (const s of servers) await s.close();
    }
  });
});
