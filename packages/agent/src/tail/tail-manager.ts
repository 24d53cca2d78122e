import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@loki-lite/shared';
import { watch, type FSWatcher } from 'chokidar';
import fg from 'fast-glob';
import type { LokiClient } from '../client/client.js';
import type { DecoderLimits } from '../decode/container-log.js';
import type { Target } from '../discovery/target.js';
import type { AgentMetrics } from '../metrics.js';
import type { PositionsFile, SavedPosition } from '../positions/positions.js';
import { FileOutput } from './file-output.js';
import { type FileIdentity, type FileProgress, identityKey, sameContentStart } from './progress.js';
import { ReadBuffer, readIdentity, readIdentityAt, TailedFile } from './tailed-file.js';

/*
 * Finds the files of the current targets (their `__path__` globs, expanded again on file-system events and
 * every rescan period), reads them in turn, and keeps the positions file up to date with what every client
 * has acknowledged.
 *
 * Rotation: the path is checked against the open descriptor's inode. When it names another file (kubelet
 * renamed the old one and created a new one) or nothing (deleted), the old file is read to its end first and
 * the new one is opened only then. A file smaller than the offset read was truncated in place
 * (copytruncate): it is read again from the start. Deleted files still unread are bounded by
 * `max_unread_deleted_bytes`; open files by `max_open_files`.
 */

const POLL_MS = 250;
const CLOCK_MARGIN_MS = 2000;
/**
 * A finished file stays in the positions this long after its last line was acknowledged, so that a restart
 * within the rotated-file cutoff (see scanRotated) knows it was read and does not read it again.
 */
const FINISHED_KEPT_MS = 60_000;

export interface TailOptions {
  readonly maxOpenFiles: number;
  readonly maxUnreadDeletedBytes: number;
  readonly rescanMs: number;
  readonly positionsSyncMs: number;
  readonly decoder: DecoderLimits;
}

export interface TailDeps {
  readonly clients: readonly LokiClient[];
  readonly positions: PositionsFile;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  readonly options: TailOptions;
}

export class TailManager {
  private targets: readonly Target[] = [];
  private targetsSet = false;
  /** The file each path currently names, as we follow it. */
  private readonly byPath = new Map<string, TailedFile>();
  /** Every open file, including detached ones being read to their end. */
  private readonly open = new Set<TailedFile>();
  /** Paths found while max_open_files were open, oldest first. */
  private readonly waiting: Array<{ path: string; target: Target }> = [];
  private readonly outputs = new WeakMap<TailedFile, FileOutput>();
  /** Progress of files (or generations of a truncated file) no longer read whose last entries are unacknowledged. */
  private readonly closing = new Set<FileProgress>();
  /** Files not opened this run, with where to resume them: the previous run's positions, and files found but not opened yet. */
  private saved = new Map<string, SavedPosition>();
  private promtailOnly = new Map<string, number>();
  /**
   * For saved entries of unopened files: the ctime at which the file was last found to be the entry's. While
   * its ctime is that, it is the same file with the same first bytes (as for readToEnd).
   */
  private readonly unopenedCheckedAt = new WeakMap<SavedPosition, number>();
  private recovered = false;
  /**
   * Files read to their end this run, by device and inode, so a rotated file is never read twice. The
   * fingerprint tells such a file from a new one given its inode after it was deleted (filesystems hand
   * freed inodes out again at once); while its ctime is the one last checked, it is the same file.
   */
  private readonly readToEnd = new Map<string, { fingerprint: string; ctimeMs?: number }>();
  /** Rotated files never opened and written after this are read (see scanRotated). */
  private rotatedCutoffMs = Date.now();
  /** When the last complete scan began: files older than that were all seen (saved in the positions). */
  private scannedAtMs = Date.now();
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private rescanDue = true;
  private lastRescan = 0;
  private watcher: FSWatcher | undefined;
  private watchedDirs = new Set<string>();
  private positionsWriting: Promise<void> | undefined;
  /** The write queued behind the one in progress (all callers in the meantime share it). */
  private positionsNext: Promise<void> | undefined;
  private positionsTimer: NodeJS.Timeout | undefined;
  /** Files are read one at a time, so one buffer serves them all (see ReadBuffer). */
  private readonly readBuffer = new ReadBuffer();

  constructor(private readonly deps: TailDeps) {}

  /** Reads the positions file and starts tailing. */
  start(): void {
    const { files, promtailOnly, scannedAtMs } = this.deps.positions.read();
    // Files rotated after the previous run's last scan may hold lines it never saw.
    // The margin covers file times, which the kernel takes from a coarser clock than Date.now().
    if (scannedAtMs !== undefined) this.rotatedCutoffMs = scannedAtMs - CLOCK_MARGIN_MS;
    this.scannedAtMs = this.rotatedCutoffMs;
    this.saved = new Map(files.map((f) => [identityKey(f), f]));
    this.promtailOnly = promtailOnly;
    this.running = true;
    this.watcher = watch([], { ignoreInitial: true, depth: 2 });
    this.watcher.on('all', () => this.requestRescan());
    this.watcher.on('error', (e) => this.deps.log.warn(`file watcher: ${(e as Error).message}`));
    this.positionsTimer = setInterval(() => void this.savePositions(), this.deps.options.positionsSyncMs);
    this.positionsTimer.unref();
    // Without a scan time in the positions file, the next run would take itself for the first and skip
    // every rotated file older than its own start, also the ones this run began to read. So a run that
    // found none records its start before it reads anything, in case it dies before its first save.
    const recorded = scannedAtMs === undefined ? this.savePositions() : Promise.resolve();
    this.loop = recorded.then(() => this.run());
  }

  setTargets(targets: readonly Target[]): void {
    this.targets = targets;
    this.targetsSet = true;
    this.requestRescan();
  }

  /**
   * Called by a client when a batch was acknowledged or dropped; resolves once the positions file says so.
   * The client sends its next batch only then, so a crash re-sends at most the batch in flight.
   */
  onSettled(): Promise<void> {
    this.wake();
    return this.savePositions();
  }

  /** Stops reading, waits for the clients to acknowledge what was read (up to `timeoutMs`), saves positions. */
  async stop(timeoutMs: number): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await this.watcher?.close();
    if (this.positionsTimer) clearInterval(this.positionsTimer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.deps.clients.map((c) => c.drain())), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    for (const c of this.deps.clients) c.stop();
    await this.savePositions();
    for (const f of this.open) await f.close();
  }

  private requestRescan(): void {
    this.rescanDue = true;
    this.wake();
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.rescanDue || Date.now() - this.lastRescan >= this.deps.options.rescanMs) await this.rescan();
        // While every client's queue is full nothing is read, but files are still watched (rotation, deletion).
        const read = this.deps.clients.every((c) => c.budget.full) ? false : await this.readRound();
        if (!read && this.running) {
          await this.poll();
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, POLL_MS);
            this.wakeUp = () => {
              clearTimeout(t);
              resolve();
            };
          });
        }
      } catch (e) {
        this.deps.log.error(`tailer: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
  }

  /**
   * One chunk from every file with data, for every client whose queue has room; false when none had any.
   * A client behind the others reads again what they already read; only bytes no client had read before
   * count as read.
   */
  private async readRound(): Promise<boolean> {
    let any = false;
    const { clients, metrics } = this.deps;
    for (const f of [...this.open]) {
      for (let c = 0; c < clients.length; c++) {
        if (!this.running) return any;
        if (clients[c]!.budget.full) continue;
        const before = f.maxOffset;
        const leading = f.readers[c]!.offset >= before;
        const { consumed, lines } = await f.readChunk(c, f.detached);
        if (consumed === 0) continue;
        any = true;
        const fresh = f.maxOffset - before;
        if (fresh > 0) metrics.readBytes.inc({ path: f.path }, fresh);
        if (leading) metrics.readLines.inc({ path: f.path }, lines);
        clients[c]!.budget.settle();
      }
    }
    return any;
  }

  /** Looks at every open file: size, truncation, rotation, expired partial lines. */
  private async poll(): Promise<void> {
    for (const f of [...this.open]) {
      f.flushExpiredPartials();
      const st = await f.handle.stat().catch(() => undefined);
      if (st === undefined) continue;
      const grew = st.size !== f.size || st.mtimeMs !== f.mtimeMs;
      f.size = st.size;
      f.mtimeMs = st.mtimeMs;
      f.links = st.nlink;
      if (!f.detached && (st.size < f.maxOffset || (grew && f.maxOffset > 0 && (await f.rewritten(st.size))))) {
        this.deps.log.info(`${f.path}: truncated (copytruncate); reading it again from the start`);
        this.retire(f.progress);
        f.restartAfterTruncation();
        continue;
      }
      if (!f.detached && !(await this.pathStillNames(f))) {
        f.detached = true;
        this.requestRescan();
      }
      if (f.detached && f.minOffset >= st.size) await this.finishFile(f);
    }
    this.enforceDeletedBudget();
    await this.openWaiting();
    this.deps.metrics.filesActive.set(this.open.size);
    this.deps.metrics.filesWaiting.set(this.waiting.length);
  }

  private async pathStillNames(f: TailedFile): Promise<boolean> {
    try {
      const st = await stat(f.path);
      return st.ino === f.identity.ino && st.dev === f.identity.dev;
    } catch {
      return false;
    }
  }

  private async finishFile(f: TailedFile): Promise<void> {
    f.finish();
    this.readToEnd.set(identityKey(f.identity), { fingerprint: f.identity.fingerprint });
    this.open.delete(f);
    if (this.byPath.get(f.path) === f) this.byPath.delete(f.path);
    this.retire(f.progress);
    await f.close();
    this.requestRescan();
  }

  /** Keeps a finished generation's progress in the positions until a while after its last entries are acknowledged. */
  private retire(progress: FileProgress): void {
    this.closing.add(progress);
  }

  /**
   * Gives up the unread bytes of deleted files, oldest first, while they are over the bound: their disk space
   * is held by our open descriptors. A rotated file that still exists under another name is not counted: it
   * costs the node nothing extra, and its lines can still be read.
   */
  private enforceDeletedBudget(): void {
    const deleted = [...this.open].filter((f) => f.detached && f.links === 0).sort((a, b) => a.openedAt - b.openedAt);
    let unread = deleted.reduce((n, f) => n + Math.max(0, f.size - f.minOffset), 0);
    for (const f of deleted) {
      if (unread <= this.deps.options.maxUnreadDeletedBytes) break;
      const lost = Math.max(0, f.size - f.minOffset);
      this.deps.log.warn(`${f.path}: giving up ${lost} unread bytes of a deleted file (over agent.max_unread_deleted_bytes)`);
      this.deps.metrics.unreadDroppedBytes.inc(lost);
      unread -= lost;
      f.skipToEnd();
      void this.finishFile(f);
    }
  }

  private async rescan(): Promise<void> {
    this.rescanDue = false;
    this.lastRescan = Date.now();
    const wanted = new Map<string, Target>();
    for (const t of this.targets) {
      this.watchBase(t.pathGlob);
      const paths = await fg(t.pathGlob, { onlyFiles: true, absolute: true, suppressErrors: true, followSymbolicLinks: true });
      for (const p of paths) if (!wanted.has(p)) wanted.set(p, t);
    }
    const waiting = this.waitingPaths();
    for (const [p, t] of wanted) {
      const current = this.byPath.get(p);
      if (current && !current.detached) continue;
      if (current?.detached) continue; // the old file at this path is read to its end first
      if (waiting.has(p)) continue;
      this.waiting.push({ path: p, target: t });
    }
    // Files whose target is gone (pod deleted past its retention) are read to their end and closed.
    for (const [p, f] of this.byPath) if (!wanted.has(p)) f.detached = true;
    await this.openWaiting();
    const stillWaiting = this.waitingPaths();
    await this.noteUnopened([...wanted.keys()].filter((p) => this.byPath.get(p)?.detached || stillWaiting.has(p)));
    if (this.targetsSet) {
      await this.scanRotated(wanted);
      this.scannedAtMs = this.lastRescan;
    }
  }

  /**
   * Files found but not opened (over max_open_files, or behind the old file at their path) go into the
   * positions at offset 0, as files found in a complete scan must: a restart reads rotated files only if
   * they are saved or newer than that scan, and one of these may be rotated, after a restart or before it
   * is opened, when it was last written long ago.
   */
  private async noteUnopened(paths: readonly string[]): Promise<void> {
    for (const p of paths) {
      const st = await stat(p).catch(() => undefined);
      if (st === undefined) continue;
      const saved = this.saved.get(identityKey(st));
      // Unchanged since its entry was found to be this file: reading its head again would tell the same.
      if (saved !== undefined && this.unopenedCheckedAt.get(saved) === st.ctimeMs) continue;
      const now = await readIdentityAt(p);
      if (now === undefined) continue;
      const { stat: opened, fingerprint } = now;
      const key = identityKey(opened);
      let entry = this.saved.get(key);
      if (entry === undefined || !sameContentStart(entry.fingerprint, fingerprint)) {
        entry = { path: p, dev: opened.dev, ino: opened.ino, fingerprint, offset: 0 };
        this.saved.set(key, entry);
      }
      this.unopenedCheckedAt.set(entry, opened.ctimeMs);
    }
  }

  private waitingPaths(): Set<string> {
    return new Set(this.waiting.map((w) => w.path));
  }

  private async openWaiting(): Promise<void> {
    while (this.waiting.length > 0 && this.open.size < this.deps.options.maxOpenFiles) {
      const { path: p, target } = this.waiting.shift()!;
      await this.openFile(p, target).catch((e: Error) => this.deps.log.warn(`${p}: cannot open: ${e.message}`));
    }
  }

  private async openFile(p: string, target: Target, savedOffset?: number | readonly number[], detached = false): Promise<void> {
    const handle = await open(p, 'r');
    const { stat: st, fingerprint } = await readIdentity(handle).catch(async (e: Error) => {
      await handle.close();
      throw e;
    });
    const identity: FileIdentity = { dev: st.dev, ino: st.ino, fingerprint };
    if ([...this.open].some((f) => identityKey(f.identity) === identityKey(identity))) {
      await handle.close();
      return;
    }
    const offset = savedOffset ?? this.startOffset(p, identity, st.size);
    const file = new TailedFile(
      p,
      handle,
      identity,
      offset,
      this.deps.clients.length,
      this.deps.options.decoder,
      (f, client, e) => this.outputs.get(f)!.emit(client, e),
      target.pipeline.containerFormat ? undefined : 'raw',
      this.readBuffer,
    );
    file.size = st.size;
    file.detached = detached;
    this.outputs.set(
      file,
      new FileOutput(
        target,
        p,
        this.deps.clients,
        () => file.progress,
        () => file.format,
      ),
    );
    this.open.add(file);
    if (!detached) this.byPath.set(p, file);
    this.wake();
  }

  /** Where to start a newly opened file: its saved position (per client, if saved so) if it is the same file, else the beginning. */
  private startOffset(p: string, id: FileIdentity, size: number): number | readonly number[] {
    const saved = this.saved.get(identityKey(id));
    if (saved && sameContentStart(saved.fingerprint, id.fingerprint)) {
      this.saved.delete(identityKey(id));
      // Saved beyond its end: it was truncated since, and is read again from the start.
      if (Math.max(saved.offset, ...(saved.clients ?? [])) > size) return 0;
      return resumeOffsets(saved);
    }
    const promtail = this.promtailOnly.get(p);
    if (promtail !== undefined) {
      this.promtailOnly.delete(p);
      if (promtail <= size) return promtail;
    }
    return 0;
  }

  /**
   * Rotated files (`0.log.<suffix>` for a tailed `0.log`: kubelet's naming, so the target's glob with `.*`
   * appended) that may hold unread lines: a saved file that was rotated while the agent was down is read
   * from its saved offset, and a file this agent never opened that was written since `rotatedCutoffMs` (it
   * was created and rotated between two scans, or while the agent was down) is read from its start. They
   * are found by the glob, not beside a live file, because the live file may not exist: a container that
   * stopped right after a rotation leaves only rotated files. Compressed (`.gz`) files are left alone.
   * On the first scan, saved files found nowhere are forgotten.
   */
  private async scanRotated(wanted: ReadonlyMap<string, Target>): Promise<void> {
    const firstScan = !this.recovered;
    this.recovered = true;
    const stillThere = new Set<string>();
    for (const [candidate, target] of await this.rotatedCandidates(wanted)) {
      const st = await stat(candidate).catch(() => undefined);
      if (!st?.isFile()) continue;
      const key = identityKey(st);
      stillThere.add(key);
      const head = lazyFingerprint(candidate);
      if ([...this.open].some((f) => identityKey(f.identity) === key) || (await this.wasReadToEnd(st, head))) continue;
      const saved = await this.savedPositionOf(candidate, st, head);
      if (saved) {
        // Read to its end already: the saved entry stays (it is written out again) until the file is gone.
        if (st.size <= saved.offset) {
          this.readToEnd.set(key, { fingerprint: saved.fingerprint, ctimeMs: st.ctimeMs });
          continue;
        }
        this.saved.delete(key);
        this.deps.log.info(`${saved.path}: rotated to ${candidate} before it was read to its end; reading its last ${st.size - saved.offset} bytes`);
        await this.openFile(candidate, target, resumeOffsets(saved), true);
      } else if (st.mtimeMs >= this.rotatedCutoffMs && st.size > 0) {
        this.deps.log.info(`${candidate}: rotated before it was read; reading it`);
        await this.openFile(candidate, target, 0, true);
      }
    }
    if (firstScan) {
      for (const [key, saved] of this.saved) {
        if (stillThere.has(key)) continue;
        const st = await stat(saved.path).catch(() => undefined);
        if (!st || identityKey(st) !== key) this.saved.delete(key);
      }
    }
  }

  /** Whether the file of `st` is one this run read to its end (and not a new file given the same inode). */
  private async wasReadToEnd(st: Stats, head: LazyFingerprint): Promise<boolean> {
    const key = identityKey(st);
    const done = this.readToEnd.get(key);
    if (done === undefined) return false;
    if (done.ctimeMs === st.ctimeMs) return true;
    const same = await hasFingerprint(head, done.fingerprint);
    if (same === false) {
      this.readToEnd.delete(key);
      return false;
    }
    // Unreadable (deleted since the stat, or out of descriptors): asked again at the next scan.
    if (same) done.ctimeMs = st.ctimeMs;
    return true;
  }

  /**
   * The saved position of the file at `p`, if the positions file has one for it. An entry with its device and
   * inode whose fingerprint differs was a file deleted since: it is forgotten, and the file is a new one.
   */
  private async savedPositionOf(p: string, st: Stats, head: LazyFingerprint): Promise<SavedPosition | undefined> {
    const key = identityKey(st);
    const saved = this.saved.get(key);
    if (saved === undefined || (await hasFingerprint(head, saved.fingerprint)) !== false) return saved;
    this.deps.log.info(`${p}: has the inode of ${saved.path} as saved, but not its first bytes: a new file, not resumed at ${saved.offset}`);
    this.saved.delete(key);
    return undefined;
  }

  /** Paths that look like rotated generations of a target's files, with their target; live files excluded. */
  private async rotatedCandidates(wanted: ReadonlyMap<string, Target>): Promise<Map<string, Target>> {
    const found = new Map<string, Target>();
    for (const t of this.targets) {
      const paths = await fg(`${t.pathGlob}.*`, { onlyFiles: true, absolute: true, suppressErrors: true, followSymbolicLinks: true });
      for (const p of paths) if (!p.endsWith('.gz') && !wanted.has(p) && !found.has(p)) found.set(p, t);
    }
    return found;
  }

  private watchBase(glob: string): void {
    const base = fg.isDynamicPattern(glob) ? glob.slice(0, glob.search(/[*?[{]/)).replace(/[^/]*$/, '') : path.dirname(glob);
    const dir = base.replace(/\/$/, '') || '/';
    if (this.watchedDirs.has(dir)) return;
    this.watchedDirs.add(dir);
    this.watcher?.add(dir);
  }

  /**
   * Writes the positions file now, or right after the write in progress; resolves once a write that
   * includes the current state is on disk.
   */
  private savePositions(): Promise<void> {
    if (this.positionsWriting) {
      this.positionsNext ??= this.positionsWriting.then(() => {
        this.positionsNext = undefined;
        return this.savePositions();
      });
      return this.positionsNext;
    }
    const entries = this.positionEntries();
    const writing = this.deps.positions
      .write(entries, this.scannedAtMs)
      .catch((e: Error) => this.deps.log.error(`positions: ${e.message}`))
      .finally(() => {
        if (this.positionsWriting === writing) this.positionsWriting = undefined;
      });
    this.positionsWriting = writing;
    return writing;
  }

  private positionEntries(): SavedPosition[] {
    const out = new Map<string, SavedPosition>();
    let lag = 0;
    const now = Date.now();
    for (const p of [...this.closing]) {
      if (p.done()) {
        p.doneAtMs ??= now;
        if (now - p.doneAtMs > FINISHED_KEPT_MS) {
          this.closing.delete(p);
          continue;
        }
      }
      out.set(p.key, savedPosition(p.path, p));
    }
    for (const f of this.open) {
      const saved = savedPosition(f.path, f.progress);
      lag += f.maxOffset - saved.offset;
      out.set(f.progress.key, saved);
    }
    // Files not seen yet this run keep their saved position (their target may come back).
    for (const s of this.saved.values()) if (!out.has(identityKey(s))) out.set(identityKey(s), s);
    this.deps.metrics.positionsLagBytes.set(Math.max(0, lag));
    return [...out.values()];
  }
}

/** A file's fingerprint, read when first asked for and then kept; undefined when the file cannot be opened. */
type LazyFingerprint = () => Promise<string | undefined>;

function lazyFingerprint(p: string): LazyFingerprint {
  let read: Promise<string | undefined> | undefined;
  return () => (read ??= readIdentityAt(p).then((now) => now?.fingerprint));
}

/** Whether the file of `head` starts with the bytes `fingerprint` was taken of; undefined when it cannot be opened. */
async function hasFingerprint(head: LazyFingerprint, fingerprint: string): Promise<boolean | undefined> {
  const current = await head();
  return current === undefined ? undefined : sameContentStart(current, fingerprint);
}

/** Where a saved file resumes: per client when the positions file has that, else at its one offset. */
function resumeOffsets(saved: SavedPosition): number | readonly number[] {
  return saved.clients ?? saved.offset;
}

/** A file's entry in the positions file: the smallest resume offset, and each client's when they differ. */
function savedPosition(path: string, p: FileProgress): SavedPosition {
  const clients = p.clientPositions();
  const offset = Math.min(...clients);
  const { dev, ino, fingerprint } = p.identity;
  return clients.some((o) => o !== offset) ? { path, dev, ino, fingerprint, offset, clients } : { path, dev, ino, fingerprint, offset };
}
