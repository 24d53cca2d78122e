/**
 * Keys of Loki's configuration that loki-lite accepts but does not act on yet. Each one present in a config
 * file gets one warning at start-up naming it, so a Loki config carries over without edits, and nobody is
 * misled into thinking the setting took effect. A key that is neither here nor in the schema is an error.
 * A key here covers the keys under it that Loki's configuration reference has (loki-config-keys.ts); any other
 * key under it is an error, as in Loki (key-reference.ts). A key here that the reference does not have (the
 * keys of earlier Loki releases at the end) covers everything under it. Together with the schema this covers
 * every key of the reference (checked by reference.test.ts).
 */
export const KNOWN_UNIMPLEMENTED: readonly string[] = [
  // whole sections of roles and features loki-lite does not run
  'analytics', 'bloom_build', 'bloom_gateway', 'chunk_store_config', 'compactor', 'compactor_grpc_client', 'frontend',
  'frontend_worker', 'index_gateway', 'ingester_client', 'memberlist', 'pattern_ingester', 'profiling', 'ruler',
  'ruler_storage', 'runtime_config', 'tracing', 'ui',
  // Loki's Kafka and data-object write path, ingest-limits services and next query engine (experimental)
  'kafka_config', 'dataobj', 'query_engine', 'rate_service', 'rate_service_client', 'ingest_limits',
  'ingest_limits_frontend', 'ingest_limits_frontend_client',
  // top-level settings of Loki's Go process
  'ballast_bytes', 'metrics_namespace', 'shutdown_delay', 'tenant_limits_allow_publish',

  // server: the HTTP listener and log settings are in the schema; gRPC, TLS and request logging are not
  'server.grpc_listen_port', 'server.grpc_listen_address', 'server.grpc_listen_network', 'server.grpc_listen_conn_limit',
  'server.grpc_collect_max_streams_by_conn', 'server.grpc_tls_config', 'server.grpc_server_max_recv_msg_size',
  'server.grpc_server_max_send_msg_size', 'server.grpc_server_max_concurrent_streams', 'server.grpc_server_max_connection_idle',
  'server.grpc_server_max_connection_age', 'server.grpc_server_max_connection_age_grace', 'server.grpc_server_keepalive_time',
  'server.grpc_server_keepalive_timeout', 'server.grpc_server_min_time_between_pings', 'server.grpc_server_ping_without_stream_allowed',
  'server.grpc_server_num_workers', 'server.grpc_server_stats_tracking_enabled', 'server.grpc_server_recv_buffer_pools_enabled',
  'server.grpc_server_read_buffer_size', 'server.grpc_server_write_buffer_size', 'server.report_grpc_codes_in_instrumentation_label_enabled',
  'server.http_listen_network', 'server.http_listen_conn_limit', 'server.http_tls_config', 'server.tls_cipher_suites',
  'server.tls_min_version', 'server.proxy_protocol_enabled', 'server.http_server_read_timeout',
  'server.http_server_read_header_timeout', 'server.http_server_write_timeout', 'server.http_server_idle_timeout', 'server.graceful_shutdown_timeout',
  'server.http_log_closed_connections_without_response_enabled', 'server.register_instrumentation', 'server.log_source_ips_enabled',
  'server.log_source_ips_full', 'server.log_source_ips_header', 'server.log_source_ips_regex', 'server.log_request_headers',
  'server.log_request_exclude_headers_list', 'server.trace_request_headers',
  'server.trace_request_exclude_headers_list', 'server.cluster_validation', 'server.create_new_traces',

  // common: path_prefix, storage.s3 and storage.filesystem are in the schema; the ring and the other backends are not
  // (a single process keeps one copy of each line and serves no gRPC)
  'common.replication_factor', 'common.ring', 'common.instance_addr', 'common.instance_interface_names', 'common.persist_tokens',
  'common.compactor_address', 'common.compactor_grpc_address', 'common.scratch_path',
  'common.storage.gcs', 'common.storage.azure', 'common.storage.alibabacloud', 'common.storage.bos', 'common.storage.swift',
  'common.storage.cos', 'common.storage.hedging', 'common.storage.congestion_control', 'common.storage.object_store',
  // S3 client settings beyond the endpoint, bucket and credentials (storage_config.aws and common.storage.s3 alike)
  'storage_config.aws.s3', 'storage_config.aws.chunk_delimiter', 'storage_config.aws.http_config', 'storage_config.aws.signature_version',
  'storage_config.aws.storage_class', 'storage_config.aws.sse', 'storage_config.aws.backoff_config', 'storage_config.aws.disable_dualstack',
  'common.storage.s3.s3', 'common.storage.s3.chunk_delimiter', 'common.storage.s3.http_config', 'common.storage.s3.signature_version',
  'common.storage.s3.storage_class', 'common.storage.s3.sse', 'common.storage.s3.backoff_config', 'common.storage.s3.disable_dualstack',

  // storage_config: aws and filesystem are in the schema; the other backends, caches and shippers are not
  'storage_config.gcs', 'storage_config.azure', 'storage_config.alibabacloud', 'storage_config.bos', 'storage_config.swift',
  'storage_config.cos', 'storage_config.named_stores', 'storage_config.object_store', 'storage_config.use_thanos_objstore',
  'storage_config.object_prefix', 'storage_config.hedging', 'storage_config.congestion_control', 'storage_config.index_cache_validity',
  'storage_config.index_queries_cache_config', 'storage_config.disable_broad_index_queries', 'storage_config.max_parallel_get_chunk',
  'storage_config.max_chunk_batch_size', 'storage_config.tsdb_shipper', 'storage_config.boltdb_shipper', 'storage_config.bloom_shipper',
  // schema_config: loki-lite keeps its own index layout under the period's index prefix
  'schema_config.configs.index.path_prefix', 'schema_config.configs.index.tags', 'schema_config.configs.chunks',
  'schema_config.configs.row_shards',

  // distributor: max_recv_msg_size is in the schema
  'distributor.ring', 'distributor.otlp_config', 'distributor.push_worker_count', 'distributor.max_decompressed_size',
  'distributor.rate_store', 'distributor.write_failures_logging', 'distributor.default_policy_stream_mappings',
  'distributor.kafka_writes_enabled', 'distributor.ingester_writes_enabled', 'distributor.ingest_limits_enabled',
  'distributor.ingest_limits_dry_run_enabled', 'distributor.dataobj_tee', 'distributor.inmemory_dataobj_push_timeout',

  // ingester: chunk cutting, flushing and the WAL are in the schema; the ring and Loki's tuning knobs are not
  'ingester.lifecycler', 'ingester.concurrent_flushes', 'ingester.flush_op_backoff.max_retries',
  'ingester.autoforget_unhealthy', 'ingester.sync_period', 'ingester.sync_min_utilization', 'ingester.query_store_max_look_back_period',
  'ingester.wal.replay_memory_ceiling', 'ingester.wal.disk_full_threshold', 'ingester.index_shards', 'ingester.max_dropped_streams',
  'ingester.shutdown_marker_path', 'ingester.owned_streams_check_interval', 'ingester.delegate_stream_limits_enabled',
  'ingester.kafka_ingestion',

  // querier and query_scheduler: max_concurrent, multi_tenant_queries_enabled and
  // max_outstanding_requests_per_tenant are in the schema
  'querier.tail_max_duration', 'querier.extra_query_delay', 'querier.query_ingesters_within', 'querier.engine',
  'querier.query_store_only', 'querier.query_ingester_only', 'querier.per_request_limits_enabled', 'querier.query_partition_ingesters',
  'query_scheduler.max_queue_hierarchy_levels', 'query_scheduler.querier_forget_delay', 'query_scheduler.grpc_client_config',
  'query_scheduler.use_scheduler_ring', 'query_scheduler.scheduler_ring',
  // query_range: align_queries_with_step is in the schema; the results caches and sharding are not
  'query_range.results_cache', 'query_range.cache_results', 'query_range.max_retries', 'query_range.parallelise_shardable_queries',
  'query_range.shard_aggregations', 'query_range.cache_index_stats_results', 'query_range.index_stats_results_cache',
  'query_range.cache_volume_results', 'query_range.volume_results_cache', 'query_range.cache_instant_metric_results',
  'query_range.instant_metric_results_cache', 'query_range.instant_metric_query_split_align', 'query_range.cache_series_results',
  'query_range.series_results_cache', 'query_range.cache_label_results', 'query_range.label_results_cache',

  // limits_config: ingestion, stream and query limits loki-lite enforces are in the schema. Not acted on yet:
  // retention and deletion,
  'limits_config.retention_period', 'limits_config.retention_stream', 'limits_config.deletion_mode', 'limits_config.allow_deletes',
  // ingestion policies and checks,
  'limits_config.increment_duplicate_timestamp', 'limits_config.max_line_size_truncate_identifier', 'limits_config.simulated_push_latency',
  'limits_config.unordered_writes', 'limits_config.use_owned_stream_count', 'limits_config.shard_streams', 'limits_config.otlp_config',
  'limits_config.discover_generic_fields', 'limits_config.log_level_fields', 'limits_config.log_level_from_json_max_depth',
  'limits_config.block_ingestion_policy_until', 'limits_config.block_ingestion_until', 'limits_config.block_ingestion_status_code',
  'limits_config.enforced_labels', 'limits_config.policy_enforced_labels', 'limits_config.policy_stream_mapping',
  'limits_config.ingestion_partitions_tenant_shard_size', 'limits_config.s3_sse_type', 'limits_config.s3_sse_kms_key_id',
  'limits_config.s3_sse_kms_encryption_context',
  // query limits and the query frontend's splitting, sharding and caching,
  'limits_config.max_chunks_per_query', 'limits_config.max_query_lookback', 'limits_config.max_query_range',
  'limits_config.max_query_parallelism', 'limits_config.tsdb_max_query_parallelism', 'limits_config.tsdb_max_bytes_per_shard',
  'limits_config.tsdb_sharding_strategy', 'limits_config.tsdb_precompute_chunks', 'limits_config.cardinality_limit',
  'limits_config.max_streams_matchers_per_query', 'limits_config.max_cache_freshness_per_query', 'limits_config.max_metadata_cache_freshness',
  'limits_config.max_stats_cache_freshness', 'limits_config.max_queriers_per_tenant', 'limits_config.max_query_capacity',
  'limits_config.query_ready_index_num_days', 'limits_config.split_metadata_queries_by_interval',
  'limits_config.split_recent_metadata_queries_by_interval', 'limits_config.recent_metadata_query_window',
  'limits_config.split_instant_metric_queries_by_interval', 'limits_config.split_ingester_queries_by_interval',
  'limits_config.engine_results_cache_time_bucket_interval', 'limits_config.min_sharding_lookback', 'limits_config.max_query_bytes_read',
  'limits_config.max_querier_bytes_read', 'limits_config.volume_enabled', 'limits_config.volume_max_series',
  'limits_config.blocked_queries', 'limits_config.required_labels', 'limits_config.minimum_labels_number',
  'limits_config.shard_aggregations', 'limits_config.enable_multi_variant_queries', 'limits_config.max_scan_task_parallelism',
  'limits_config.debug_engine_tasks', 'limits_config.debug_engine_streams',
  // and the per-tenant settings of roles loki-lite does not run (ruler, index and bloom gateways, patterns).
  'limits_config.ruler_max_rules_per_rule_group', 'limits_config.ruler_max_rule_groups_per_tenant', 'limits_config.ruler_tenant_shard_size',
  'limits_config.ruler_enable_wal_replay', 'limits_config.ruler_remote_write_disabled', 'limits_config.ruler_remote_write_url',
  'limits_config.ruler_remote_write_timeout', 'limits_config.ruler_remote_write_headers', 'limits_config.ruler_remote_write_relabel_configs',
  'limits_config.ruler_remote_write_queue_capacity', 'limits_config.ruler_remote_write_queue_min_shards',
  'limits_config.ruler_remote_write_queue_max_shards', 'limits_config.ruler_remote_write_queue_max_samples_per_send',
  'limits_config.ruler_remote_write_queue_batch_send_deadline', 'limits_config.ruler_remote_write_queue_min_backoff',
  'limits_config.ruler_remote_write_queue_max_backoff', 'limits_config.ruler_remote_write_queue_retry_on_ratelimit',
  'limits_config.ruler_remote_write_sigv4_config', 'limits_config.ruler_remote_write_config', 'limits_config.ruler_remote_evaluation_timeout',
  'limits_config.ruler_remote_evaluation_max_response_size', 'limits_config.per_tenant_override_config',
  'limits_config.per_tenant_override_period', 'limits_config.index_gateway_shard_size', 'limits_config.index_gateway_max_capacity',
  'limits_config.bloom_gateway_enable_filtering', 'limits_config.bloom_build_max_builders', 'limits_config.bloom_build_task_max_retries',
  'limits_config.bloom_build_builder_response_timeout', 'limits_config.bloom_creation_enabled', 'limits_config.bloom_planning_strategy',
  'limits_config.bloom_split_series_keyspace_by', 'limits_config.bloom_task_target_series_chunk_size', 'limits_config.bloom_block_encoding',
  'limits_config.bloom_prefetch_blocks', 'limits_config.bloom_max_block_size', 'limits_config.bloom_max_bloom_size',
  'limits_config.pattern_ingester_tokenizable_json_fields_default', 'limits_config.pattern_ingester_tokenizable_json_fields_append',
  'limits_config.pattern_ingester_tokenizable_json_fields_delete', 'limits_config.metric_aggregation_enabled',
  'limits_config.pattern_persistence_enabled', 'limits_config.pattern_persistence_granularity', 'limits_config.pattern_rate_threshold',

  // operational_config: log_duplicate_metrics is in the schema
  'operational_config.log_stream_creation', 'operational_config.log_push_request', 'operational_config.log_hash_of_labels',
  'operational_config.log_push_request_streams', 'operational_config.filter_push_request_streams_ips',
  'operational_config.log_service_name_discovery', 'operational_config.log_duplicate_stream_info',
  'operational_config.limited_log_push_errors',

  // keys of earlier Loki releases, gone from the current reference, so that their configs still load
  'table_manager', 'querier.query_timeout', 'query_scheduler.prioritize_query_components', 'query_range.split_queries_by_interval',
  'query_range.required_query_response_format', 'limits_config.query_timeout_per_tenant', 'ingester.max_transfer_retries',
];
