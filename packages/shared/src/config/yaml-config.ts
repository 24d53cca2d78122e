import { parseDocument } from 'yaml';
import type { z } from 'zod';

/*
 * What loki-lite and the agent share about reading a config file: YAML with merge keys, `-config.expand-env`
 * substitution, validation by one zod schema with every problem reported at once (each naming its key),
 * and a frozen result.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** `${VAR}`, `${VAR:-default}` and `$VAR`, as Loki's and Promtail's -config.expand-env do. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced, def, bare) => {
    const name = (braced ?? bare) as string;
    const value = env[name];
    return value === undefined || value === '' ? ((def as string | undefined) ?? '') : value;
  });
}

/**
 * Parses YAML text into a plain mapping. Throws ConfigError for bad YAML (each error with the file, line and
 * column, as Loki names them: `loki.yaml: yaml: line 4, column 1: ...`) or a document that is not a mapping.
 */
export function parseYamlMapping(text: string, source = 'config'): Record<string, unknown> {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        // The parser's message ends with its own position and a copy of the line: the position is put first.
        const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        const at = e.linePos?.[0];
        return `${source}: yaml: ${at ? `line ${at.line}, column ${at.col}: ` : ''}${message}`;
      }),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(['yaml: the config must be a mapping of keys']);
  return raw as Record<string, unknown>;
}

/**
 * Validates `tree` with `schema`; throws ConfigError listing every problem with its key path. An unknown key
 * is reported as `key: unknown key (<unknownKeyNote>)`. `foundBefore`: problems the caller found in the tree
 * before, reported first in the same error when the schema finds problems too (otherwise the caller's to throw).
 */
export function validateConfig<S extends z.ZodType>(schema: S, tree: unknown, unknownKeyNote: string, foundBefore: readonly string[] = []): z.output<S> {
  const result = schema.safeParse(tree);
  if (!result.success) throw new ConfigError([...foundBefore, ...result.error.issues.map((issue) => describeIssue(issue, unknownKeyNote))]);
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue, unknownKeyNote: string): string {
  const where = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${where ? where + '.' : ''}${k}: unknown key (${unknownKeyNote})`).join('\n  ');
  }
  return `${where || '(root)'}: ${issue.message}`;
}

/**
 * Removes the keys (dotted paths; a path through a list applies to every item) that a program knows but does
 * not act on yet, and returns one warning per key found, so such a config still loads.
 */
export function removeKnownUnimplemented(tree: Record<string, unknown>, keys: readonly string[], program: string): string[] {
  const warnings: string[] = [];
  for (const key of keys) {
    if (deleteAt(tree, key.split('.'))) warnings.push(`config key ${key} is accepted but not implemented by ${program} yet; it has no effect`);
  }
  return warnings;
}

/** Deletes the value at `keys`, descending into arrays (for keys under list items). Returns true if found. */
function deleteAt(node: unknown, keys: readonly string[]): boolean {
  if (Array.isArray(node)) return node.map((item) => deleteAt(item, keys)).some(Boolean);
  if (typeof node !== 'object' || node === null) return false;
  const obj = node as Record<string, unknown>;
  const [head, ...rest] = keys as [string, ...string[]];
  if (!(head in obj)) return false;
  if (rest.length === 0) {
    delete obj[head];
    return true;
  }
  return deleteAt(obj[head], rest);
}

export function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
