import { EntryBatch, parseLabels, printLabels } from '@loki-lite/shared';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Ingester, type IngesterDeps } from '../ingester/ingester.js';
import type { IngestStream } from '../ingester/push-request.js';
import { Metrics } from '../metrics.js';
import { LogStore } from '../storage/log-store.js';
import { MemoryObjectStore } from '../storage/memory/memory-store.js';
import { Limits } from '../limits/limits.js';

/*
 * Ingesters for tests, on an object store in memory and a WAL in a folder of their own. Every ingester made
 * is stopped, and every folder removed, by stopIngesterFixtures: call it from afterEach.
 */

const folders: string[] = [];
const running: Ingester[] = [];

export async function stopIngesterFixtures(): Promise<void> {
  await Promise.all(running.splice(0).map((i) => i.stop().catch(() => {})));
  folders.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
}

export interface IngesterFixture<O extends MemoryObjectStore> {
  readonly config: Config;
  readonly objects: O;
  readonly store: LogStore;
  readonly metrics: Metrics;
  /** A new ingester over the fixture's folder and store, not started: a second one replays the first's WAL. */
  newIngester(): Ingester;
  /** Forgets an ingester without stopping it, as a kill -9 would. */
  crash(ingester: Ingester): void;
}

export interface FixtureOptions<O extends MemoryObjectStore> {
  /** YAML of limits_config, beside reject_old_samples: false. */
  readonly limits?: string;
  readonly objects?: O;
  readonly walFiles?: IngesterDeps['walFiles'];
}

/** `ingesterYaml`: the ingester section, as a YAML flow mapping. */
export function ingesterFixture<O extends MemoryObjectStore = MemoryObjectStore>(ingesterYaml: string, options: FixtureOptions<O> = {}): IngesterFixture<O> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ingester-'));
  folders.push(dir);
  const { config } = parseConfig(`
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: inmemory, schema: v13, index: {prefix: index_, period: 24h}}]}
common: {path_prefix: ${dir}}
ingester: ${ingesterYaml}
limits_config: {reject_old_samples: false${options.limits ? `, ${options.limits}` : ''}}
`);
  const objects = options.objects ?? (new MemoryObjectStore() as O);
  const store = new LogStore(objects, [{ from: 0n, prefix: 'index_' }]);
  const metrics = new Metrics();
  return {
    config,
    objects,
    store,
    metrics,
    newIngester() {
      const ingester = new Ingester({ config: config.ingester, limits: new Limits(config.limits_config), store, metrics, walFiles: options.walFiles });
      running.push(ingester);
      return ingester;
    },
    crash(ingester) {
      running.splice(running.indexOf(ingester), 1);
    },
  };
}

/** A stream as the distributor hands it to the ingester: its labels parsed and printed, its entries as given. */
export function ingestStream(labels: string, entries: ReadonlyArray<readonly [timestamp: bigint, line: string]>): IngestStream {
  const parsed = parseLabels(labels);
  return {
    labels: parsed,
    labelsString: printLabels(parsed),
    entries: EntryBatch.fromEntries(entries.map(([timestamp, line]) => ({ timestamp, line, structuredMetadata: [] }))),
  };
}
