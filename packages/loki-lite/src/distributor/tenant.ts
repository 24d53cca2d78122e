import { LokiError } from '@loki-lite/shared';

/** The tenant used when auth_enabled is false, as in Loki. */
export const DEFAULT_TENANT = 'fake';
const MAX_TENANT_LENGTH = 150;
const ALLOWED = /^[a-zA-Z0-9!\-_.*'()]$/;

/** Checks a tenant ID with the rules and wording of Loki's tenant.ValidTenantID. */
export function validateTenantId(id: string): void {
  if (id.length > MAX_TENANT_LENGTH) throw new LokiError('unauthorized', 'invalid_tenant', `tenant ID is too long: max ${MAX_TENANT_LENGTH} characters`);
  if (id === '.' || id === '..') throw new LokiError('unauthorized', 'invalid_tenant', "tenant ID is '.' or '..'");
  for (const ch of id) {
    if (!ALLOWED.test(ch)) throw new LokiError('unauthorized', 'invalid_tenant', `tenant ID '${id}' contains unsupported character '${ch}'`);
  }
}

/**
 * The tenant of a request from its X-Scope-OrgID header. Without auth every request belongs to `fake`.
 * `allowMultiple` permits Loki's `a|b` multi-tenant queries (returned as several IDs).
 */
export function tenantsFromHeader(header: string | undefined, authEnabled: boolean, allowMultiple: boolean): string[] {
  if (!authEnabled) return [DEFAULT_TENANT];
  if (header === undefined || header === '') throw new LokiError('unauthorized', 'no_org_id', 'no org id');
  const ids = header.split('|');
  if (ids.length > 1 && !allowMultiple) throw new LokiError('bad_data', 'multiple_org_ids', 'multiple org IDs present');
  for (const id of ids) validateTenantId(id);
  return [...new Set(ids)].sort();
}
