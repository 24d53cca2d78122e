import type { ChunkRef } from '../index/types.js';

/*
 * The object key schema; nothing else builds keys.
 *   chunks/<tenant>/<fingerprint>/<from ms hex>:<through ms hex>:<crc32 hex>
 *   index/<prefix><period number>/<tenant>/<created ms>-<writer id>-<seq>.tsdb
 * A period is a 24h index table, numbered by days since the Unix epoch like Loki's tables.
 */

export const PERIOD_NS = 86_400_000_000_000n;

export function periodOf(ts: bigint): number {
  return Number(ts / PERIOD_NS);
}

export function chunkKey(tenant: string, ref: ChunkRef): string {
  const ms = (ns: bigint) => (ns / 1_000_000n).toString(16);
  return `chunks/${tenant}/${ref.fingerprint}/${ms(ref.from)}:${ms(ref.through)}:${ref.checksum.toString(16)}`;
}

export function indexTablePrefix(prefix: string, period: number, tenant: string): string {
  return `index/${prefix}${period}/${tenant}/`;
}

export function indexFileKey(prefix: string, period: number, tenant: string, createdMs: number, writerId: string, seq: number): string {
  return `${indexTablePrefix(prefix, period, tenant)}${createdMs}-${writerId}-${seq}.tsdb`;
}

/** Whether `key` is named as indexFileKey names index files (a file of another program in the table is not). */
export function isIndexFileKey(key: string): boolean {
  return /\/\d+-[0-9a-f]+-\d+\.tsdb$/.test(key);
}
