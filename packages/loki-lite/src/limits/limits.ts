import type { LimitsConfig } from '../config/schema.js';

/**
 * Per-tenant limits, the one object every role asks (Loki's `overrides` module): a tenant's limits are its
 * overrides where it has them, else the config's limits_config. Callers ask per request and keep nothing,
 * so overrides that change while the process runs (the runtime config file, with the compactor issue)
 * take effect at the next push or query.
 */
export class Limits {
  constructor(
    private readonly defaults: LimitsConfig,
    private readonly overrides: ReadonlyMap<string, LimitsConfig> = new Map(),
  ) {}

  /** The limits in force for `tenant`. The same object for every tenant without overrides. */
  forTenant(tenant: string): LimitsConfig {
    return this.overrides.get(tenant) ?? this.defaults;
  }
}
