import { readFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { parseYamlMapping, type Logger } from '@loki-lite/shared';
import { stringify } from 'yaml';

/*
 * The positions file: per tailed file, the offset up to which every line has been acknowledged by every
 * client. It keeps Promtail's layout (`positions: {path: "offset"}`), so a Promtail positions file is read
 * on migration, and adds each file's identity under `files:`, because a path is not a file: after a
 * rotation the same path names a new file, and the old one may live on under another name.
 * Written atomically: a temporary file, fsync, rename, fsync of the folder.
 */

export interface SavedPosition {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly fingerprint: string;
  /** The smallest over the clients (what Promtail's `positions:` map gets). */
  readonly offset: number;
  /** Per client (by their order in the config), when they differ: a client behind the others resumes alone. */
  readonly clients?: readonly number[];
}

interface PositionsDoc {
  positions?: Record<string, string>;
  files?: Array<Partial<SavedPosition>>;
  /** When the last complete scan for files began (ms since the epoch): every file older was seen. */
  scanned_at?: number;
}

export interface SavedPositions {
  readonly files: SavedPosition[];
  /** Offsets by path that only Promtail recorded (no identity). */
  readonly promtailOnly: Map<string, number>;
  readonly scannedAtMs?: number;
}

export class PositionsFile {
  constructor(
    readonly filename: string,
    private readonly log: Logger,
    private readonly ignoreInvalid: boolean,
  ) {}

  /** Reads the saved positions. A missing file is an empty one. */
  read(): SavedPositions {
    let text: string;
    try {
      text = readFileSync(this.filename, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], promtailOnly: new Map() };
      throw e;
    }
    let doc: PositionsDoc;
    try {
      doc = parseYamlMapping(text) as PositionsDoc;
    } catch (e) {
      if (!this.ignoreInvalid)
        throw new Error(`positions file ${this.filename} is not valid YAML (set positions.ignore_invalid_yaml to start over): ${(e as Error).message}`);
      this.log.warn(`positions file ${this.filename} is not valid YAML; starting over`);
      return { files: [], promtailOnly: new Map() };
    }
    const files: SavedPosition[] = [];
    for (const f of doc.files ?? []) {
      if (
        typeof f?.path === 'string' &&
        Number.isSafeInteger(f.dev) &&
        Number.isSafeInteger(f.ino) &&
        Number.isSafeInteger(f.offset) &&
        typeof f.fingerprint === 'string'
      ) {
        const clients = Array.isArray(f.clients) && f.clients.every((o) => Number.isSafeInteger(o) && o >= f.offset!) ? f.clients : undefined;
        files.push({ path: f.path, dev: f.dev!, ino: f.ino!, fingerprint: f.fingerprint, offset: f.offset!, ...(clients ? { clients } : {}) });
      }
    }
    // Paths only Promtail recorded (no identity): offsets to trust when the file is still at least that long.
    const known = new Set(files.map((f) => f.path));
    const promtailOnly = new Map<string, number>();
    for (const [p, offset] of Object.entries(doc.positions ?? {})) {
      const n = Number(offset);
      if (!known.has(p) && Number.isSafeInteger(n) && n >= 0) promtailOnly.set(p, n);
    }
    const scannedAtMs = Number.isFinite(doc.scanned_at) ? doc.scanned_at : undefined;
    return { files, promtailOnly, scannedAtMs };
  }

  /** Replaces the file's content with `files`, atomically and durably. */
  async write(files: readonly SavedPosition[], scannedAtMs: number): Promise<void> {
    const doc: PositionsDoc = {
      positions: Object.fromEntries(files.map((f) => [f.path, String(f.offset)])),
      files: files.map((f) => ({
        path: f.path,
        dev: f.dev,
        ino: f.ino,
        fingerprint: f.fingerprint,
        offset: f.offset,
        ...(f.clients ? { clients: f.clients } : {}),
      })),
      scanned_at: scannedAtMs,
    };
    const dir = path.dirname(this.filename);
    await mkdir(dir, { recursive: true });
    const tmp = `${this.filename}.tmp`;
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(stringify(doc, { lineWidth: 0 }));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.filename);
    const folder = await open(dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }
}
