/**
 * What a validated query may call. Everything here is a side-effect-free built-in of
 * PostgreSQL (pg_catalog): no writes, no file or network access, no locks, no session or
 * sequence state, no waiting. What is not listed is refused. Every name here exists in
 * pg_catalog from PostgreSQL 15 on (a test checks it against the server): a name missing there
 * would resolve through the search_path, where anyone with CREATE could plant it. So
 * `any_value` (PostgreSQL 16) is not listed.
 */
export const SAFE_FUNCTIONS: ReadonlySet<string> = new Set([
  // math
  'abs', 'cbrt', 'ceil', 'ceiling', 'degrees', 'div', 'exp', 'factorial', 'floor', 'gcd', 'lcm', 'ln', 'log', 'log10', 'mod',
  'pi', 'power', 'pow', 'radians', 'random', 'round', 'scale', 'sign', 'sqrt', 'trunc', 'width_bucket', 'min_scale', 'trim_scale',
  'acos', 'asin', 'atan', 'atan2', 'cos', 'cot', 'sin', 'tan', 'sinh', 'cosh', 'tanh',
  // strings
  'ascii', 'bit_length', 'btrim', 'char_length', 'character_length', 'chr', 'concat', 'concat_ws', 'format', 'initcap', 'left',
  'length', 'lower', 'lpad', 'ltrim', 'md5', 'normalize', 'octet_length', 'overlay', 'position', 'quote_ident', 'quote_literal',
  'quote_nullable', 'regexp_count', 'regexp_instr', 'regexp_like', 'regexp_match', 'regexp_matches', 'regexp_replace',
  'regexp_split_to_array', 'regexp_split_to_table', 'regexp_substr', 'repeat', 'replace', 'reverse', 'right', 'rpad', 'rtrim',
  'split_part', 'starts_with', 'strpos', 'substr', 'substring', 'to_hex', 'translate', 'upper', 'encode', 'decode',
  'sha224', 'sha256', 'sha384', 'sha512', 'string_to_array', 'array_to_string', 'like_escape', 'similar_to_escape',
  // dates and times
  'age', 'clock_timestamp', 'date_bin', 'date_part', 'date_trunc', 'extract', 'isfinite', 'justify_days', 'justify_hours',
  'justify_interval', 'make_date', 'make_interval', 'make_time', 'make_timestamp', 'make_timestamptz', 'now',
  'statement_timestamp', 'timeofday', 'timezone', 'to_char', 'to_date', 'to_number', 'to_timestamp', 'transaction_timestamp',
  // aggregates and window functions
  'array_agg', 'avg', 'bit_and', 'bit_or', 'bit_xor', 'bool_and', 'bool_or', 'count', 'every', 'json_agg', 'jsonb_agg',
  'json_object_agg', 'jsonb_object_agg', 'max', 'min', 'string_agg', 'sum', 'corr', 'covar_pop', 'covar_samp', 'regr_avgx',
  'regr_avgy', 'regr_count', 'regr_intercept', 'regr_r2', 'regr_slope', 'regr_sxx', 'regr_sxy', 'regr_syy', 'stddev',
  'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'mode', 'percentile_cont', 'percentile_disc',
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // JSON
  'to_json', 'to_jsonb', 'array_to_json', 'row_to_json', 'json_build_array', 'jsonb_build_array', 'json_build_object',
  'jsonb_build_object', 'json_object', 'jsonb_object', 'json_array_length', 'jsonb_array_length', 'json_each', 'jsonb_each',
  'json_each_text', 'jsonb_each_text', 'json_extract_path', 'jsonb_extract_path', 'json_extract_path_text',
  'jsonb_extract_path_text', 'json_object_keys', 'jsonb_object_keys', 'json_array_elements', 'jsonb_array_elements',
  'json_array_elements_text', 'jsonb_array_elements_text', 'json_typeof', 'jsonb_typeof', 'json_strip_nulls', 'jsonb_strip_nulls',
  'jsonb_pretty', 'jsonb_set', 'jsonb_set_lax', 'jsonb_insert', 'jsonb_path_exists', 'jsonb_path_match', 'jsonb_path_query',
  'jsonb_path_query_array', 'jsonb_path_query_first', 'json_populate_record', 'jsonb_populate_record', 'json_to_record',
  'jsonb_to_record', 'json_to_recordset', 'jsonb_to_recordset',
  // arrays and sets
  'array_append', 'array_cat', 'array_dims', 'array_fill', 'array_length', 'array_lower', 'array_ndims', 'array_position',
  'array_positions', 'array_prepend', 'array_remove', 'array_replace', 'array_upper', 'cardinality', 'trim_array', 'unnest',
  'generate_series', 'generate_subscripts',
  // text search
  'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'phraseto_tsquery', 'websearch_to_tsquery', 'ts_rank', 'ts_rank_cd',
  'ts_headline', 'setweight', 'strip', 'numnode', 'querytree', 'tsvector_to_array', 'array_to_tsvector',
  // conversions spelled as calls
  'bool', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'varchar', 'bpchar', 'date', 'time', 'timetz',
  'timestamp', 'timestamptz', 'interval',
  // misc
  'num_nonnulls', 'num_nulls', 'pg_typeof', 'gen_random_uuid', 'pg_collation_for', 'is_normalized', 'overlaps',
]);

/**
 * Types a value may be cast to (`::type`, `CAST(... AS type)`, column definition lists, JSON
 * `RETURNING`): built-ins, so no domain check constraint can run a function. Not `xml`: its
 * input runs libxml2, outside PostgreSQL's interrupt checks. Not `regclass`/`regtype`: a cast
 * to them reads the catalogs past allowSchemas (`g::regclass::text` lists every relation). SQL
 * keywords (`integer`, `boolean`, `double precision`…) arrive as `pg_catalog.int4` and so on;
 * quoted (`"integer"`) they are names resolved through the search_path, so they are not listed.
 */
export const SAFE_TYPES: ReadonlySet<string> = new Set([
  'bool', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'varchar', 'char', 'bpchar', 'name', 'bytea', 'date', 'time', 'timetz', 'timestamp', 'timestamptz',
  'interval', 'uuid', 'json', 'jsonb', 'inet', 'cidr', 'macaddr', 'money', 'oid', 'tsvector', 'tsquery', 'bit', 'varbit',
  'point', 'int4range', 'int8range', 'numrange', 'tsrange', 'tstzrange', 'daterange',
]);

/**
 * Functions a person might reach for and that must never be called; named in refusals for
 * clarity. (The XML ones, `query_to_xml` and the like included, are {@link XML_FUNCTIONS}.)
 */
export const KNOWN_DANGEROUS = /^(pg_sleep|set_config|nextval|setval|currval|lastval|lo_|pg_read_|pg_ls_|pg_stat_file|dblink|pg_terminate_backend|pg_cancel_backend|pg_advisory|pg_try_advisory|txid_current|pg_current_xact_id|pg_notify|pg_logical_emit_message|pg_reload_conf|pg_rotate_logfile|pg_switch_wal|copy|pg_file_)/;

/**
 * XML functions: libxml2 parses and evaluates XPath without PostgreSQL's interrupt checks, so
 * statement_timeout, cancel and even pg_terminate_backend wait for it (XMLTABLE left backends
 * running for minutes); the `…_to_xml` family also runs queries of its own (`query_to_xml` its
 * text argument). Named in refusals.
 */
export const XML_FUNCTIONS = /^(xpath|xmlexists|xml_|xml$|xmlparse|xmlelement|xmlforest|xmlconcat|xmlagg|xmlcomment|xmltext|xmlvalidate|table_to_xml|query_to_xml|cursor_to_xml|database_to_xml|schema_to_xml)/;

/** Operators of PostgreSQL's built-in types. Others may be user-defined and call anything. */
export const SAFE_OPERATORS: ReadonlySet<string> = new Set(
  (
    '+ - * / % ^ |/ ||/ @ & | # ~ << >> = <> < > <= >= || ~~ ~~* !~~ !~~* ~* !~ !~* @> <@ && ?| ?& ? -> ->> #> #>> #- @? @@ @@@ ' +
    '<-> -|- &< &> <<| |>> &<| |&> <^ >^ ?# ?- ?-| ?|| ~= <<= >>='
  ).split(' '),
);
