import type { LabelMatcher } from '@loki-lite/shared';
import type { DeletionMode } from '../config/schema.js';
import { type DeleteRequest, parseDeleteQuery } from './request.js';
import type { DeleteRequestStore } from './store.js';

/*
 * What queries read of the delete requests (Loki's querier asks the compactor, through a per-tenant
 * cache refreshed in the background): every piece not cancelled, processed or not, of a tenant whose
 * deletion_mode is not `disabled`. Lines matching one are hidden from the moment it is accepted.
 */

/** One piece as a query filter: lines of matching streams in [start, end] (ns) that the query keeps go. */
export interface DeleteFilter {
  readonly query: string;
  readonly matchers: readonly LabelMatcher[];
  /** Unix ns, inclusive. */
  readonly start: bigint;
  /** Unix ns, inclusive. */
  readonly end: bigint;
}

/**
 * Loki's querier refreshes its copy of the delete requests every 5 minutes; here 10 seconds, so a request
 * made through another process shows within seconds. A request made through this process's API is seen
 * at once: the store tells the cache (DeleteRequestStore.onChange).
 */
export const DELETE_FILTER_REFRESH_MS = 10_000;

export interface DeleteFilterCacheOptions {
  readonly modeOf: (tenant: string) => DeletionMode;
  /** Unix ms (an injectable clock for tests). */
  readonly now?: () => number;
  readonly refreshMs?: number;
}

const MS = 1_000_000n;

/** The delete filters of each tenant, read from the store at most once per refresh period. */
export class DeleteFilterCache {
  private readonly byTenant = new Map<string, { at: number; filters: Promise<readonly DeleteFilter[]> }>();
  private readonly now: () => number;
  private readonly refreshMs: number;

  constructor(
    private readonly store: DeleteRequestStore,
    private readonly opts: DeleteFilterCacheOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.refreshMs = opts.refreshMs ?? DELETE_FILTER_REFRESH_MS;
    store.onChange((tenant) => this.byTenant.delete(tenant));
  }

  /** The filters of `tenant` that overlap [from, through] (ns). */
  async filtersFor(tenant: string, from: bigint, through: bigint): Promise<readonly DeleteFilter[]> {
    if (this.opts.modeOf(tenant) === 'disabled') return [];
    const all = await this.tenantFilters(tenant);
    return all.filter((f) => f.start <= through && f.end >= from);
  }

  private tenantFilters(tenant: string): Promise<readonly DeleteFilter[]> {
    const cached = this.byTenant.get(tenant);
    if (cached && this.now() - cached.at < this.refreshMs) return cached.filters;
    const filters = this.store.forTenant(tenant).then((pieces) => pieces.map(toFilter));
    this.byTenant.set(tenant, { at: this.now(), filters });
    // A failed read is not kept: the next query asks again.
    filters.catch(() => {
      if (this.byTenant.get(tenant)?.filters === filters) this.byTenant.delete(tenant);
    });
    return filters;
  }
}

function toFilter(piece: DeleteRequest): DeleteFilter {
  return {
    query: piece.query,
    matchers: parseDeleteQuery(piece.query).matchers,
    start: BigInt(piece.startMs) * MS,
    end: BigInt(piece.endMs) * MS,
  };
}
