/* What a program's command line needs besides its flags: the -version text, an exit once a message is out,
 * and the error for a start the operator must act on. */

/**
 * What -version prints, in Loki's and Promtail's layout (Prometheus' version.Print), with Node where Go
 * would be. The build carries no branch, revision, user or date yet: they say `unknown`.
 */
export function versionText(program: string, version: string): string {
  return (
    [
      `${program}, version ${version} (branch: unknown, revision: unknown)`,
      '  build user:       unknown',
      '  build date:       unknown',
      `  node version:     ${process.version}`,
      `  platform:         ${process.platform}/${process.arch}`,
    ].join('\n') + '\n'
  );
}

/** Writes `text` to `stream`, then ends the process with `code` once the text is out. */
export function exitWith(code: number, stream: NodeJS.WriteStream, text: string): void {
  stream.write(text, () => process.exit(code));
}

/**
 * A reason the program cannot start that the operator must act on (a folder another process holds): main
 * prints its message alone, without a stack trace, and exits 1.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
