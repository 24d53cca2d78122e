/** `--name value` / `--name=value` flags for the bench tools. */
export function parseArgs(argv: readonly string[], defaults: Record<string, string>): Record<string, string> {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') continue; // `pnpm bench:x -- --flag` passes the separator through
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (!(name in defaults)) throw new Error(`unknown flag --${name}; flags: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    out[name] = eq < 0 ? (argv[++i] ?? '') : a.slice(eq + 1);
  }
  return out;
}
