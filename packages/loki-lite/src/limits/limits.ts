import type { LimitsConfig } from '../config/schema.js';

/** The limits a query reads: its tenant's, or for `a|b` the tenants' combined (see Limits.forQuery). */
export type QueryLimits = Pick<
  LimitsConfig,
  'max_entries_limit_per_query' | 'max_query_length' | 'max_query_series' | 'query_timeout' | 'split_queries_by_interval'
>;

/** The keys of limits_config one tenant's overrides set (Loki's `overrides:` entry for the tenant). */
export type TenantOverrides = Partial<LimitsConfig>;

/**
 * Per-tenant limits, the one object every role asks (Loki's `overrides` module): a tenant's limits are the
 * keys its overrides set over the config's limits_config. Callers ask per request and keep nothing, so
 * overrides that change while the process runs (the runtime config file, limits/runtime-config.ts) take
 * effect at the next push or query.
 */
export class Limits {
  /** Each tenant with overrides: the keys it sets, and those over the defaults (computed once per change). */
  private tenants = new Map<string, { readonly set: TenantOverrides; readonly limits: LimitsConfig }>();

  constructor(
    private readonly defaultLimits: LimitsConfig,
    overrides: ReadonlyMap<string, TenantOverrides> = new Map(),
  ) {
    this.setOverrides(overrides);
  }

  /** Replaces every tenant's overrides at once (a reload of the runtime config). */
  setOverrides(overrides: ReadonlyMap<string, TenantOverrides>): void {
    const tenants = new Map<string, { set: TenantOverrides; limits: LimitsConfig }>();
    for (const [tenant, set] of overrides) tenants.set(tenant, { set, limits: Object.freeze({ ...this.defaultLimits, ...set }) });
    this.tenants = tenants;
  }

  /** The limits in force for `tenant`. The same object for every tenant without overrides. */
  forTenant(tenant: string): LimitsConfig {
    return this.tenants.get(tenant)?.limits ?? this.defaultLimits;
  }

  /** The config's limits_config: what a tenant without overrides gets. */
  defaults(): LimitsConfig {
    return this.defaultLimits;
  }

  /** The keys `tenant`'s overrides set (only those), or undefined when it has none: "per-tenant or global". */
  tenantOverrides(tenant: string): TenantOverrides | undefined {
    return this.tenants.get(tenant)?.set;
  }

  /** The tenants that have overrides, and what each sets. */
  allOverrides(): ReadonlyMap<string, TenantOverrides> {
    return new Map([...this.tenants].map(([tenant, { set }]) => [tenant, set]));
  }

  /**
   * The limits of a query over `a|b` (one tenant: that tenant's), each combined as Loki's frontend and
   * querier combine it (pkg/util/validation): the smallest non-zero entries limit and query length (0 is
   * "no limit", chosen only when every tenant has none), the smallest series limit, the largest timeout,
   * and the largest split interval, or no split when any tenant has none.
   */
  forQuery(tenants: string): QueryLimits {
    const each = tenants.split('|').map((t) => this.forTenant(t));
    if (each.length === 1) return each[0]!;
    const pick = <T extends number | bigint>(values: T[], better: (a: T, b: T) => boolean): T => values.reduce((a, b) => (better(b, a) ? b : a));
    const smallestNonZero = <T extends number | bigint>(values: T[]): T => pick(values, (b, a) => b > 0 && (a <= 0 || b < a));
    const splits = each.map((l) => l.split_queries_by_interval);
    return {
      max_entries_limit_per_query: smallestNonZero(each.map((l) => l.max_entries_limit_per_query)),
      max_query_length: smallestNonZero(each.map((l) => l.max_query_length)),
      max_query_series: pick(
        each.map((l) => l.max_query_series),
        (b, a) => b < a,
      ),
      query_timeout: pick(
        each.map((l) => l.query_timeout),
        (b, a) => b > a,
      ),
      split_queries_by_interval: splits.includes(0n) ? 0n : pick(splits, (b, a) => b > a),
    };
  }
}
