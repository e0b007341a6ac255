// Generated from pg_proc of PostgreSQL 15 and 18 (PGlite): the pg_catalog functions callable with one
// argument of which some overload is not IMMUTABLE, plus the XML ones. PostgreSQL reads `(x).f` and
// `t.f` as `f(x)` / `f(t)` when there is no column `f`, so a field name in this list (and not in
// SAFE_FUNCTIONS or allowFunctions) is refused: `('…'::text).ts_stat` would run SQL, `(1).pg_advisory_lock`
// take a lock. IMMUTABLE one-argument functions (`name`, `area`, `width`…) are pure and common column
// names, so they stay allowed. Regenerate with the query in test/postgres/validator-attacks.test.ts.
export const FIELD_NOTATION_FUNCTIONS: ReadonlySet<string> = new Set(
  (
    'aclexplode aclitemin aclitemout age amvalidate anyarray_out anyarray_recv anyarray_send ' +
    'anycompatiblearray_out anycompatiblearray_recv anycompatiblearray_send anycompatiblemultirange_out ' +
    'anycompatiblerange_out anyenum_out anymultirange_out anyrange_out array_out array_send array_shuffle ' +
    'array_to_json array_typanalyze bernoulli binary_upgrade_logical_slot_has_caught_up ' +
    'binary_upgrade_set_next_array_pg_type_oid binary_upgrade_set_next_heap_pg_class_oid ' +
    'binary_upgrade_set_next_heap_relfilenode binary_upgrade_set_next_index_pg_class_oid ' +
    'binary_upgrade_set_next_index_relfilenode binary_upgrade_set_next_multirange_array_pg_type_oid ' +
    'binary_upgrade_set_next_multirange_pg_type_oid binary_upgrade_set_next_pg_authid_oid ' +
    'binary_upgrade_set_next_pg_enum_oid binary_upgrade_set_next_pg_tablespace_oid ' +
    'binary_upgrade_set_next_pg_type_oid binary_upgrade_set_next_toast_pg_class_oid ' +
    'binary_upgrade_set_next_toast_relfilenode binary_upgrade_set_record_init_privs bpcharsend ' +
    'brin_bloom_summary_recv brin_bloom_summary_send brin_minmax_multi_summary_recv ' +
    'brin_minmax_multi_summary_send brin_summarize_new_values brinhandler bthandler cash_in cash_out concat ' +
    'concat_ws cstring_recv cstring_send current_schemas current_setting currval date date_in date_out ' +
    'dsnowball_init enum_first enum_last enum_out enum_range enum_send fmgr_c_validator ' +
    'fmgr_internal_validator fmgr_sql_validator format gin_clean_pending_list ginhandler gisthandler ' +
    'hashhandler heap_tableam_handler interval_out json_agg json_agg_strict json_build_array ' +
    'json_build_object json_to_record json_to_recordset jsonb_agg jsonb_agg_finalfn jsonb_agg_strict ' +
    'jsonb_build_array jsonb_build_object jsonb_object_agg_finalfn jsonb_to_record jsonb_to_recordset ' +
    'lo_close lo_creat lo_create lo_get lo_import lo_tell lo_tell64 lo_unlink money multirange_out ' +
    'multirange_send multirange_typanalyze mxid_age namerecv namesend nextval numeric obj_description ' +
    'oidvectortypes pg_advisory_lock pg_advisory_lock_shared pg_advisory_unlock pg_advisory_unlock_shared ' +
    'pg_advisory_xact_lock pg_advisory_xact_lock_shared pg_backup_start pg_backup_stop pg_basetype ' +
    'pg_blocking_pids pg_cancel_backend pg_char_to_encoding pg_collation_actual_version pg_collation_for ' +
    'pg_collation_is_visible pg_column_compression pg_column_size pg_column_toast_chunk_id ' +
    'pg_conversion_is_visible pg_create_physical_replication_slot pg_create_restore_point pg_current_logfile ' +
    'pg_database_collation_actual_version pg_database_size pg_dependencies_recv pg_dependencies_send ' +
    'pg_drop_replication_slot pg_encoding_to_char pg_extension_update_paths pg_function_is_visible ' +
    'pg_get_constraintdef pg_get_function_arguments pg_get_function_identity_arguments pg_get_function_result ' +
    'pg_get_function_sqlbody pg_get_functiondef pg_get_indexdef pg_get_multixact_members ' +
    'pg_get_partition_constraintdef pg_get_partkeydef pg_get_publication_tables pg_get_replica_identity_index ' +
    'pg_get_ruledef pg_get_sequence_data pg_get_statisticsobjdef pg_get_statisticsobjdef_columns ' +
    'pg_get_statisticsobjdef_expressions pg_get_triggerdef pg_get_userbyid pg_get_viewdef ' +
    'pg_import_system_collations pg_indexes_size pg_is_other_temp_schema pg_log_backend_memory_contexts ' +
    'pg_logical_slot_get_binary_changes pg_logical_slot_get_changes pg_logical_slot_peek_binary_changes ' +
    'pg_logical_slot_peek_changes pg_ls_dir pg_ls_replslotdir pg_ls_tmpdir pg_mcv_list_items pg_mcv_list_recv ' +
    'pg_mcv_list_send pg_ndistinct_recv pg_ndistinct_send pg_node_tree_recv pg_node_tree_send ' +
    'pg_opclass_is_visible pg_operator_is_visible pg_opfamily_is_visible pg_options_to_table ' +
    'pg_partition_ancestors pg_partition_tree pg_promote pg_read_binary_file pg_read_file ' +
    'pg_relation_filenode pg_relation_filepath pg_relation_is_publishable pg_relation_size ' +
    'pg_replication_origin_create pg_replication_origin_drop pg_replication_origin_oid ' +
    'pg_replication_origin_session_progress pg_replication_origin_session_setup pg_restore_attribute_stats ' +
    'pg_restore_relation_stats pg_safe_snapshot_blocking_pids pg_sequence_last_value pg_sequence_parameters ' +
    'pg_settings_get_flags pg_sleep pg_sleep_for pg_sleep_until pg_split_walfile_name pg_stat_file ' +
    'pg_stat_get_activity pg_stat_get_analyze_count pg_stat_get_autoanalyze_count ' +
    'pg_stat_get_autovacuum_count pg_stat_get_backend_activity pg_stat_get_backend_activity_start ' +
    'pg_stat_get_backend_client_addr pg_stat_get_backend_client_port pg_stat_get_backend_dbid ' +
    'pg_stat_get_backend_io pg_stat_get_backend_pid pg_stat_get_backend_start pg_stat_get_backend_subxact ' +
    'pg_stat_get_backend_userid pg_stat_get_backend_wait_event pg_stat_get_backend_wait_event_type ' +
    'pg_stat_get_backend_wal pg_stat_get_backend_xact_start pg_stat_get_blocks_fetched pg_stat_get_blocks_hit ' +
    'pg_stat_get_db_active_time pg_stat_get_db_blk_read_time pg_stat_get_db_blk_write_time ' +
    'pg_stat_get_db_blocks_fetched pg_stat_get_db_blocks_hit pg_stat_get_db_checksum_failures ' +
    'pg_stat_get_db_checksum_last_failure pg_stat_get_db_conflict_all pg_stat_get_db_conflict_bufferpin ' +
    'pg_stat_get_db_conflict_lock pg_stat_get_db_conflict_logicalslot pg_stat_get_db_conflict_snapshot ' +
    'pg_stat_get_db_conflict_startup_deadlock pg_stat_get_db_conflict_tablespace pg_stat_get_db_deadlocks ' +
    'pg_stat_get_db_idle_in_transaction_time pg_stat_get_db_numbackends ' +
    'pg_stat_get_db_parallel_workers_launched pg_stat_get_db_parallel_workers_to_launch ' +
    'pg_stat_get_db_session_time pg_stat_get_db_sessions pg_stat_get_db_sessions_abandoned ' +
    'pg_stat_get_db_sessions_fatal pg_stat_get_db_sessions_killed pg_stat_get_db_stat_reset_time ' +
    'pg_stat_get_db_temp_bytes pg_stat_get_db_temp_files pg_stat_get_db_tuples_deleted ' +
    'pg_stat_get_db_tuples_fetched pg_stat_get_db_tuples_inserted pg_stat_get_db_tuples_returned ' +
    'pg_stat_get_db_tuples_updated pg_stat_get_db_xact_commit pg_stat_get_db_xact_rollback ' +
    'pg_stat_get_dead_tuples pg_stat_get_function_calls pg_stat_get_function_self_time ' +
    'pg_stat_get_function_total_time pg_stat_get_ins_since_vacuum pg_stat_get_last_analyze_time ' +
    'pg_stat_get_last_autoanalyze_time pg_stat_get_last_autovacuum_time pg_stat_get_last_vacuum_time ' +
    'pg_stat_get_lastscan pg_stat_get_live_tuples pg_stat_get_mod_since_analyze pg_stat_get_numscans ' +
    'pg_stat_get_progress_info pg_stat_get_replication_slot pg_stat_get_subscription ' +
    'pg_stat_get_subscription_stats pg_stat_get_total_analyze_time pg_stat_get_total_autoanalyze_time ' +
    'pg_stat_get_total_autovacuum_time pg_stat_get_total_vacuum_time pg_stat_get_tuples_deleted ' +
    'pg_stat_get_tuples_fetched pg_stat_get_tuples_hot_updated pg_stat_get_tuples_inserted ' +
    'pg_stat_get_tuples_newpage_updated pg_stat_get_tuples_returned pg_stat_get_tuples_updated ' +
    'pg_stat_get_vacuum_count pg_stat_get_xact_blocks_fetched pg_stat_get_xact_blocks_hit ' +
    'pg_stat_get_xact_function_calls pg_stat_get_xact_function_self_time pg_stat_get_xact_function_total_time ' +
    'pg_stat_get_xact_numscans pg_stat_get_xact_tuples_deleted pg_stat_get_xact_tuples_fetched ' +
    'pg_stat_get_xact_tuples_hot_updated pg_stat_get_xact_tuples_inserted ' +
    'pg_stat_get_xact_tuples_newpage_updated pg_stat_get_xact_tuples_returned pg_stat_get_xact_tuples_updated ' +
    'pg_stat_reset_backend_stats pg_stat_reset_replication_slot pg_stat_reset_shared ' +
    'pg_stat_reset_single_function_counters pg_stat_reset_single_table_counters pg_stat_reset_slru ' +
    'pg_stat_reset_subscription_stats pg_statistics_obj_is_visible pg_table_is_visible pg_table_size ' +
    'pg_tablespace_databases pg_tablespace_location pg_tablespace_size pg_terminate_backend ' +
    'pg_total_relation_size pg_try_advisory_lock pg_try_advisory_lock_shared pg_try_advisory_xact_lock ' +
    'pg_try_advisory_xact_lock_shared pg_ts_config_is_visible pg_ts_dict_is_visible pg_ts_parser_is_visible ' +
    'pg_ts_template_is_visible pg_type_is_visible pg_typeof pg_xact_commit_timestamp ' +
    'pg_xact_commit_timestamp_origin pg_xact_status phraseto_tsquery plainto_tsquery plpgsql_inline_handler ' +
    'plpgsql_validator quote_literal quote_nullable random_normal range_out range_send range_typanalyze ' +
    'record_out record_send regclass regclassin regclassout regcollationin regcollationout regconfigin ' +
    'regconfigout regdictionaryin regdictionaryout regnamespacein regnamespaceout regoperatorin ' +
    'regoperatorout regoperin regoperout regprocedurein regprocedureout regprocin regprocout regrolein ' +
    'regroleout regtypein regtypeout row_security_active row_to_json setseed spghandler system textrecv ' +
    'textsend time timestamp timestamp_out timestamptz timestamptz_out timetz timezone to_json to_jsonb ' +
    'to_regclass to_regcollation to_regnamespace to_regoper to_regoperator to_regproc to_regprocedure ' +
    'to_regrole to_regtype to_regtypemod to_tsquery to_tsvector ts_debug ts_stat ts_token_type ts_typanalyze ' +
    'txid_status uuidv7 varcharsend websearch_to_tsquery xml xml_in xml_is_well_formed ' +
    'xml_is_well_formed_content xml_is_well_formed_document xml_out xml_recv xml_send xmlagg xmlcomment ' +
    'xmltext'
  ).split(' '),
);
