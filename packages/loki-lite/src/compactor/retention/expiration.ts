import { type LabelMatcher, type Labels, matchesAll } from '@loki-lite/shared';
import type { LimitsConfig, StreamRetention } from '../../config/schema.js';
import type { ChunkRef } from '../../index/types.js';
import { parseMatchers } from '../../logql/syntax/parser.js';

/** What expiration asks of the limits: a tenant's limits in force (its overrides over limits_config). */
export interface RetentionLimits {
  forTenant(tenant: string): Pick<LimitsConfig, 'retention_period' | 'retention_stream'>;
}

const NS_PER_MS = 1_000_000n;

/**
 * Which chunks retention removes, as Loki's expirationChecker decides (pkg/compactor/retention/expiration.go).
 * A tenant's rules are its limits in force, so its overrides' `retention_stream` replaces the global list
 * and an override that sets none inherits it: the matching stream rule of the tenant, else of the global
 * list, else the tenant's `retention_period`, else the global one. Among matching rules the highest
 * priority wins, and on equal priority the shorter period (the first on a full tie). 0 keeps for ever.
 * Times compare in milliseconds, as Loki's model.Time does.
 */
export class Expiration {
  private readonly matchers = new Map<string, readonly LabelMatcher[]>();

  /** `now` in ns, fixed for one run so every table of it agrees. */
  constructor(
    private readonly limits: RetentionLimits,
    private readonly now: bigint,
  ) {}

  /** The retention period (ns) of a stream of `tenant`; 0 is for ever. */
  periodFor(tenant: string, labels: Labels): bigint {
    const { retention_stream: rules, retention_period: period } = this.limits.forTenant(tenant);
    let picked: StreamRetention | undefined;
    for (const rule of rules) {
      if (!matchesAll(this.compiled(rule.selector), labels)) continue;
      if (picked && (picked.priority > rule.priority || (picked.priority === rule.priority && picked.period <= rule.period))) continue;
      picked = rule;
    }
    return picked ? picked.period : period;
  }

  /** Whether the chunk is past retention: its last entry more than the period before now. */
  expired(tenant: string, labels: Labels, chunk: ChunkRef): boolean {
    return this.isPast(this.periodFor(tenant, labels), chunk.through);
  }

  /**
   * Whether a chunk that is not expired but runs into the next day's table may leave this table's index:
   * the table's end is past retention (Loki's DropFromIndex). The chunk itself stays, for the next table.
   */
  dropFromIndex(tenant: string, labels: Labels, tableEnd: bigint): boolean {
    return this.isPast(this.periodFor(tenant, labels), tableEnd);
  }

  private isPast(period: bigint, ts: bigint): boolean {
    if (period <= 0n) return false;
    return this.now / NS_PER_MS - ts / NS_PER_MS > period / NS_PER_MS;
  }

  /** Selectors were validated with the config; compiled once per run. */
  private compiled(selector: string): readonly LabelMatcher[] {
    let m = this.matchers.get(selector);
    if (!m) this.matchers.set(selector, (m = parseMatchers(selector)));
    return m;
  }
}
