import { type Logger, LokiError } from '@loki-lite/shared';
import type { IngesterConfig } from '../config/schema.js';
import type { Metrics } from '../metrics.js';
import { ByteWriter } from '../util/binary.js';
import { type TenantStreams, writeCheckpoint } from './checkpoint.js';
import { EntrySet } from './entry-set.js';
import type { StoredPush } from './instance.js';
import type { WholePushBody } from './push-request.js';
import { storedStreamsOf } from './recovery.js';
import type { Stream } from './stream.js';
import { DirLock } from './wal/dir-lock.js';
import { DiskSpaceGuard, type FreeBytesOf } from './wal/disk-space.js';
import { encodePushRecord, encodeRecord, scanRecords, type WalRecord } from './wal/record.js';
import { type OpenWalFile, Wal } from './wal/wal.js';

export interface IngesterWalDeps {
  readonly config: IngesterConfig;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Tests only: how WAL files are opened and free disk space is read (a disk that fills up). */
  readonly walFiles?: { readonly open?: OpenWalFile; readonly freeBytes?: FreeBytesOf };
  /** The stream a tenant's entries were stored in, if it is still in memory (for taking entries back). */
  readonly streamOf: (tenant: string, labelsString: string) => Stream | undefined;
  /** The WAL disk is nearly full: a checkpoint lets the segments it covers go, often most of the disk. */
  readonly onDiskNearlyFull: () => void;
}

const SETTLED = Promise.resolve();
const noop = () => {};

/**
 * The ingester's side of the WAL: the folder held under its lock, the free-space guard that refuses pushes
 * before writes would fail, one record per push (acknowledged only once durable), the entries of a failed
 * write taken back out of memory, and checkpoints. The segment format itself is wal/'s.
 */
export class IngesterWal {
  private readonly writer = new ByteWriter(1 << 16);

  private constructor(
    private readonly wal: Wal,
    /** The WAL folder is this process's alone while it runs (see DirLock). */
    private readonly lock: DirLock,
    private readonly diskSpace: DiskSpaceGuard,
    private readonly deps: IngesterWalDeps,
  ) {}

  /** Locks the folder, replays it through `apply`, and starts watching the disk's free space. */
  static async open(deps: IngesterWalDeps, apply: (rec: WalRecord) => void): Promise<IngesterWal> {
    const {
      config: { wal: walConfig },
      metrics,
      log,
      walFiles,
    } = deps;
    const lock = await DirLock.acquire(walConfig.dir);
    // The write-failure and disk-space callbacks need the object, which needs the Wal and the guard.
    let self: IngesterWal | undefined;
    let wal: Wal | undefined;
    try {
      wal = await Wal.open(walConfig.dir, apply, {
        onFsync: (s) => metrics.walFsyncSeconds.observe(s),
        onCorruption: (file) => metrics.walCorruptions.inc({ type: file.startsWith('checkpoint') ? 'checkpoint' : 'segment' }),
        onWriteFailed: (records, e) => self!.writeFailed(records, e),
        log: (m) => log.info(m),
        openFile: walFiles?.open,
      });
      const diskSpace = new DiskSpaceGuard(
        walConfig.dir,
        walConfig.min_free_disk_space,
        1000,
        {
          onChange: (refusing, free) => self!.diskSpaceChanged(refusing, free),
        },
        walFiles?.freeBytes,
      );
      self = new IngesterWal(wal, lock, diskSpace, deps);
      await diskSpace.start();
      return self;
    } catch (e) {
      // Not opened: nothing will close it, so let the folder go now.
      self?.stopWatchingDisk();
      await wal?.close().catch(noop);
      await lock.release();
      throw e;
    }
  }

  /** The error a push is refused with while the disk is nearly full (counted), else undefined. */
  pushRefusal(): LokiError | undefined {
    const refusal = this.diskSpace.refusal;
    if (refusal) this.deps.metrics.walDiskFullFailures.inc();
    return refusal;
  }

  /**
   * Appends what the push stored to the WAL (the listed entries, or else the whole body) and resolves when
   * it is durable. A push that left entries out may have done so because they repeat entries of earlier
   * pushes still being written, so it also waits for those, and fails if any of them does.
   */
  logPush(tenant: string, stored: StoredPush, whole: WholePushBody | undefined): Promise<void> {
    const listed = stored.storedAny ? stored.listed : [];
    let written = SETTLED;
    if (!listed || listed.length > 0) {
      const record = listed
        ? encodeRecord(this.writer, { tenant, streams: listed })
        : encodePushRecord(this.writer, tenant, whole!.serviceNameFrom, whole!.snappyProtobuf);
      this.deps.metrics.walRecordsLogged.inc();
      this.deps.metrics.walLoggedBytes.inc(record.length);
      written = this.wal.append(record);
    }
    const durable = stored.storedAll ? written : Promise.all([written, this.wal.barrier()]);
    return durable.then(noop, (e: Error) => Promise.reject(walWriteError(e)));
  }

  /** Settles once every write begun so far has: what is in memory now is then durable, or taken back. */
  settled(): Promise<void> {
    return this.wal.barrier().catch(noop);
  }

  /** Writes a checkpoint (see writeCheckpoint), counted and timed under Loki's checkpoint metrics. */
  async checkpoint(instances: Iterable<TenantStreams>): Promise<void> {
    const { metrics, log } = this.deps;
    metrics.checkpointCreations.inc();
    const done = metrics.checkpointDuration.startTimer();
    try {
      metrics.checkpointLoggedBytes.inc(await writeCheckpoint(this.wal, instances, log));
    } catch (e) {
      metrics.checkpointCreationsFailed.inc();
      throw e;
    } finally {
      done();
    }
  }

  /** Stops watching the disk: called first on shutdown, so no checkpoint is started while it runs. */
  stopWatchingDisk(): void {
    this.diskSpace.stop();
  }

  async close(): Promise<void> {
    try {
      await this.wal.close();
    } finally {
      await this.lock.release();
    }
  }

  /**
   * A WAL write failed: its pushes are answered with an error, so their entries must not stay in memory
   * (queries would show them until a restart, and a later checkpoint or flush would keep them for good).
   * Each record lists exactly what its push stored, so those entries are taken back by content.
   */
  private writeFailed(records: readonly Buffer[], error: Error): void {
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      this.deps.metrics.walDiskFullFailures.inc();
      void this.diskSpace.check();
    }
    const failed = new Map<Stream, EntrySet>();
    const recs = scanRecords(Buffer.concat(records)).records;
    for (const rec of recs) {
      for (const s of storedStreamsOf(rec)) {
        const stream = this.deps.streamOf(rec.tenant, s.labelsString);
        if (!stream) continue;
        let set = failed.get(stream);
        if (!set) failed.set(stream, (set = new EntrySet()));
        set.addBatch(s.entries);
      }
    }
    let taken = 0;
    for (const [stream, set] of failed) taken += stream.takeBack(set);
    this.deps.log.error(`WAL write failed, ${recs.length} pushes answered with an error and their ${taken} entries taken back out of memory: ${error.message}`);
  }

  private diskSpaceChanged(refusing: boolean, freeBytes: number): void {
    const { dir, min_free_disk_space: min } = this.deps.config.wal;
    if (!refusing) {
      this.deps.log.warn(`WAL disk has room again (${freeBytes} bytes free in ${dir}); taking pushes again`);
      return;
    }
    this.deps.log.error(
      `WAL disk nearly full: ${freeBytes} bytes free in ${dir}, below ingester.wal.min_free_disk_space (${min}); refusing pushes until space is freed`,
    );
    this.deps.onDiskNearlyFull();
  }
}

function walWriteError(e: Error): LokiError {
  if (e instanceof LokiError) return e;
  return new LokiError('internal', 'wal_write_failed', `writing to the WAL failed, so the push was not stored: ${e.message}`);
}
