import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '@loki-lite/shared';
import { Compactor } from '../compactor/compactor.js';
import type { Ticker } from '../util/ticker.js';
import { CompactorDeletes } from '../compactor/deletes.js';
import type { TableDeletes } from '../compactor/table.js';
import type { DeleteRequestStore } from '../deletion/store.js';
import { parseConfig } from '../config/load.js';
import type { CompactorConfig, LimitsConfig } from '../config/schema.js';
import { Limits } from '../limits/limits.js';
import { Metrics } from '../metrics.js';
import type { LogStore } from '../storage/log-store.js';
import type { ObjectStore } from '../storage/object-store.js';

const BASE = `schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]}
storage_config: {filesystem: {directory: /unused}}
`;

/** The compactor and limits sections of a config: YAML fragments over Loki's defaults, validated as at start. */
export function compactorSettings(compactorYaml: string, limitsYaml = '{}'): { compactor: CompactorConfig; limits: LimitsConfig } {
  const { config } = parseConfig(`${BASE}compactor: ${compactorYaml}\nlimits_config: ${limitsYaml}\n`);
  return { compactor: config.compactor, limits: config.limits_config };
}

/** A folder for a compactor's working directory, removed by the returned function. */
export function workingDirectory(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'loki-lite-compactor-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CompactorFixtureOptions {
  readonly store: LogStore;
  readonly workingDirectory: string;
  /** YAML of the compactor section; working_directory is set from the option above. */
  readonly compactorYaml?: string;
  readonly limitsYaml?: string;
  readonly overrides?: ReadonlyMap<string, LimitsConfig>;
  /** ms since the epoch. */
  readonly now?: () => number;
  readonly ticker?: Ticker;
  readonly log?: Logger;
  readonly deletes?: TableDeletes;
  /** Delete requests to carry out in retention runs, as the compactor module wires them (instead of `deletes`). */
  readonly deleteRequests?: DeleteRequestStore;
}

/** A Compactor over `store` with retention settings from YAML, as the compactor module builds it. */
export function compactorFixture(opts: CompactorFixtureOptions): { compactor: Compactor; metrics: Metrics } {
  const settings = compactorSettings(opts.compactorYaml ?? '{}', opts.limitsYaml);
  const config = { ...settings.compactor, working_directory: opts.workingDirectory };
  const limits = settings.limits;
  const metrics = new Metrics('test');
  const tenantLimits = new Limits(limits, opts.overrides);
  const deletes =
    opts.deletes ??
    (opts.deleteRequests &&
      new CompactorDeletes({
        requests: opts.deleteRequests,
        store: opts.store,
        modeOf: (t) => tenantLimits.forTenant(t).deletion_mode,
        retention: tenantLimits,
        cancelPeriod: config.delete_request_cancel_period,
        batchSize: config.delete_batch_size,
        metrics,
        log: opts.log ?? silentLogger,
        ...(opts.now ? { now: opts.now } : {}),
      }));
  const compactor = new Compactor({
    config,
    store: opts.store,
    limits: tenantLimits,
    metrics,
    log: opts.log ?? silentLogger,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.ticker ? { ticker: opts.ticker } : {}),
    ...(deletes ? { deletes } : {}),
  });
  return { compactor, metrics };
}

/**
 * An object store that fails every put and delete once `budget` of them have succeeded, as a process that dies
 * (or loses its store) at that point of a run would leave things. Reads and lists keep working.
 */
export class FailingWritesStore implements ObjectStore {
  readonly description: string;
  writes = 0;

  constructor(
    private readonly inner: ObjectStore,
    private readonly budget: number,
  ) {
    this.description = `failing after ${budget} writes: ${inner.description}`;
  }

  get failed(): boolean {
    return this.writes > this.budget;
  }

  private spend(key: string): void {
    this.writes++;
    if (this.writes > this.budget) throw new Error(`injected failure at write ${this.writes}: ${key}`);
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    this.spend(key);
    await this.inner.put(key, body);
  }

  async delete(key: string): Promise<void> {
    this.spend(key);
    await this.inner.delete(key);
  }

  get(key: string): Promise<Buffer> {
    return this.inner.get(key);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
}
