import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';

/**
 * The metrics of one loki-lite process, on a registry of its own (so tests can run several servers in one
 * process). Names follow Loki's where Loki has the same metric, so existing dashboards keep working.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly bytesReceived = new Counter({
    name: 'loki_distributor_bytes_received_total',
    help: 'The total number of uncompressed bytes received per tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  /** Loki's S3 client histogram, with its buckets (pkg/storage/chunk/client/aws). */
  readonly s3RequestDuration = new Histogram({
    name: 'loki_s3_request_duration_seconds',
    help: 'Time spent doing S3 requests.',
    labelNames: ['operation', 'status_code'],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
    registers: [this.registry],
  });
  readonly structuredMetadataBytesReceived = new Counter({
    name: 'loki_distributor_structured_metadata_bytes_received_total',
    help: "The total number of uncompressed bytes received per tenant for entries' structured metadata",
    labelNames: ['tenant', 'retention_hours'],
    registers: [this.registry],
  });
  readonly linesReceived = new Counter({
    name: 'loki_distributor_lines_received_total',
    help: 'The total number of lines received per tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  readonly discardedSamples = new Counter({
    name: 'loki_discarded_samples_total',
    help: 'The total number of samples that were discarded.',
    labelNames: ['reason', 'tenant'],
    registers: [this.registry],
  });
  readonly discardedBytes = new Counter({
    name: 'loki_discarded_bytes_total',
    help: 'The total number of bytes that were discarded.',
    labelNames: ['reason', 'tenant'],
    registers: [this.registry],
  });
  /** Only with operational_config.log_duplicate_metrics, as in Loki. */
  readonly duplicateLogBytes = new Counter({
    name: 'loki_ingester_duplicate_log_bytes_total',
    help: 'The total number of bytes that were discarded for duplicate log lines.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  readonly memoryStreams = new Gauge({
    name: 'loki_ingester_memory_streams',
    help: 'The total number of streams in memory per tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  readonly streamsCreated = new Counter({
    name: 'loki_ingester_streams_created_total',
    help: 'The total number of streams created per tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  readonly streamsRemoved = new Counter({
    name: 'loki_ingester_streams_removed_total',
    help: 'The total number of streams removed per tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  /** Flushed chunks as Loki's ingester describes them (pkg/ingester/metrics.go: the same names and meanings). */
  readonly chunkEntries = new Histogram({
    name: 'loki_ingester_chunk_entries',
    help: 'Distribution of stored lines per chunk (when chunk is flushed).',
    buckets: [200, 800, 3200, 12800, 51200, 204800, 819200, 3276800],
    registers: [this.registry],
  });
  readonly chunkSizeBytes = new Histogram({
    name: 'loki_ingester_chunk_size_bytes',
    help: 'Distribution of stored chunk sizes (when stored).',
    buckets: [20000, 60000, 180000, 540000, 1620000, 4860000, 14580000],
    registers: [this.registry],
  });
  readonly chunkCompressionRatio = new Histogram({
    name: 'loki_ingester_chunk_compression_ratio',
    help: 'Compression ratio of chunks (when stored).',
    buckets: [1.5, 3, 4.5, 6, 7.5, 9, 10.5, 12, 13.5, 15],
    registers: [this.registry],
  });
  readonly chunkAgeSeconds = new Histogram({
    name: 'loki_ingester_chunk_age_seconds',
    help: 'Distribution of chunk ages (when stored).',
    buckets: [60, 300, 600, 1800, 3600, 7200, 14400, 28800, 57600, 115200],
    registers: [this.registry],
  });
  readonly chunkStoredBytes = new Counter({
    name: 'loki_ingester_chunk_stored_bytes_total',
    help: 'Total bytes stored in chunks per tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });

  /** The figures of one flushed chunk; `ageSeconds`: from its first line's time to its flush. */
  observeFlushedChunk(
    tenant: string,
    ref: { readonly entries: number; readonly size: number; readonly from: bigint; readonly through: bigint },
    lineBytes: number,
    ageSeconds: number,
    targetSize: number,
  ): void {
    this.chunkStoredBytes.inc({ tenant }, ref.size);
    this.chunkUtilization.observe(targetSize > 0 ? ref.size / targetSize : 0);
    this.chunkBoundsHours.observe(Number(ref.through - ref.from) / 3.6e12);
    this.chunkEntries.observe(ref.entries);
    this.chunkSizeBytes.observe(ref.size);
    if (ref.size > 0) this.chunkCompressionRatio.observe(lineBytes / ref.size);
    this.chunkAgeSeconds.observe(Math.max(0, ageSeconds));
  }

  readonly chunkUtilization = new Histogram({
    name: 'loki_ingester_chunk_utilization',
    help: 'Distribution of stored chunk utilization (when stored).',
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers: [this.registry],
  });
  readonly chunkBoundsHours = new Histogram({
    name: 'loki_ingester_chunk_bounds_hours',
    help: 'Distribution of chunk end-start durations.',
    buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32],
    registers: [this.registry],
  });
  /** Set by the ingester: chunks waiting to be written to the store, counted when scraped. */
  flushQueueLength: () => number = () => 0;
  readonly flushQueue: Gauge = new Gauge({
    name: 'loki_ingester_flush_queue_length',
    help: 'The total number of series pending in the flush queue.',
    registers: [this.registry],
    collect: (): void => this.flushQueue.set(this.flushQueueLength()),
  });
  /** The same, under the name Loki's older dashboards read. */
  readonly cortexFlushQueue: Gauge = new Gauge({
    name: 'cortex_ingester_flush_queue_length',
    help: 'The total number of series pending in the flush queue.',
    registers: [this.registry],
    collect: (): void => this.cortexFlushQueue.set(this.flushQueueLength()),
  });
  /** Requests that failed on an unexpected error (a bug): Loki counts its recovered panics here. */
  readonly panics = new Counter({ name: 'loki_panic_total', help: 'The total number of panic triggered', registers: [this.registry] });

  /** Set by the ingester: counted when scraped, so nothing on the push path keeps count. */
  chunksInMemory: () => number = () => 0;
  readonly memoryChunks: Gauge = new Gauge({
    name: 'loki_ingester_memory_chunks',
    help: 'The total number of chunks in memory.',
    registers: [this.registry],
    collect: (): void => this.memoryChunks.set(this.chunksInMemory()),
  });
  readonly chunksFlushed = new Counter({
    name: 'loki_ingester_chunks_flushed_total',
    help: 'Total flushed chunks per reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly chunkFlushFailures = new Counter({
    name: 'loki_ingester_chunks_flush_failures_total',
    help: 'Total number of flush failures.',
    registers: [this.registry],
  });
  readonly indexFilesWritten = new Counter({
    name: 'loki_lite_index_files_written_total',
    help: 'Index files written to the object store.',
    registers: [this.registry],
  });
  readonly indexWriteFailures = new Counter({
    name: 'loki_lite_index_write_failures_total',
    help: 'Failed attempts to write an index file.',
    registers: [this.registry],
  });
  readonly foreignIndexFiles = new Counter({
    name: 'loki_lite_index_files_skipped_total',
    help: 'Objects in the index key space that are not loki-lite index files (skipped by queries).',
    registers: [this.registry],
  });
  /*
   * The runtime config reloader's (dskit runtimeconfig, which Loki 3 registers with the prefix loki_ and
   * the label config="loki").
   */
  readonly runtimeConfigReloadSuccessful = new Gauge({
    name: 'loki_runtime_config_last_reload_successful',
    help: 'Whether the last runtime-config reload attempt was successful.',
    labelNames: ['config'],
    registers: [this.registry],
  });
  readonly runtimeConfigHash = new Gauge({
    name: 'loki_runtime_config_hash',
    help: 'Hash of the currently active runtime configuration, merged from all configured files.',
    labelNames: ['config', 'sha256'],
    registers: [this.registry],
  });
  /*
   * The WAL's metrics under Loki's names (pkg/ingester/metrics.go, and the wal_fsync duration of the
   * Prometheus WAL Loki writes with): dashboards and alerts on WAL health read these.
   */
  readonly walFsyncSeconds = new Histogram({
    name: 'loki_ingester_wal_fsync_duration_seconds',
    help: 'Duration of WAL fsync.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly walCorruptions = new Counter({
    name: 'loki_ingester_wal_corruptions_total',
    help: 'Total number of WAL corruptions encountered.',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly walDiskFullFailures = new Counter({
    name: 'loki_ingester_wal_disk_full_failures_total',
    help: 'Total number of wal write failures due to full disk.',
    registers: [this.registry],
  });
  readonly walRecordsLogged = new Counter({
    name: 'loki_ingester_wal_records_logged_total',
    help: 'Total number of WAL records logged.',
    registers: [this.registry],
  });
  readonly walLoggedBytes = new Counter({
    name: 'loki_ingester_wal_logged_bytes_total',
    help: 'Total number of bytes written to disk for WAL records.',
    registers: [this.registry],
  });
  readonly walReplayDuration = new Gauge({
    name: 'loki_ingester_wal_replay_duration_seconds',
    help: 'Time taken to replay the checkpoint and the WAL.',
    registers: [this.registry],
  });
  readonly walRecoveredStreams = new Counter({
    name: 'loki_ingester_wal_recovered_streams_total',
    help: 'Total number of streams recovered from the WAL.',
    registers: [this.registry],
  });
  readonly walRecoveredEntries = new Counter({
    name: 'loki_ingester_wal_recovered_entries_total',
    help: 'Total number of entries recovered from the WAL.',
    registers: [this.registry],
  });
  readonly walRecoveredBytes = new Counter({
    name: 'loki_ingester_wal_recovered_bytes_total',
    help: 'Total number of bytes recovered from the WAL.',
    registers: [this.registry],
  });
  readonly checkpointCreations = new Counter({
    name: 'loki_ingester_checkpoint_creations_total',
    help: 'Total number of checkpoint creations attempted.',
    registers: [this.registry],
  });
  readonly checkpointCreationsFailed = new Counter({
    name: 'loki_ingester_checkpoint_creations_failed_total',
    help: 'Total number of checkpoint creations that failed.',
    registers: [this.registry],
  });
  readonly checkpointDuration = new Summary({
    name: 'loki_ingester_checkpoint_duration_seconds',
    help: 'Time taken to create a checkpoint.',
    percentiles: [0.5, 0.9, 0.99],
    registers: [this.registry],
  });
  readonly checkpointLoggedBytes = new Counter({
    name: 'loki_ingester_checkpoint_logged_bytes_total',
    help: 'Total number of bytes written to disk for checkpointing.',
    registers: [this.registry],
  });

  /** Loki's query-scheduler queue metrics (pkg/scheduler/queue/metrics.go), fed by frontend/admission.ts. */
  readonly queryQueueLength = new Gauge({
    name: 'cortex_query_scheduler_queue_length',
    help: 'Number of queries in the queue.',
    labelNames: ['user'],
    registers: [this.registry],
  });
  readonly queryDiscardedRequests = new Counter({
    name: 'cortex_query_scheduler_discarded_requests_total',
    help: 'Total number of query requests discarded.',
    labelNames: ['user'],
    registers: [this.registry],
  });

  /** Loki's delete API (pkg/compactor/deletion/metrics.go), fed by server/delete-routes.ts. */
  readonly deleteRequestsReceived = new Counter({
    name: 'loki_compactor_delete_requests_received_total',
    help: 'Number of delete requests received per user',
    labelNames: ['user'],
    registers: [this.registry],
  });

  /** Loki's DeleteRequestsManager (pkg/compactor/deletion/metrics.go), fed by compactor/deletes.ts. */
  readonly deleteRequestsProcessed = new Counter({
    name: 'loki_compactor_delete_requests_processed_total',
    help: 'Number of delete requests processed per user',
    labelNames: ['user'],
    registers: [this.registry],
  });
  readonly deletedLines = new Counter({
    name: 'loki_compactor_deleted_lines',
    help: 'Number of deleted lines per user',
    labelNames: ['user'],
    registers: [this.registry],
  });
  readonly loadPendingRequestsAttempts = new Counter({
    name: 'loki_compactor_load_pending_requests_attempts_total',
    help: 'Number of attempts that were made to load pending requests with status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly oldestPendingDeleteRequestAge = new Gauge({
    name: 'loki_compactor_oldest_pending_delete_request_age_seconds',
    help: 'Age of oldest pending delete request in seconds since they are over their cancellation period',
    registers: [this.registry],
  });
  readonly pendingDeleteRequests = new Gauge({
    name: 'loki_compactor_pending_delete_requests_count',
    help: 'Count of delete requests which are over their cancellation period and have not finished processing yet',
    registers: [this.registry],
  });

  /** Loki's compactor metrics (pkg/compactor/metrics.go), fed by compactor/compactor.ts. */
  readonly compactTablesOperations = new Counter({
    name: 'loki_boltdb_shipper_compact_tables_operation_total',
    help: 'Total number of tables compaction done by status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly compactTablesDuration = new Gauge({
    name: 'loki_boltdb_shipper_compact_tables_operation_duration_seconds',
    help: 'Time (in seconds) spent in compacting all the tables',
    registers: [this.registry],
  });
  readonly compactTablesLastSuccess = new Gauge({
    name: 'loki_boltdb_shipper_compact_tables_operation_last_successful_run_timestamp_seconds',
    help: 'Unix timestamp of the last successful compaction run',
    registers: [this.registry],
  });
  readonly applyRetentionOperations = new Counter({
    name: 'loki_compactor_apply_retention_operation_total',
    help: 'Total number of attempts done to apply retention with status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly applyRetentionDuration = new Gauge({
    name: 'loki_compactor_apply_retention_operation_duration_seconds',
    help: 'Time (in seconds) spent in applying retention',
    registers: [this.registry],
  });
  readonly applyRetentionLastSuccess = new Gauge({
    name: 'loki_compactor_apply_retention_last_successful_run_timestamp_seconds',
    help: 'Unix timestamp of the last successful retention run',
    registers: [this.registry],
  });
  readonly compactorRunning = new Gauge({
    name: 'loki_boltdb_shipper_compactor_running',
    help: 'Value will be 1 if compactor is currently running on this instance',
    registers: [this.registry],
  });
  /** Retention's marker and sweeper metrics (pkg/compactor/retention/metrics.go), without Loki's `from` label. */
  readonly retentionTablesProcessed = new Counter({
    name: 'loki_boltdb_shipper_retention_marker_table_processed_total',
    help: 'Total amount of table processed for each user per action. Empty string for user_id is for common index',
    labelNames: ['table', 'user_id', 'action'],
    registers: [this.registry],
  });
  readonly retentionMarksCreated = new Counter({
    name: 'loki_boltdb_shipper_retention_marker_count_total',
    help: 'Total count of markers created per table.',
    labelNames: ['table'],
    registers: [this.registry],
  });
  readonly retentionTableDuration = new Histogram({
    name: 'loki_boltdb_shipper_retention_marker_table_processed_duration_seconds',
    help: 'Time (in seconds) spent in marking table for chunks to delete',
    labelNames: ['table', 'status'],
    buckets: [1, 2.5, 5, 10, 20, 40, 90, 360, 600, 1800],
    registers: [this.registry],
  });
  readonly sweeperChunkDeleteDuration = new Histogram({
    name: 'loki_boltdb_shipper_retention_sweeper_chunk_deleted_duration_seconds',
    help: 'Time (in seconds) spent in deleting chunk',
    labelNames: ['status'],
    buckets: [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8],
    registers: [this.registry],
  });
  readonly sweeperMarkerFilesCurrent = new Gauge({
    name: 'loki_boltdb_shipper_retention_sweeper_marker_files_current',
    help: 'The current total of marker files valid for deletion.',
    registers: [this.registry],
  });
  readonly sweeperMarkerFileTime = new Gauge({
    name: 'loki_boltdb_shipper_retention_sweeper_marker_file_processing_current_time',
    help: 'The current time of creation of the marker file being processed.',
    registers: [this.registry],
  });
  readonly sweeperMarkerFilesDeleted = new Counter({
    name: 'loki_boltdb_shipper_retention_sweeper_marker_files_deleted_total',
    help: 'The total of marker files deleted after being fully processed.',
    registers: [this.registry],
  });

  /**
   * Every HTTP request, as Loki's server middleware counts them: the loki-mixin's dashboards and alerts are
   * built on this one. `route` is the path pattern made a label value (`loki_api_v1_push`), `ws` whether it
   * was a WebSocket (tail).
   */
  readonly requestDuration = new Histogram({
    name: 'loki_request_duration_seconds',
    help: 'Time (in seconds) spent serving HTTP requests.',
    labelNames: ['method', 'route', 'status_code', 'ws'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100],
    registers: [this.registry],
  });
  readonly inflightRequests = new Gauge({
    name: 'loki_inflight_requests',
    help: 'Current number of inflight requests.',
    labelNames: ['method', 'route'],
    registers: [this.registry],
  });

  constructor(version = '') {
    collectDefaultMetrics({ register: this.registry });
    // Prometheus' build_info convention: one series, value 1, the build in its labels.
    new Gauge({
      name: 'loki_build_info',
      help: "A metric with a constant '1' value labeled by version, revision, branch, goversion from which loki was built, and the goos and goarch for the build.",
      labelNames: ['version', 'revision', 'branch', 'goversion', 'goos', 'goarch', 'tags'],
      registers: [this.registry],
    }).set(
      { version, revision: 'unknown', branch: 'unknown', goversion: `node ${process.version}`, goos: process.platform, goarch: process.arch, tags: 'unknown' },
      1,
    );
  }
}
