import { parseLabels } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import type { LimitsConfig } from '../../config/schema.js';
import type { ChunkRef } from '../../index/types.js';
import { Limits } from '../../limits/limits.js';
import { Expiration } from './expiration.js';

const HOUR = 3_600_000_000_000n;
const DAY = 24n * HOUR;
const NOW = 20_000n * DAY;

/** The limits_config of a YAML fragment, with Loki's defaults for the rest (as overrides are, in Loki). */
function limitsOf(yaml: string): LimitsConfig {
  const base = `schema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]}
storage_config: {filesystem: {directory: /tmp/x}}
`;
  return parseConfig(`${base}limits_config: ${yaml}\n`).config.limits_config;
}

const chunkEndingAt = (through: bigint): ChunkRef => ({ fingerprint: 'f', from: through - HOUR, through, checksum: 1, size: 1, entries: 1, lineBytes: 1 });

describe("retention expiration, with Loki's precedence", () => {
  const global = limitsOf(
    `{retention_period: 30d, retention_stream: [{selector: '{ns="dev"}', priority: 1, period: 2d}, {selector: '{ns="dev", app="x"}', priority: 1, period: 1d}]}`,
  );
  const tenantPeriodOnly = limitsOf(
    `{retention_period: 10d, retention_stream: [{selector: '{ns="dev"}', priority: 1, period: 2d}, {selector: '{ns="dev", app="x"}', priority: 1, period: 1d}]}`,
  );
  const tenantStreams = limitsOf(
    `{retention_period: 10d, retention_stream: [{selector: '{ns="prod"}', priority: 5, period: 3d}, {selector: '{ns=~"p.*"}', priority: 9, period: 60d}]}`,
  );
  const limits = new Limits(
    global,
    new Map([
      ['period-only', tenantPeriodOnly],
      ['streams', tenantStreams],
    ]),
  );
  const expiration = new Expiration(limits, NOW);
  const period = (tenant: string, labels: string) => expiration.periodFor(tenant, parseLabels(labels));

  it('picks the matching stream rule of highest priority, on a tie the shorter period; else retention_period', () => {
    expect(period('anyone', '{ns="dev"}')).toBe(2n * DAY);
    expect(period('anyone', '{ns="dev", app="x"}')).toBe(1n * DAY);
    expect(period('anyone', '{ns="prod"}')).toBe(30n * DAY);
    expect(period('streams', '{ns="prod"}')).toBe(60n * DAY);
    expect(period('streams', '{ns="qa"}')).toBe(10n * DAY);
  });

  it("takes a tenant's own streams over the global ones, the global ones over the tenant's period, that over the global period", () => {
    // an override without retention_stream inherits the global list, as Loki's overrides start from the defaults
    expect(period('period-only', '{ns="dev"}')).toBe(2n * DAY);
    expect(period('period-only', '{ns="qa"}')).toBe(10n * DAY);
    // an override with its own list replaces the global one
    expect(period('streams', '{ns="dev"}')).toBe(10n * DAY);
  });

  it('expires a chunk whose end is strictly more than the period before now, and nothing with period 0', () => {
    const labels = parseLabels('{ns="dev", app="x"}');
    expect(expiration.expired('anyone', labels, chunkEndingAt(NOW - DAY))).toBe(false);
    expect(expiration.expired('anyone', labels, chunkEndingAt(NOW - DAY - 1_000_000n))).toBe(true);
    const forever = new Expiration(new Limits(limitsOf('{}')), NOW);
    expect(forever.expired('anyone', labels, chunkEndingAt(0n))).toBe(false);
  });

  it("lets a table drop a chunk that runs on into the next day once the table's end is past retention", () => {
    const labels = parseLabels('{ns="dev", app="x"}');
    expect(expiration.dropFromIndex('anyone', labels, NOW - 2n * DAY)).toBe(true);
    expect(expiration.dropFromIndex('anyone', labels, NOW - HOUR)).toBe(false);
  });
});
