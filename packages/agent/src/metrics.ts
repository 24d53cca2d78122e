import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/*
 * The agent's metrics. Where Promtail has a metric for the same thing it has Promtail's name and labels, so
 * Promtail dashboards and alerts keep working after the switch; the rest are `agent_*`.
 */
export function createMetrics() {
  const registry = new Registry();
  const m = {
    registry,
    readBytes: new Counter({ name: 'promtail_read_bytes_total', help: 'Bytes read from tailed files.', labelNames: ['path'] as const, registers: [registry] }),
    readLines: new Counter({ name: 'promtail_read_lines_total', help: 'Lines read from tailed files.', labelNames: ['path'] as const, registers: [registry] }),
    filesActive: new Gauge({ name: 'promtail_files_active_total', help: 'Files being tailed.', registers: [registry] }),
    filesWaiting: new Gauge({ name: 'agent_files_waiting', help: 'Files found but not opened yet (max_open_files reached).', registers: [registry] }),
    sentEntries: new Counter({
      name: 'promtail_sent_entries_total',
      help: 'Entries acknowledged by the server.',
      labelNames: ['host'] as const,
      registers: [registry],
    }),
    sentBytes: new Counter({
      name: 'promtail_sent_bytes_total',
      help: 'Line bytes acknowledged by the server.',
      labelNames: ['host'] as const,
      registers: [registry],
    }),
    droppedEntries: new Counter({
      name: 'promtail_dropped_entries_total',
      help: 'Entries dropped, by reason.',
      labelNames: ['host', 'reason'] as const,
      registers: [registry],
    }),
    droppedBytes: new Counter({
      name: 'promtail_dropped_bytes_total',
      help: 'Line bytes dropped, by reason.',
      labelNames: ['host', 'reason'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'promtail_batch_retries_total',
      help: 'Batches sent again after a failure.',
      labelNames: ['host'] as const,
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'promtail_request_duration_seconds',
      help: 'Push request latency.',
      labelNames: ['host', 'status_code'] as const,
      registers: [registry],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    queuedBytes: new Gauge({ name: 'agent_queued_bytes', help: 'Line bytes read and not yet acknowledged, summed over the clients.', registers: [registry] }),
    positionsLagBytes: new Gauge({
      name: 'agent_positions_lag_bytes',
      help: 'Bytes read from files but not yet acknowledged (so not yet in the positions file).',
      registers: [registry],
    }),
    unreadDroppedBytes: new Counter({
      name: 'agent_deleted_file_dropped_bytes_total',
      help: 'Unread bytes of deleted files given up over max_unread_deleted_bytes.',
      registers: [registry],
    }),
    targets: new Gauge({ name: 'agent_targets', help: 'Targets after discovery and relabeling.', labelNames: ['job'] as const, registers: [registry] }),
  };
  return m;
}

export type AgentMetrics = ReturnType<typeof createMetrics>;
