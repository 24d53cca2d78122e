import type { Config } from './schema.js';

/*
 * Loki's ApplyDynamicConfig (pkg/loki/config_wrapper.go) for the ring keys loki-lite reads: the common
 * section and memberlist give the ingester ring what its own section leaves unset. Loki applies them and then
 * reads the file again, so a key written under ingester.lifecycler wins even when it holds the default; here
 * "written" is read off the parsed YAML tree.
 */

type Path = readonly string[];

/** common.ring's keys and the ingester lifecycler's keys they fill (Loki's applyConfigToRings). */
const COMMON_RING_TO_INGESTER: readonly (readonly [Path, Path])[] = [
  [
    ['kvstore', 'store'],
    ['ring', 'kvstore', 'store'],
  ],
  [
    ['kvstore', 'prefix'],
    ['ring', 'kvstore', 'prefix'],
  ],
  [['heartbeat_period'], ['heartbeat_period']],
  [['heartbeat_timeout'], ['ring', 'heartbeat_timeout']],
  [['instance_id'], ['id']],
  [['instance_interface_names'], ['interface_names']],
  [['instance_port'], ['port']],
  [['instance_addr'], ['address']],
  [['instance_availability_zone'], ['availability_zone']],
];

const LIFECYCLER: Path = ['ingester', 'lifecycler'];

/**
 * Fills the ring settings derived from others, in Loki's order: common.instance_addr, then common.ring (when
 * it differs from its defaults) or else memberlist, then common.replication_factor. `tree` is the YAML as
 * written, `defaults` the configuration an empty file gives.
 */
export function applyCommonRing(config: Config, tree: unknown, defaults: Config): void {
  const written = (path: Path) => valueAt(tree, path) !== undefined;
  const setUnlessWritten = (path: Path, value: unknown) => {
    if (!written(path)) setAt(config, path, value);
  };

  // applyInstanceConfigs: the common address is every role's unless it sets its own.
  const { common } = config;
  if (common.instance_addr !== '') {
    if (common.ring.instance_addr === defaults.common.ring.instance_addr) common.ring.instance_addr = common.instance_addr;
    setUnlessWritten(['frontend', 'address'], common.instance_addr);
    setUnlessWritten(['memberlist', 'advertise_addr'], common.instance_addr);
  }

  // Any store written differs from Loki's default (consul), so it counts as setting the common ring.
  const commonRingSet = !sameValue(common.ring, defaults.common.ring) || written(['common', 'ring', 'kvstore', 'store']);
  // Loki's default store is consul, which loki-lite does not have: an unset store is memberlist when there are
  // members to join (Loki's applyMemberlistConfig), and in memory otherwise.
  const defaultStore = config.memberlist.join_members.length > 0 ? 'memberlist' : 'inmemory';
  setUnlessWritten(['common', 'ring', 'kvstore', 'store'], defaultStore);
  if (commonRingSet) {
    for (const [from, to] of COMMON_RING_TO_INGESTER) setUnlessWritten([...LIFECYCLER, ...to], valueAt(common.ring, from));
  } else {
    setUnlessWritten([...LIFECYCLER, 'ring', 'kvstore', 'store'], defaultStore);
  }

  // applyIngesterReplicationFactor
  setUnlessWritten([...LIFECYCLER, 'ring', 'replication_factor'], common.replication_factor);
}

function valueAt(node: unknown, path: Path): unknown {
  let v = node;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function setAt(node: object, path: Path, value: unknown): void {
  const parent = valueAt(node, path.slice(0, -1)) as Record<string, unknown>;
  parent[path.at(-1)!] = Array.isArray(value) ? [...(value as unknown[])] : value;
}

function sameValue(a: unknown, b: unknown): boolean {
  const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
  return text(a) === text(b);
}
