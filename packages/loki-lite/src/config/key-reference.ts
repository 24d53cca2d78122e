import { LOKI_CONFIG_KEYS } from './loki-config-keys.js';

/*
 * Loki refuses a key it does not know anywhere in its config (its YAML parser is strict). loki-lite accepts a
 * section it does not act on (known-keys.ts) with a warning; so that a typo or a key in the wrong place under
 * such a section is not passed over in silence, the keys under it are checked against Loki's configuration
 * reference (loki-config-keys.ts).
 */

/** One segment of the reference's key paths. `leaf`: a listed path ends here, and its value is not checked. */
interface KeyNode {
  readonly children: Map<string, KeyNode>;
  leaf: boolean;
}

/**
 * Keys Loki reads that its generated reference leaves out (fields tagged doc:"hidden" in Loki's source:
 * tracing.profiling_enabled is in pkg/tracing/config.go), so Loki accepts them and so does the check.
 */
const HIDDEN_LOKI_KEYS = ['tracing.profiling_enabled'];

/** The reference as a tree of segments, built once: a check walks it alongside the config. */
const REFERENCE = keyTree([...LOKI_CONFIG_KEYS, ...HIDDEN_LOKI_KEYS]);

function keyTree(paths: readonly string[]): KeyNode {
  const root: KeyNode = { children: new Map(), leaf: false };
  for (const path of paths) {
    let node = root;
    for (const segment of path.split('.')) {
      let child = node.children.get(segment);
      if (child === undefined) node.children.set(segment, (child = { children: new Map(), leaf: false }));
      node = child;
    }
    node.leaf = true;
  }
  return root;
}

/** The reference node of a dotted path, or undefined when the reference does not have it. */
function nodeAt(path: readonly string[]): KeyNode | undefined {
  let node: KeyNode | undefined = REFERENCE;
  for (const segment of path) node = node?.children.get(segment);
  return node;
}

/**
 * The `unknown key` problems of keys under the given sections (dotted paths, as in KNOWN_UNIMPLEMENTED) that
 * Loki's reference does not have. A key is known when its path (array indices left out) is listed, lies on
 * the way to a listed path (an inner block), or lies inside a listed key's value (a list of relabel configs,
 * a map of headers). A section the reference does not have (a key of an earlier Loki release) is not checked.
 */
export function keysOutsideReference(tree: Record<string, unknown>, sections: readonly string[]): string[] {
  const problems: string[] = [];
  for (const section of sections) {
    const path = section.split('.');
    const node = nodeAt(path);
    if (node === undefined) continue;
    for (const [value, where] of valuesAt(tree, path, '')) {
      for (const unknown of unknownKeys(value, node, where)) problems.push(unknownKeyProblem(unknown, section, node));
    }
  }
  return problems;
}

/** The values at `path` in the config, each with where it is (array indices included, as the schema's problems name them). */
function* valuesAt(value: unknown, path: readonly string[], where: string): Generator<[unknown, string]> {
  if (path.length === 0) {
    yield [value, where];
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* valuesAt(item, path, `${where}.${i}`);
    return;
  }
  if (!isMapping(value)) return;
  const [head, ...rest] = path as [string, ...string[]];
  if (head in value) yield* valuesAt(value[head], rest, where === '' ? head : `${where}.${head}`);
}

/** A key found where the reference has none: its place in the config and its path in reference form. */
interface UnknownKey {
  where: string;
  key: string;
}

/** The keys in `value` (the config at `where`, reference node `node`) that the reference does not have. */
function* unknownKeys(value: unknown, node: KeyNode, where: string): Generator<UnknownKey> {
  if (node.leaf) return;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* unknownKeys(item, node, `${where}.${i}`);
    return;
  }
  if (!isMapping(value)) return;
  for (const [key, inner] of Object.entries(value)) {
    const child = node.children.get(key);
    if (child === undefined) yield { where: `${where}.${key}`, key };
    else yield* unknownKeys(inner, child, `${where}.${key}`);
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How many places a suggestion names before it only counts the others. */
const MAX_SUGGESTIONS = 3;

function unknownKeyProblem(unknown: UnknownKey, section: string, sectionNode: KeyNode): string {
  const places = pathsEndingWith(sectionNode, unknown.key, section);
  return `${unknown.where}: unknown key (not a Loki config key; Loki refuses it too${suggestion(places)})`;
}

/** `; did you mean a, b or c?`, naming the first places and counting the rest; nothing when there is none. */
function suggestion(places: readonly string[]): string {
  if (places.length === 0) return '';
  const named = places.slice(0, MAX_SUGGESTIONS);
  const others = places.length - named.length;
  const list = named.length === 1 ? named[0]! : `${named.slice(0, -1).join(', ')} or ${named.at(-1)!}`;
  return `; did you mean ${list}${others > 0 ? ` (or ${others} other place${others === 1 ? '' : 's'})` : ''}?`;
}

/** The reference paths under `node` (at `path`) whose last segment is `key`, shallowest first. */
function pathsEndingWith(node: KeyNode, key: string, path: string): string[] {
  const found: string[] = [];
  let level: [KeyNode, string][] = [[node, path]];
  while (level.length > 0) {
    const next: [KeyNode, string][] = [];
    for (const [n, p] of level) {
      for (const [segment, child] of n.children) {
        if (segment === key) found.push(`${p}.${segment}`);
        next.push([child, `${p}.${segment}`]);
      }
    }
    level = next;
  }
  return found;
}
