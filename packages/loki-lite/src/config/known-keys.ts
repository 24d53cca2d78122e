/**
 * Keys of Loki's configuration that loki-lite accepts but does not act on yet. Each one present in a config
 * file gets one warning at start-up naming it, so a Loki config carries over without edits, and nobody is
 * misled into thinking the setting took effect. A key that is neither here nor in the schema is an error.
 */
export const KNOWN_UNIMPLEMENTED: readonly string[] = [
  // whole sections of later roles
  'analytics', 'bloom_build', 'bloom_gateway', 'chunk_store_config', 'compactor', 'frontend', 'frontend_worker',
  'index_gateway', 'ingester_client', 'memberlist', 'pattern_ingester',
  // querier and query_scheduler: max_concurrent and max_outstanding_requests_per_tenant are in the schema
  'querier.tail_max_duration', 'querier.extra_query_delay', 'querier.query_ingesters_within', 'querier.engine',
  'querier.query_store_only', 'querier.query_ingester_only',
  'querier.per_request_limits_enabled', 'querier.query_partition_ingesters', 'querier.query_timeout',
  'query_scheduler.max_queue_hierarchy_levels', 'query_scheduler.querier_forget_delay', 'query_scheduler.grpc_client_config',
  'query_scheduler.use_scheduler_ring', 'query_scheduler.scheduler_ring', 'query_scheduler.prioritize_query_components',
  'query_range.results_cache', 'query_range.cache_results', 'query_range.max_retries', 'query_range.parallelise_shardable_queries',
  'query_range.split_queries_by_interval', 'query_range.cache_index_stats_results', 'query_range.cache_volume_results',
  'query_range.cache_series_results', 'query_range.cache_label_results', 'query_range.cache_instant_metric_results',
  'query_range.shard_aggregations', 'query_range.required_query_response_format', 'ruler', 'runtime_config', 'table_manager', 'tracing', 'limits_config.retention_period',
  'limits_config.retention_stream', 'limits_config.volume_enabled', 'limits_config.max_cache_freshness_per_query',
  'limits_config.query_timeout_per_tenant', 'limits_config.max_query_parallelism', 'limits_config.otlp_config',
  'limits_config.shard_streams', 'limits_config.deletion_mode', 'limits_config.increment_duplicate_timestamp',
  'limits_config.max_querier_bytes_read', 'limits_config.tsdb_max_query_parallelism', 'limits_config.cardinality_limit',
  // settings of the single process we run that only matter to Loki's ring and gRPC plumbing (read, and
  // warned about, rather than passed silently: loki-lite keeps one copy of each line and serves no gRPC)
  'common.replication_factor', 'server.grpc_listen_port', 'server.graceful_shutdown_timeout', 'common.ring', 'common.instance_addr', 'common.instance_interface_names', 'common.compactor_address',
  'server.grpc_server_max_recv_msg_size', 'server.grpc_server_max_send_msg_size', 'server.http_server_read_timeout',
  'server.http_server_write_timeout', 'server.http_server_idle_timeout', 'server.register_instrumentation',
  'server.grpc_server_max_concurrent_streams', 'ingester.lifecycler', 'ingester.chunk_retain_period', 'ingester.concurrent_flushes',
  'ingester.wal.replay_memory_ceiling', 'ingester.flush_op_backoff.max_retries', 'ingester.autoforget_unhealthy', 'ingester.max_transfer_retries', 'ingester.query_store_max_look_back_period',
  'distributor.ring', 'distributor.otlp_config', 'storage_config.tsdb_shipper', 'storage_config.boltdb_shipper',
  'storage_config.hedging', 'storage_config.index_queries_cache_config', 'storage_config.aws.http_config',
  'storage_config.aws.sse', 'storage_config.aws.storage_class', 'storage_config.aws.backoff_config',
  'schema_config.configs.chunks', 'schema_config.configs.row_shards',
  'operational_config.log_stream_creation', 'operational_config.log_push_request', 'operational_config.log_push_request_streams',
  'operational_config.filter_push_request_streams_ips', 'operational_config.log_duplicate_stream_info',
  'operational_config.limited_log_push_errors',
];
