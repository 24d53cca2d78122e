import type { Ticker } from '../util/ticker.js';
import { isHeartbeatHealthy, nextTimestamp, nowSeconds, sameTokens, tombstone, type InstanceDesc, type InstanceState } from './desc.js';
import type { Ring } from './ring.js';
import { generateTokens } from './tokens.js';

export interface LifecyclerOptions {
  /** `ingester.lifecycler.ID`: the pod name, which seeds the tokens. */
  id: string;
  /** The address other roles call (advertise address and gRPC port). */
  addr: string;
  /** `ingester.lifecycler.availability_zone`. */
  zone: string;
  /** `ingester.lifecycler.num_tokens` (128). */
  numTokens: number;
  /** `ingester.lifecycler.heartbeat_period` (5s); 0 disables heartbeats, as in dskit. */
  heartbeatPeriodMs: number;
  /** `ingester.lifecycler.join_after` (0s): how long a new instance stays PENDING before taking tokens. */
  joinAfterMs: number;
  /** `ingester.lifecycler.final_sleep` (0s): how long a leaving instance stays LEAVING after its flush. */
  finalSleepMs: number;
  /** `ingester.lifecycler.ring.heartbeat_timeout`, for the readiness check. */
  heartbeatTimeoutMs: number;
  now: () => number;
  ticker: Ticker;
  sleep: (ms: number) => Promise<void>;
  /** Pushes the entry to every peer at once (Membership.announce): a leave must not wait for their polls. */
  announce: () => Promise<void>;
}

/**
 * The instance's own entry through its life, as dskit's Lifecycler: PENDING without tokens, ACTIVE with its
 * tokens after `join_after`, heartbeats every `heartbeat_period`; on leave LEAVING while it flushes and
 * sleeps `final_sleep`, then a LEFT tombstone pushed to every peer. A restart that finds its entry still in
 * the ring (ACTIVE or LEAVING) goes back to ACTIVE at once with the same tokens and registration time.
 */
export class Lifecycler {
  private entry: InstanceDesc | undefined;
  private stopHeartbeat: (() => void) | undefined;

  constructor(
    private readonly ring: Ring,
    private readonly options: LifecyclerOptions,
  ) {}

  get state(): InstanceState | undefined {
    return this.entry?.state;
  }

  /** Registers the instance; call it after the first membership round, and after the WAL replay. */
  async start(): Promise<void> {
    const known = this.ring.instance(this.options.id);
    const registered = known?.registered_timestamp ?? nowSeconds(this.options.now());
    if (this.options.heartbeatPeriodMs > 0) this.stopHeartbeat = this.options.ticker(this.options.heartbeatPeriodMs, () => this.heartbeat());
    if (known?.state === 'ACTIVE' || known?.state === 'LEAVING') return this.activate(registered);
    this.publish({ state: 'PENDING', tokens: [], registered_timestamp: registered });
    await this.options.sleep(this.options.joinAfterMs);
    if (this.entry?.state === 'PENDING') this.activate(registered);
  }

  /**
   * Scale-down: LEAVING (writes go elsewhere, reads still come) while `flush` runs and during `final_sleep`,
   * heartbeating all along; then the tombstone, pushed to the peers before this process goes away.
   */
  async leave(flush: () => Promise<void> = async () => {}): Promise<void> {
    if (this.entry === undefined || this.entry.state === 'LEFT') return;
    this.publish({ state: 'LEAVING' });
    await flush();
    await this.options.sleep(this.options.finalSleepMs);
    this.stopHeartbeat?.();
    this.stopHeartbeat = undefined;
    this.entry = tombstone(this.entry, this.options.now());
    this.ring.put(this.entry);
    await this.options.announce();
  }

  /**
   * dskit's readiness (readiness_check_ring_health, on by default): this instance owns tokens and every
   * instance of the ring is ACTIVE with a fresh heartbeat. Undefined when ready, else dskit's reason.
   */
  checkReady(): string | undefined {
    if ((this.entry?.tokens.length ?? 0) === 0) return 'this instance owns no tokens';
    const now = this.options.now();
    const instances = Object.values(this.ring.desc().ingesters);
    for (const i of instances) {
      if (!isHeartbeatHealthy(i, this.options.heartbeatTimeoutMs, now)) return `instance ${i.addr} past heartbeat timeout`;
      if (i.state !== 'ACTIVE') return `instance ${i.addr} in state ${i.state}`;
    }
    return undefined;
  }

  private activate(registered: number): void {
    const tokens = generateTokens(this.options.id, this.options.numTokens, this.ring.tokensHeldByOthers(this.options.id));
    this.publish({ state: 'ACTIVE', tokens, registered_timestamp: registered });
  }

  private heartbeat(): void {
    if (this.entry !== undefined && this.entry.state !== 'LEFT') this.publish({});
  }

  /**
   * Writes the entry with a fresh timestamp into the local ring, where the member route serves it. The first
   * write of a restarted instance also goes past its old entry's timestamp (or its tombstone's, when it left
   * and came back within a second), so peers take the new one.
   */
  private publish(change: Partial<InstanceDesc>): void {
    const { id, addr, zone } = this.options;
    const previous = this.entry ?? this.ring.latest(id);
    const base = this.entry ?? { id, addr, zone, state: 'PENDING' as const, tokens: [], registered_timestamp: 0, timestamp: 0 };
    const next = { ...base, ...change };
    const changed = next.state !== previous?.state || !sameTokens(next.tokens, previous.tokens) || this.entry === undefined;
    this.entry = { ...next, timestamp: nextTimestamp(previous, this.options.now(), changed) };
    this.ring.put(this.entry);
  }
}
