import type { ChunkId } from '../index/types.js';

/*
 * The object key schema; nothing else builds keys.
 *   chunks/<tenant>/<fingerprint>/<from ms hex>:<through ms hex>:<crc32 hex>
 *   index/<table name: prefix and period number>/<tenant>/<created ms>-<writer id>-<seq>.tsdb
 * A period is a 24h index table, numbered by days since the Unix epoch like Loki's tables.
 */

export const PERIOD_NS = 86_400_000_000_000n;

export function periodOf(ts: bigint): number {
  return Number(ts / PERIOD_NS);
}

export function chunkKey(tenant: string, ref: ChunkId): string {
  const ms = (ns: bigint) => (ns / 1_000_000n).toString(16);
  return `chunks/${tenant}/${ref.fingerprint}/${ms(ref.from)}:${ms(ref.through)}:${ref.checksum.toString(16)}`;
}

/** Loki's name for an index table: the schema period's prefix and the period number, e.g. `index_20412`. */
export function indexTableName(prefix: string, period: number): string {
  return `${prefix}${period}`;
}

/** Where every index table is. */
export const INDEX_ROOT = 'index/';

/** The keys of every tenant's files of one table. */
export function indexTableNamePrefix(tableName: string): string {
  return `${INDEX_ROOT}${tableName}/`;
}

/** The keys of one tenant's files of one table. */
export function indexTablePrefix(tableName: string, tenant: string): string {
  return `${indexTableNamePrefix(tableName)}${tenant}/`;
}

export function indexFileKey(tableName: string, tenant: string, createdMs: number, writerId: string, seq: number): string {
  return `${indexTablePrefix(tableName, tenant)}${createdMs}-${writerId}-${seq}.tsdb`;
}

/** Whether `key` is named as indexFileKey names index files (a file of another program in the table is not). */
export function isIndexFileKey(key: string): boolean {
  return /\/\d+-[0-9a-f]+-\d+\.tsdb$/.test(key);
}

/** The table name and tenant of an object in the index key space, or undefined for a key outside it. */
export function indexTableOfKey(key: string): { tableName: string; tenant: string } | undefined {
  const m = /^index\/([^/]+)\/([^/]+)\/[^/]+$/.exec(key);
  return m ? { tableName: m[1]!, tenant: m[2]! } : undefined;
}

/** The period number of a table named by indexTableName with `prefix`, or undefined when it was not. */
export function periodOfTableName(tableName: string, prefix: string): number | undefined {
  if (!tableName.startsWith(prefix)) return undefined;
  const digits = tableName.slice(prefix.length);
  return /^\d+$/.test(digits) ? Number(digits) : undefined;
}

/*
 * Delete requests (deletion/README.md):
 *   delete_requests/<tenant>/requests/<request id>/request.json        the request and its pieces
 *   delete_requests/<tenant>/requests/<request id>/processed/<seq>     a piece the compactor has done
 *   delete_requests/<tenant>/requests/<request id>/cancelled/<seq>     a piece cancelled (force) after others were done
 *   delete_requests/<tenant>/cache_generation/<20-digit ns>           the tenant's cache generation number
 */
export const DELETE_REQUESTS_ROOT = 'delete_requests/';

export function deleteRequestsPrefix(tenant: string): string {
  return `${DELETE_REQUESTS_ROOT}${tenant}/requests/`;
}

export function deleteRequestPrefix(tenant: string, requestId: string): string {
  return `${deleteRequestsPrefix(tenant)}${requestId}/`;
}

export function deleteRequestKey(tenant: string, requestId: string): string {
  return `${deleteRequestPrefix(tenant, requestId)}request.json`;
}

export function deleteRequestPieceKey(tenant: string, requestId: string, state: 'processed' | 'cancelled', seq: number): string {
  return `${deleteRequestPrefix(tenant, requestId)}${state}/${seq}`;
}

/** What a key under deleteRequestsPrefix(tenant) is: the request itself or a piece's state. */
export function deleteRequestKeyOf(
  tenant: string,
  key: string,
): { requestId: string; kind: 'request' } | { requestId: string; kind: 'processed' | 'cancelled'; seq: number } | undefined {
  const rest = key.startsWith(deleteRequestsPrefix(tenant)) ? key.slice(deleteRequestsPrefix(tenant).length) : undefined;
  const m = rest === undefined ? null : /^([^/]+)\/(?:(request\.json)|(processed|cancelled)\/(\d+))$/.exec(rest);
  if (!m) return undefined;
  return m[2] ? { requestId: m[1]!, kind: 'request' } : { requestId: m[1]!, kind: m[3] as 'processed' | 'cancelled', seq: Number(m[4]) };
}

export function cacheGenerationPrefix(tenant: string): string {
  return `${DELETE_REQUESTS_ROOT}${tenant}/cache_generation/`;
}

/** Zero-padded so that the lexical order of the keys is the order of the numbers. */
export function cacheGenerationKey(tenant: string, generation: bigint): string {
  return `${cacheGenerationPrefix(tenant)}${generation.toString().padStart(20, '0')}`;
}

/** The tenants with delete requests, from a listing of DELETE_REQUESTS_ROOT. */
export function deleteRequestTenantOf(key: string): string | undefined {
  const m = /^delete_requests\/([^/]+)\/requests\//.exec(key);
  return m?.[1];
}
