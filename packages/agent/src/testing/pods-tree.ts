import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/* A temporary `/var/log/pods`-shaped folder with helpers that write logs as the container runtimes do. */

export interface PodsTree {
  readonly root: string;
  readonly podsDir: string;
  /** `<podsDir>/<ns>_<pod>_<uid>/<container>/`, created. */
  containerDir(ns: string, pod: string, uid: string, container: string): string;
  remove(): void;
}

export function podsTree(): PodsTree {
  const root = mkdtempSync(path.join(tmpdir(), 'agent-pods-'));
  const podsDir = path.join(root, 'pods');
  mkdirSync(podsDir);
  return {
    root,
    podsDir,
    containerDir(ns, pod, uid, container) {
      const dir = path.join(podsDir, `${ns}_${pod}_${uid}`, container);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A CRI line as containerd writes it. */
export function criLine(ts: Date | string, stream: 'stdout' | 'stderr', tag: 'P' | 'F', content: string): string {
  const t = typeof ts === 'string' ? ts : ts.toISOString().replace('Z', '000000Z');
  return `${t} ${stream} ${tag} ${content}\n`;
}

/** A docker json-file line. */
export function dockerLine(ts: Date, stream: 'stdout' | 'stderr', log: string): string {
  return `${JSON.stringify({ log, stream, time: ts.toISOString().replace('Z', '123456Z') })}\n`;
}

export function append(file: string, text: string): void {
  appendFileSync(file, text);
}

/**
 * Polls `check` until it returns true or `ms` pass; returns its last answer. Every caller waits for
 * something that must happen, so the bound only decides how long a real failure takes to show: 30 s, since
 * at a load of 9 on two cores an agent start alone took 3 - 6 s and one wait of 15 s ran out.
 */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 30_000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
