/*
 * Which modules a -target runs, as Loki's module graph (pkg/loki/modules.go) composes them: a target names
 * one or more modules, and every module brings the modules it depends on. The graph holds the modules
 * loki-lite builds (compose.ts) and those of distributed mode that it has no builder for yet (issue 16);
 * Loki's others (ring, memberlist-kv, ruler, pattern-ingester, the bloom modules) join as their issues land.
 */

/** The modules compose.ts builds. */
export const MODULES = ['server', 'store', 'ingester', 'distributor', 'querier', 'query-frontend', 'compactor'] as const;
export type ModuleName = (typeof MODULES)[number];

/**
 * Loki's modules that loki-lite has in its graph but cannot run yet (distributed mode, issue 16). In one
 * process the query-frontend's own admission queues stand in for the query-scheduler, and the querier reads
 * the index itself instead of asking an index gateway, so `all` runs without them.
 */
export const PENDING_MODULES = ['query-scheduler', 'index-gateway'] as const;
export type PendingModuleName = (typeof PENDING_MODULES)[number];

type GraphModule = ModuleName | PendingModuleName;

/** A module's direct dependencies: modules that must exist (and start) before it. */
const DEPENDS_ON: Readonly<Record<GraphModule, readonly GraphModule[]>> = {
  server: [],
  store: [],
  ingester: ['store', 'server'],
  // Until the ring (distributed mode), a distributor hands its streams to the ingester of its own process.
  distributor: ['ingester', 'server'],
  // Until ingesters answer over the network, a querier reads the memory of its own process's ingester.
  querier: ['store', 'ingester', 'server'],
  'query-frontend': ['querier', 'server'],
  // Loki's: Server, Overrides, MemberlistKV, QuerySchedulerRing.
  'query-scheduler': ['server'],
  // Loki's: Server, Store, IndexGatewayRing.
  'index-gateway': ['store', 'server'],
  compactor: ['store', 'server'],
};

/**
 * Loki's target names that stand for several modules, as its modules.go has them less ruler, pattern-ingester
 * and the bloom modules. Within a group, modules start in the order listed after their dependencies.
 */
const GROUPS: Readonly<Record<string, readonly GraphModule[]>> = {
  all: ['distributor', 'ingester', 'querier', 'query-frontend', 'query-scheduler', 'compactor'],
  write: ['ingester', 'distributor'],
  read: ['query-frontend', 'querier'],
  backend: ['query-scheduler', 'index-gateway', 'compactor'],
};

export interface TargetModules {
  /** The modules loki-lite builds, each after the modules it depends on (so in start order). */
  modules: ModuleName[];
  /** Modules of the target that loki-lite cannot run yet. */
  pending: PendingModuleName[];
  /** Names of the target that are no module or group loki-lite has. */
  unknown: string[];
}

/** The modules of a comma-separated -target. */
export function modulesOf(target: string): TargetModules {
  const order: GraphModule[] = [];
  const unknown: string[] = [];
  const visit = (m: GraphModule) => {
    if (order.includes(m)) return;
    for (const dep of DEPENDS_ON[m]) visit(dep);
    order.push(m);
  };
  for (const name of target.split(',').map((t) => t.trim())) {
    const group = GROUPS[name] ?? (isGraphModule(name) ? [name] : undefined);
    if (group) group.forEach(visit);
    else unknown.push(name);
  }
  return { modules: order.filter(isBuilt), pending: order.filter(isPending), unknown };
}

function isGraphModule(name: string): name is GraphModule {
  return name in DEPENDS_ON;
}

function isBuilt(name: GraphModule): name is ModuleName {
  return (MODULES as readonly string[]).includes(name);
}

function isPending(name: GraphModule): name is PendingModuleName {
  return (PENDING_MODULES as readonly string[]).includes(name);
}
