/*
 * Which modules a -target runs, as Loki's module graph (pkg/loki/modules.go) composes them: a target names
 * one or more modules, and every module brings the modules it depends on. The graph holds the modules
 * loki-lite has; Loki's other ones (ring, memberlist-kv, query-scheduler, index-gateway, ruler,
 * pattern-ingester) join it as their issues land.
 */

export const MODULES = ['server', 'store', 'ingester', 'distributor', 'querier', 'query-frontend', 'compactor'] as const;
export type ModuleName = (typeof MODULES)[number];

/** A module's direct dependencies: modules that must exist (and start) before it. */
const DEPENDS_ON: Readonly<Record<ModuleName, readonly ModuleName[]>> = {
  server: [],
  store: [],
  ingester: ['store', 'server'],
  // Until the ring (distributed mode), a distributor hands its streams to the ingester of its own process.
  distributor: ['ingester', 'server'],
  // Until ingesters answer over the network, a querier reads the memory of its own process's ingester.
  querier: ['store', 'ingester', 'server'],
  'query-frontend': ['querier', 'server'],
  compactor: ['store', 'server'],
};

/** Loki's target names that stand for several modules. */
const GROUPS: Readonly<Record<string, readonly ModuleName[]>> = {
  all: ['distributor', 'ingester', 'querier', 'query-frontend', 'compactor'],
  write: ['distributor', 'ingester'],
  read: ['query-frontend', 'querier'],
  // Loki's backend also has the query-scheduler, index-gateway and ruler, which loki-lite has not.
  backend: ['compactor'],
};

/**
 * The modules of a comma-separated -target, each after the modules it depends on (so in start order), or
 * the names loki-lite has no module for.
 */
export function modulesOf(target: string): { modules: ModuleName[]; unknown: string[] } {
  const order: ModuleName[] = [];
  const unknown: string[] = [];
  const visit = (m: ModuleName) => {
    if (order.includes(m)) return;
    for (const dep of DEPENDS_ON[m]) visit(dep);
    order.push(m);
  };
  for (const name of target.split(',').map((t) => t.trim())) {
    const group = GROUPS[name] ?? (isModule(name) ? [name] : undefined);
    if (group) group.forEach(visit);
    else unknown.push(name);
  }
  return { modules: order, unknown };
}

function isModule(name: string): name is ModuleName {
  return (MODULES as readonly string[]).includes(name);
}
