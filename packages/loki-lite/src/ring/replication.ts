import { LokiError } from '@loki-lite/shared';
import { INSTANCE_STATES, isHeartbeatHealthy, type InstanceDesc, type InstanceState } from './desc.js';

/**
 * Which instances an operation may use (healthy states) and which states make the walk take one more
 * instance (dskit's `Operation`): a write skips a JOINING or LEAVING instance but still wants
 * `replication_factor` ACTIVE ones.
 */
export interface Operation {
  readonly healthy: ReadonlySet<InstanceState>;
  readonly extendOn: ReadonlySet<InstanceState>;
}

const operation = (healthy: InstanceState[], extendOn: InstanceState[]): Operation => ({ healthy: new Set(healthy), extendOn: new Set(extendOn) });

/** dskit's `Write`: only ACTIVE instances take writes, and any other state extends the set by one. */
export const Write = operation(['ACTIVE'], ['LEAVING', 'PENDING', 'JOINING', 'LEFT']);
/** dskit's `WriteNoExtend`, the one Loki's distributor uses for pushes: no extension. */
export const WriteNoExtend = operation(['ACTIVE'], []);
/** dskit's `Read`: LEAVING instances still hold data; the set extends past PENDING and JOINING ones. */
export const Read = operation(['ACTIVE', 'PENDING', 'LEAVING'], ['PENDING', 'JOINING', 'LEFT']);
/** dskit's `Reporting`: every state is healthy; only the heartbeat decides (the `/ring` page's UNHEALTHY). */
export const Reporting = operation([...INSTANCE_STATES], []);

export interface ReplicationConfig {
  /** `ingester.lifecycler.ring.replication_factor` (or `common.replication_factor`). */
  replicationFactor: number;
  /** `ingester.lifecycler.ring.heartbeat_timeout`; 0 disables the check. */
  heartbeatTimeoutMs: number;
  /** `ingester.lifecycler.ring.zone_awareness_enabled`. */
  zoneAwarenessEnabled: boolean;
}

/** Where an operation goes and how many of those calls may fail (dskit's ReplicationSet). */
export interface ReplicationSet {
  instances: InstanceDesc[];
  maxErrors: number;
  maxUnavailableZones: number;
}

const ringError = (code: string, message: string) => new LokiError('internal', code, message);
export const emptyRingError = () => ringError('empty_ring', 'empty ring');
export const tooManyUnhealthyError = () => ringError('too_many_unhealthy_instances', 'too many unhealthy instances in the ring');

/**
 * The ring's lookup structure: every token of every live instance in one sorted Uint32Array, with the owning
 * instance's position beside it, so a lookup is a binary search and a short walk over numbers. Built when the
 * topology changes (an instance, its tokens, zone or state); a heartbeat only replaces the entry in place.
 */
export class RingIndex {
  readonly tokens: Uint32Array;
  readonly owners: Int32Array;
  /** Zone position of each instance; -1 when it has none (then zone awareness ignores it, as dskit). */
  private readonly zoneOf: Int32Array;
  /** The zones of the ring's instances, sorted (dskit's ringZones, '' included). */
  readonly zones: readonly string[];
  // Scratch for the walk: owner and zone positions already taken. Lookups are synchronous, so one suffices.
  private readonly takenOwners: number[] = [];
  private readonly takenZones: number[] = [];

  /** `instances` sorted by id, none LEFT. */
  constructor(readonly instances: InstanceDesc[]) {
    this.zones = [...new Set(instances.map((i) => i.zone))].sort();
    const zonePos = new Map(this.zones.map((z, i) => [z, i] as const));
    this.zoneOf = Int32Array.from(instances, (i) => (i.zone === '' ? -1 : zonePos.get(i.zone)!));
    [this.tokens, this.owners] = resolveTokenOwners(instances);
  }

  /** Replaces an instance whose tokens, zone and state are unchanged (a heartbeat). */
  replace(position: number, instance: InstanceDesc): void {
    this.instances[position] = instance;
  }

  /**
   * dskit's Ring.Get: from the first token after `key`, walk clockwise collecting distinct instances (one per
   * zone with zone awareness) until `replication_factor` are found, taking one more for each instance whose
   * state the operation extends on; then keep the healthy ones if they make a quorum.
   */
  get(key: number, op: Operation, cfg: ReplicationConfig, nowMs: number): ReplicationSet {
    if (this.tokens.length === 0) throw emptyRingError();
    const found = this.walk(key, op, cfg);
    return filterHealthy(found, op, cfg, nowMs);
  }

  private walk(key: number, op: Operation, cfg: ReplicationConfig): InstanceDesc[] {
    const owners = this.takenOwners;
    const zones = this.takenZones;
    owners.length = 0;
    zones.length = 0;
    const found: InstanceDesc[] = [];
    let wanted = cfg.replicationFactor;
    const n = this.tokens.length;
    for (let i = searchToken(this.tokens, key), steps = 0; owners.length < wanted && steps < n; steps++, i = i + 1 === n ? 0 : i + 1) {
      const owner = this.owners[i]!;
      if (owners.includes(owner)) continue;
      const zone = cfg.zoneAwarenessEnabled ? this.zoneOf[owner]! : -1;
      if (zone >= 0 && zones.includes(zone)) continue;
      owners.push(owner);
      const instance = this.instances[owner]!;
      // An extending instance does not use up its zone: the extra replica should land in the same zone.
      if (op.extendOn.has(instance.state)) wanted++;
      else if (zone >= 0) zones.push(zone);
      found.push(instance);
    }
    return found;
  }

  /**
   * dskit's GetReplicationSetForOperation: every healthy instance (the queriers' "every ingester that may
   * hold the tenant's data"), and how many may fail: by zones with zone awareness, else by instances.
   */
  replicationSetForOperation(op: Operation, cfg: ReplicationConfig, nowMs: number): ReplicationSet {
    if (this.tokens.length === 0) throw emptyRingError();
    const healthy: InstanceDesc[] = [];
    const failedZones = new Set<string>();
    for (const instance of this.instances) {
      if (isHealthy(instance, op, cfg, nowMs)) healthy.push(instance);
      else failedZones.add(instance.zone);
    }
    if (cfg.zoneAwarenessEnabled) return zoneAwareReadSet(healthy, failedZones, Math.min(this.zones.length, cfg.replicationFactor));
    // Require at least RF-1 of RF replicas even when the ring has fewer instances than RF.
    const required = Math.max(this.instances.length, cfg.replicationFactor) - Math.floor(cfg.replicationFactor / 2);
    if (healthy.length < required) throw tooManyUnhealthyError();
    return { instances: healthy, maxErrors: healthy.length - required, maxUnavailableZones: 0 };
  }
}

function zoneAwareReadSet(healthy: InstanceDesc[], failedZones: Set<string>, replicatedZones: number): ReplicationSet {
  const maxUnavailableZones = Math.floor(replicatedZones / 2);
  if (failedZones.size > maxUnavailableZones) throw tooManyUnhealthyError();
  // A zone with one failed instance is skipped whole: every key it holds is also in the other zones.
  const instances = healthy.filter((i) => !failedZones.has(i.zone));
  return { instances, maxErrors: 0, maxUnavailableZones: maxUnavailableZones - failedZones.size };
}

export function isHealthy(instance: InstanceDesc, op: Operation, cfg: ReplicationConfig, nowMs: number): boolean {
  return op.healthy.has(instance.state) && isHeartbeatHealthy(instance, cfg.heartbeatTimeoutMs, nowMs);
}

/**
 * dskit's defaultReplicationStrategy.Filter: a quorum of the set (of `replication_factor`, or of the
 * extended set if larger) must be healthy; unhealthy ones are dropped but still count in the quorum, so the
 * remaining ones may fail only down to it.
 */
export function filterHealthy(found: InstanceDesc[], op: Operation, cfg: ReplicationConfig, nowMs: number): ReplicationSet {
  const quorum = Math.floor(Math.max(cfg.replicationFactor, found.length) / 2) + 1;
  const healthy = found.filter((i) => isHealthy(i, op, cfg, nowMs));
  if (healthy.length < quorum) {
    const unhealthy = found.filter((i) => !healthy.includes(i));
    throw tooFewReplicasError(quorum, healthy.length, unhealthy, cfg.zoneAwarenessEnabled);
  }
  return { instances: healthy, maxErrors: healthy.length - quorum, maxUnavailableZones: 0 };
}

/** dskit's text, word for word: the distributor answers a push with it (500) when a stream cannot get a quorum. */
function tooFewReplicasError(quorum: number, live: number, unhealthy: InstanceDesc[], zoneAware: boolean): LokiError {
  const where = zoneAware ? ' across different availability zones' : '';
  const list = unhealthy.length > 0 ? ` - unhealthy instances: ${unhealthy.map((i) => i.addr).join(',')}` : '';
  return ringError('too_few_live_replicas', `at least ${quorum} live replicas required${where}, could only find ${live}${list}`);
}

/** dskit's searchToken: the first token greater than `key`, wrapping to the first token of the ring. */
export function searchToken(tokens: Uint32Array, key: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tokens[mid]! > key) hi = mid;
    else lo = mid + 1;
  }
  return lo === tokens.length ? 0 : lo;
}

/**
 * All tokens sorted, each with one owner. Two instances holding one token (two views joined at once) is
 * resolved as dskit's resolveConflicts does, so every member picks the same owner: a LEAVING instance loses
 * to one that is not, otherwise the lower id wins.
 */
function resolveTokenOwners(instances: readonly InstanceDesc[]): [Uint32Array, Int32Array] {
  // token * 2^20 + position is exact in a double (32 + 20 bits), so one numeric sort orders by token, then id.
  const keyed = new Float64Array(instances.reduce((n, i) => n + i.tokens.length, 0));
  let k = 0;
  instances.forEach((instance, position) => {
    for (const token of instance.tokens) keyed[k++] = token * 2 ** 20 + position;
  });
  keyed.sort();
  const tokens: number[] = [];
  const owners: number[] = [];
  for (const key of keyed) {
    const token = Math.floor(key / 2 ** 20);
    const position = key - token * 2 ** 20;
    const last = tokens.length - 1;
    if (last >= 0 && tokens[last] === token) {
      if (instances[owners[last]!]!.state === 'LEAVING' && instances[position]!.state !== 'LEAVING') owners[last] = position;
      continue;
    }
    tokens.push(token);
    owners.push(position);
  }
  return [Uint32Array.from(tokens), Int32Array.from(owners)];
}
