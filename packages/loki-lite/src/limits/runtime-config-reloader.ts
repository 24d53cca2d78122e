import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Logger, StartupError } from '@loki-lite/shared';
import type { Metrics } from '../metrics.js';
import { intervalTicker, type Ticker } from '../util/ticker.js';
import type { Limits } from './limits.js';
import { parseRuntimeConfig, RuntimeConfigError, type RuntimeConfigFile } from './runtime-config.js';

export interface RuntimeConfigReloaderDeps {
  /** runtime_config.file: a comma-separated list of files, merged from left to right. */
  readonly files: string;
  /** runtime_config.period in ns; 0 loads once at start. */
  readonly periodNs: bigint;
  readonly limits: Limits;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly ticker?: Ticker;
}

/** dskit registers the manager's metrics with the config name Loki gives it. */
const CONFIG = { config: 'loki' };

/**
 * Loki's runtime-config module (dskit runtimeconfig.Manager): loads the files at start, where a bad file
 * fails the start, then reads them again every period and hands changed overrides to Limits. A reload
 * that fails keeps the overrides in force and says why at error level; the metrics tell whether the last
 * attempt worked and which content is in force.
 */
export class RuntimeConfigReloader {
  readonly name = 'runtime-config';
  private readonly paths: readonly string[];
  /** The sha256 of the files in force: unchanged files are not parsed again. */
  private hash: string | undefined;
  private stopTicker: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly deps: RuntimeConfigReloaderDeps) {
    this.paths = deps.files
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
  }

  async start(): Promise<void> {
    try {
      await this.load();
    } catch (e) {
      this.deps.metrics.runtimeConfigReloadSuccessful.set(CONFIG, 0);
      throw new StartupError(`failed to load runtime config: ${(e as Error).message}`);
    }
    const periodMs = Number(this.deps.periodNs / 1_000_000n);
    if (periodMs > 0) this.stopTicker = (this.deps.ticker ?? intervalTicker)(periodMs, () => this.reload());
  }

  async stop(): Promise<void> {
    this.stopTicker?.();
    await this.inFlight;
  }

  /** One reload (what each period runs); a second call while one runs waits for that one. Never rejects. */
  reload(): Promise<void> {
    this.inFlight ??= this.load()
      .catch((e: unknown) => {
        this.deps.metrics.runtimeConfigReloadSuccessful.set(CONFIG, 0);
        this.deps.log.fields('error', [
          ['msg', 'failed to load config'],
          ['err', (e as Error).message],
        ]);
      })
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async load(): Promise<void> {
    const files = await Promise.all(this.paths.map(readRuntimeConfigFile));
    const hash = createHash('sha256');
    for (const f of files) hash.update(f.text);
    const sha256 = hash.digest('hex');
    const { metrics, limits, log } = this.deps;
    if (sha256 !== this.hash) {
      const values = parseRuntimeConfig(files, limits.defaults());
      for (const w of values.warnings) log.warn(w);
      limits.setOverrides(values.overrides);
      metrics.runtimeConfigHash.reset();
      metrics.runtimeConfigHash.set({ ...CONFIG, sha256 }, 1);
      this.hash = sha256;
    }
    metrics.runtimeConfigReloadSuccessful.set(CONFIG, 1);
  }
}

async function readRuntimeConfigFile(path: string): Promise<RuntimeConfigFile> {
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (e) {
    throw new RuntimeConfigError(`read file ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
}
