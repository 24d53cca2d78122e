/**
 * `--name value` / `--name=value` flags for the bench tools; a flag followed by another flag (or by
 * nothing) is a switch and reads as "true".
 */
export function parseArgs<K extends string>(argv: readonly string[], defaults: Readonly<Record<K, string>>): Record<K, string> {
  const out: Record<string, string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') continue; // `pnpm bench:x -- --flag` passes the separator through
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (!Object.hasOwn(defaults, name)) throw new Error(`unknown flag --${name}; flags: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    if (eq >= 0) out[name] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out[name] = argv[++i]!;
    else out[name] = 'true';
  }
  return out as Record<K, string>;
}
