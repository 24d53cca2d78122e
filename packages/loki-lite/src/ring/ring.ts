import { isHeartbeatHealthy, sameTokens, supersedes, tombstone, type InstanceDesc, type RingDesc } from './desc.js';
import { isHealthy, Reporting, RingIndex, type Operation, type ReplicationConfig, type ReplicationSet } from './replication.js';

export interface RingOptions extends ReplicationConfig {
  /** Milliseconds since the epoch; tests pass a clock they move by hand. */
  now: () => number;
  /**
   * How long a LEFT tombstone is kept and relayed to peers (`memberlist.left_ingesters_timeout`, 5m in Loki):
   * long enough for every peer to learn of the leave, short enough that the entry does not linger.
   */
  leftTimeoutMs: number;
  /**
   * `ingester.autoforget_unhealthy`: forget an instance once its heartbeat is older than the heartbeat timeout.
   * Off by default, as in Loki: an unreachable instance stays, UNHEALTHY, until forgotten on the `/ring` page.
   */
  autoForgetUnhealthy: boolean;
}

/**
 * One ring (Loki's ingester ring is the key `ring`) as this process sees it: every instance's latest entry,
 * merged from what peers serve, and the lookups the distributor and querier make. LEFT entries are tombstones:
 * kept only to pass the leave on, invisible to lookups and to `desc()`.
 */
export class Ring {
  private readonly entries = new Map<string, InstanceDesc>();
  private index: RingIndex | undefined;
  /** Position of each live instance in the index, for in-place heartbeat updates. */
  private positions = new Map<string, number>();

  constructor(
    readonly key: string,
    private readonly options: RingOptions,
  ) {}

  get replicationFactor(): number {
    return this.options.replicationFactor;
  }

  get heartbeatTimeoutMs(): number {
    return this.options.heartbeatTimeoutMs;
  }

  /** The ring's clock, for pages that show ages. */
  now(): number {
    return this.options.now();
  }

  /** The live instances (no tombstones), by id, as the `/ring` page and the KV's readers see them. */
  desc(): RingDesc {
    const ingesters: Record<string, InstanceDesc> = {};
    for (const [id, e] of this.entries) if (e.state !== 'LEFT') ingesters[id] = e;
    return { ingesters };
  }

  /**
   * Every entry, tombstones included: what this process serves its peers. Relaying the whole view (not only
   * its own entry) lets a leave or a forget reach members that never polled the one that left, and lets a
   * restarted instance find its own old entry (registration time, state) in any peer.
   */
  allEntries(): InstanceDesc[] {
    return [...this.entries.values()];
  }

  /** The latest entry of `id`, a tombstone included: what a new version of it must be stamped after. */
  latest(id: string): InstanceDesc | undefined {
    return this.entries.get(id);
  }

  instance(id: string): InstanceDesc | undefined {
    const e = this.entries.get(id);
    return e?.state === 'LEFT' ? undefined : e;
  }

  /** Merges entries from a peer by timestamp (desc.ts `supersedes`); true when the ring changed. */
  merge(incoming: Iterable<InstanceDesc>): boolean {
    let changed = false;
    for (const entry of incoming) {
      if (!supersedes(entry, this.entries.get(entry.id))) continue;
      this.put(entry);
      changed = true;
    }
    return changed;
  }

  /** The local lifecycler's own entry: it is the source of truth for it, whatever a peer relayed. */
  put(entry: InstanceDesc): void {
    const previous = this.entries.get(entry.id);
    this.entries.set(entry.id, entry);
    const position = this.positions.get(entry.id);
    if (this.index !== undefined && position !== undefined && previous !== undefined && sameTopology(previous, entry)) {
      this.index.replace(position, entry);
    } else {
      this.index = undefined;
    }
  }

  /**
   * The `/ring` page's Forget (dskit removes the entry from the KV store): the instance becomes a tombstone
   * stamped now, which peers take over the older live entry, so the forget spreads. A live instance that was
   * forgotten by mistake comes back with its next heartbeat, which is newer.
   */
  forget(id: string): void {
    const entry = this.entries.get(id);
    if (entry !== undefined && entry.state !== 'LEFT') this.put(tombstone(entry, this.options.now()));
  }

  /** Drops tombstones past the left timeout and, with autoforget, forgets instances past the heartbeat timeout. */
  expire(): void {
    const now = this.options.now();
    for (const [id, entry] of this.entries) {
      if (entry.state === 'LEFT') {
        if (now - entry.timestamp * 1000 > this.options.leftTimeoutMs) this.entries.delete(id);
      } else if (this.options.autoForgetUnhealthy && !isHeartbeatHealthy(entry, this.options.heartbeatTimeoutMs, now)) {
        this.forget(id);
      }
    }
  }

  /** The replicas of one stream token (distributor: WriteNoExtend, as Loki's). */
  get(token: number, op: Operation): ReplicationSet {
    return this.lookup().get(token, op, this.options, this.options.now());
  }

  /** Every instance an operation must reach (querier: Read), with how many may fail. */
  replicationSetForOperation(op: Operation): ReplicationSet {
    return this.lookup().replicationSetForOperation(op, this.options, this.options.now());
  }

  /** Healthy instances for `op`, with no quorum check (dskit's GetAllHealthy). */
  healthyInstances(op: Operation = Reporting): InstanceDesc[] {
    const now = this.options.now();
    return this.lookup().instances.filter((i) => isHealthy(i, op, this.options, now));
  }

  /** Tokens held by live instances other than `id`: what a joining instance must not take. */
  tokensHeldByOthers(id: string): Set<number> {
    const taken = new Set<number>();
    for (const e of this.entries.values()) if (e.id !== id && e.state !== 'LEFT') for (const t of e.tokens) taken.add(t);
    return taken;
  }

  private lookup(): RingIndex {
    if (this.index === undefined) {
      const live = [...this.entries.values()].filter((e) => e.state !== 'LEFT').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.index = new RingIndex(live);
      this.positions = new Map(live.map((e, i) => [e.id, i] as const));
    }
    return this.index;
  }
}

/** Only tokens, zone and state shape the index (ownership, zones, conflicts); timestamps and address do not. */
function sameTopology(a: InstanceDesc, b: InstanceDesc): boolean {
  return a.zone === b.zone && a.state === b.state && sameTokens(a.tokens, b.tokens);
}
