import type { LabelMatcher, Labels } from '@loki-lite/shared';

/*
 * Loki's multi-tenant reads (pkg/querier/multi_tenant_querier.go): a query for `a|b` is read tenant by
 * tenant and every stream it finds carries the tenant it came from as __tenant_id__, which the selector may
 * match on like any label.
 */

/** The label Loki gives every stream of a multi-tenant query: the tenant it belongs to. */
export const TENANT_LABEL = '__tenant_id__';

/**
 * The tenants a query for `tenant` reads, each with the matchers to read it with: `tenant` itself with all
 * matchers; for `a|b`, each tenant the selector's __tenant_id__ matchers accept, with the other matchers
 * (the label is not stored, so no stream would match it).
 */
export function tenantsOf(tenant: string, matchers: readonly LabelMatcher[]): { reads: TenantRead[]; multiTenant: boolean } {
  const tenants = tenant.split('|');
  if (tenants.length === 1) return { reads: [{ tenant, matchers }], multiTenant: false };
  const byTenant = matchers.filter((m) => m.name === TENANT_LABEL);
  const others = matchers.filter((m) => m.name !== TENANT_LABEL);
  const reads = tenants.filter((id) => byTenant.every((m) => m.matches(id))).map((t) => ({ tenant: t, matchers: others }));
  return { reads, multiTenant: true };
}

export interface TenantRead {
  readonly tenant: string;
  readonly matchers: readonly LabelMatcher[];
}

/**
 * Reads `tenant` with `read`, tenant by tenant (tenantsOf), each of a multi-tenant query's results given
 * to `tag` to mark where it came from.
 */
export async function acrossTenants<T>(
  tenant: string,
  matchers: readonly LabelMatcher[],
  read: (tenant: string, matchers: readonly LabelMatcher[]) => Promise<T[]>,
  tag: (result: T, tenant: string) => T,
): Promise<{ results: T[]; multiTenant: boolean }> {
  const { reads, multiTenant } = tenantsOf(tenant, matchers);
  const results: T[] = [];
  for (const r of reads) {
    for (const result of await read(r.tenant, r.matchers)) results.push(multiTenant ? tag(result, r.tenant) : result);
  }
  return { results, multiTenant };
}

/** `labels` with __tenant_id__=tenant added in its sorted place. */
export function withTenantLabel(labels: Labels, tenant: string): Labels {
  return [...labels, { name: TENANT_LABEL, value: tenant }].sort((a, b) => compareStrings(a.name, b.name));
}

export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
