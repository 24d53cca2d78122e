/**
 * `--name value` / `--name=value` flags for the bench tools. `--json` is a switch: it reads as "true" alone
 * or with any value but "false" (`--json=false`), so a tool tests `args.json === 'true'`. A value may start
 * with `--` (`--agent-args --max-semi-space-size=2`).
 */
const SWITCHES = new Set(['json']);

export function parseArgs<K extends string>(argv: readonly string[], defaults: Readonly<Record<K, string>>): Record<K, string> {
  const out: Record<string, string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') continue; // `pnpm bench:x -- --flag` passes the separator through
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (!Object.hasOwn(defaults, name))
      throw new Error(
        `unknown flag --${name}; flags: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(' ')}`,
      );
    if (SWITCHES.has(name)) out[name] = eq >= 0 && a.slice(eq + 1) === 'false' ? 'false' : 'true';
    else if (eq >= 0) out[name] = a.slice(eq + 1);
    else out[name] = argv[++i] ?? '';
  }
  return out as Record<K, string>;
}
