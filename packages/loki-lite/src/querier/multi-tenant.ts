import type { LabelMatcher, Labels } from '@loki-lite/shared';

/*
 * Loki's multi-tenant reads (pkg/querier/multi_tenant_querier.go): a query for `a|b` is read tenant by
 * tenant and every stream it finds carries the tenant it came from as __tenant_id__, which the selector may
 * match on like any label.
 */

/** The label Loki gives every stream of a multi-tenant query: the tenant it belongs to. */
export const TENANT_LABEL = '__tenant_id__';

/**
 * Reads `tenant` with `read`: at once for one tenant; for `a|b`, once per tenant the selector's
 * __tenant_id__ matchers accept, with the other matchers (the label is not stored, so no stream would match
 * it), each of the tenant's results given to `tag` to mark where it came from.
 */
export async function acrossTenants<T>(
  tenant: string,
  matchers: readonly LabelMatcher[],
  read: (tenant: string, matchers: readonly LabelMatcher[]) => Promise<T[]>,
  tag: (result: T, tenant: string) => T,
): Promise<{ results: T[]; multiTenant: boolean }> {
  const tenants = tenant.split('|');
  if (tenants.length === 1) return { results: await read(tenant, matchers), multiTenant: false };
  const byTenant = matchers.filter((m) => m.name === TENANT_LABEL);
  const others = matchers.filter((m) => m.name !== TENANT_LABEL);
  const results: T[] = [];
  for (const t of tenants.filter((id) => byTenant.every((m) => m.matches(id)))) {
    for (const r of await read(t, others)) results.push(tag(r, t));
  }
  return { results, multiTenant: true };
}

/** `labels` with __tenant_id__=tenant added in its sorted place. */
export function withTenantLabel(labels: Labels, tenant: string): Labels {
  return [...labels, { name: TENANT_LABEL, value: tenant }].sort((a, b) => compareStrings(a.name, b.name));
}

export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
