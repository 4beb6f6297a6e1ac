--
-- pgTAP: the schema the SPEC names, installed into a schema of its own.
--
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;
CREATE SCHEMA trading;
CREATE EXTENSION snapshot_ops SCHEMA trading;

SELECT plan(94);

-- schemas
SELECT has_schema('trading');
SELECT has_schema('snapshot_ops', 'the admin schema exists');

-- tables
SELECT tables_are('trading', ARRAY['session_snapshots', 'position_snapshots',
	'metrics_snapshots', 'risk_guard_snapshots']);

-- session_snapshots
SELECT col_type_is('trading', 'session_snapshots', 'snapshot_id', 'bigint', 'snapshot_id bigint');
SELECT col_is_pk('trading', 'session_snapshots', 'snapshot_id', 'snapshot_id is the key');
SELECT is((SELECT attidentity::text FROM pg_attribute
			WHERE attrelid = 'trading.session_snapshots'::regclass AND attname = 'snapshot_id'),
		  'a', 'snapshot_id is GENERATED ALWAYS AS IDENTITY');
SELECT col_type_is('trading', 'session_snapshots', 'session_id', 'text', 'session_id text');
SELECT col_not_null('trading', 'session_snapshots', 'session_id', 'session_id not null');
SELECT col_type_is('trading', 'session_snapshots', 'session_start_time', 'timestamp with time zone', 'session_start_time timestamptz');
SELECT col_type_is('trading', 'session_snapshots', 'mode', 'text', 'mode text');
SELECT col_type_is('trading', 'session_snapshots', 'paper_campaign_id', 'text', 'paper_campaign_id text');
SELECT col_type_is('trading', 'session_snapshots', 'config', 'jsonb', 'config jsonb');
SELECT col_type_is('trading', 'session_snapshots', 'loop_count', 'bigint', 'loop_count bigint');
SELECT col_type_is('trading', 'session_snapshots', 'status', 'text', 'status text');
SELECT col_type_is('trading', 'session_snapshots', 'snapshot_type', 'text', 'snapshot_type text');
SELECT col_type_is('trading', 'session_snapshots', 'created_at', 'timestamp with time zone', 'created_at timestamptz');
SELECT col_has_default('trading', 'session_snapshots', 'created_at', 'created_at has a default');
SELECT col_not_null('trading', 'session_snapshots', 'created_at', 'created_at not null');

-- position_snapshots
SELECT col_type_is('trading', 'position_snapshots', 'snapshot_id', 'bigint', 'position snapshot_id bigint');
SELECT col_type_is('trading', 'position_snapshots', 'position_key', 'text', 'position_key text');
SELECT col_type_is('trading', 'position_snapshots', 'trade_data', 'jsonb', 'trade_data jsonb');
SELECT col_type_is('trading', 'position_snapshots', 'order_a_data', 'jsonb', 'order_a_data jsonb');
SELECT col_type_is('trading', 'position_snapshots', 'order_b_data', 'jsonb', 'order_b_data jsonb');
SELECT col_type_is('trading', 'position_snapshots', 'position_open_time', 'timestamp with time zone', 'position_open_time timestamptz');
SELECT col_type_is('trading', 'position_snapshots', 'created_at', 'timestamp with time zone', 'position created_at timestamptz');
SELECT col_is_pk('trading', 'position_snapshots', ARRAY['snapshot_id', 'position_key'], 'unique (snapshot_id, position_key) as the key');
SELECT trigger_is('trading', 'position_snapshots', 'position_snapshots_snapshot_id_fkey',
				  'snapshot_ops', 'refint_check_parent', 'position snapshot_id references session_snapshots (trigger)');

-- metrics_snapshots
SELECT col_is_pk('trading', 'metrics_snapshots', 'snapshot_id', 'one metrics row per snapshot');
SELECT trigger_is('trading', 'metrics_snapshots', 'metrics_snapshots_snapshot_id_fkey',
				  'snapshot_ops', 'refint_check_parent', 'metrics snapshot_id references session_snapshots (trigger)');
SELECT col_type_is('trading', 'metrics_snapshots', c, 'bigint', c || ' bigint')
  FROM unnest(ARRAY['total_trades_opened', 'total_trades_closed', 'total_winning_trades']) c;
SELECT col_type_is('trading', 'metrics_snapshots', c, 'numeric', c || ' numeric')
  FROM unnest(ARRAY['total_pnl_usd', 'max_dd_usd', 'portfolio_initial_capital', 'portfolio_equity']) c;
SELECT col_type_is('trading', 'metrics_snapshots', c, 'jsonb', c || ' jsonb')
  FROM unnest(ARRAY['per_symbol_pnl', 'per_symbol_trades_opened', 'per_symbol_trades_closed',
					'per_symbol_winning_trades']) c;
SELECT col_type_is('trading', 'metrics_snapshots', 'created_at', 'timestamp with time zone', 'metrics created_at timestamptz');

-- risk_guard_snapshots
SELECT col_is_pk('trading', 'risk_guard_snapshots', 'snapshot_id', 'one risk_guard row per snapshot');
SELECT trigger_is('trading', 'risk_guard_snapshots', 'risk_guard_snapshots_snapshot_id_fkey',
				  'snapshot_ops', 'refint_check_parent', 'risk_guard snapshot_id references session_snapshots (trigger)');
SELECT col_type_is('trading', 'risk_guard_snapshots', 'session_start_time', 'timestamp with time zone', 'risk session_start_time timestamptz');
SELECT col_type_is('trading', 'risk_guard_snapshots', 'daily_loss_usd', 'numeric', 'daily_loss_usd numeric');
SELECT col_type_is('trading', 'risk_guard_snapshots', c, 'jsonb', c || ' jsonb')
  FROM unnest(ARRAY['per_symbol_loss', 'per_symbol_trades_rejected', 'per_symbol_trades_allowed',
					'per_symbol_capital_used', 'per_symbol_position_count']) c;
SELECT col_type_is('trading', 'risk_guard_snapshots', 'created_at', 'timestamp with time zone', 'risk created_at timestamptz');

-- The references to session_snapshots are triggers (src/refint.c), so that
-- a parallel restore may load the tables in any order: three not
-- deferrable constraint triggers named like the foreign keys they replace,
-- no declarative foreign key, and on the parent the cascade (a statement
-- trigger with the deleted rows), key-update and truncate triggers.
SELECT is(count(*)::int, 3, 'three constraint triggers *_snapshot_id_fkey on the child tables, not deferrable')
  FROM pg_constraint c JOIN pg_trigger t ON t.tgconstraint = c.oid
 WHERE c.contype = 't' AND NOT c.condeferrable
   AND c.conname = (SELECT r.relname FROM pg_class r WHERE r.oid = c.conrelid) || '_snapshot_id_fkey'
   AND c.connamespace = 'trading'::regnamespace
   AND t.tgfoid = 'snapshot_ops.refint_check_parent()'::regprocedure;
SELECT is(count(*)::int, 0, 'no declarative foreign key to session_snapshots')
  FROM pg_constraint WHERE contype = 'f' AND confrelid = 'trading.session_snapshots'::regclass;
SELECT triggers_are('trading', 'session_snapshots', ARRAY['session_snapshots_cascade_delete',
	'session_snapshots_restrict_key_update', 'session_snapshots_restrict_truncate',
	'session_snapshots_bulk_load_hold'], 'session_snapshots: cascade, key update, truncate and bulk-load triggers');
SELECT is((SELECT pg_get_triggerdef(oid) FROM pg_trigger
			WHERE tgrelid = 'trading.session_snapshots'::regclass AND tgname = 'session_snapshots_cascade_delete'),
		  'CREATE TRIGGER session_snapshots_cascade_delete AFTER DELETE ON trading.session_snapshots '
		  'REFERENCING OLD TABLE AS deleted_snapshots FOR EACH STATEMENT EXECUTE FUNCTION snapshot_ops.refint_cascade_delete()',
		  'ON DELETE CASCADE is one statement trigger with the deleted rows');
SELECT trigger_is('trading', t, t || '_bulk_load_hold', 'snapshot_ops', 'note_bulk_load',
				  t || ': a COPY into it records a retention hold')
  FROM unnest(ARRAY['position_snapshots', 'metrics_snapshots', 'risk_guard_snapshots']) t;

-- check constraints
SELECT has_check('trading', 'session_snapshots', 'session_snapshots has checks');
SELECT has_check('trading', 'metrics_snapshots', 'metrics_snapshots has checks');
SELECT ok(pg_get_constraintdef(oid) ~ 'running.*stopped.*crashed', 'status is limited to running, stopped, crashed')
  FROM pg_constraint WHERE conname = 'session_snapshots_status_check'
   AND conrelid = 'trading.session_snapshots'::regclass;

-- indexes, by name: exactly these and nothing redundant
SELECT indexes_are('trading', 'session_snapshots', ARRAY['session_snapshots_pkey',
	'idx_session_snapshots_session_time', 'idx_session_snapshots_type', 'idx_session_snapshots_retention']);
SELECT indexes_are('trading', 'position_snapshots', ARRAY['idx_position_snapshots_composite',
	'idx_position_snapshots_trade_data_gin']);
SELECT indexes_are('trading', 'metrics_snapshots', ARRAY['metrics_snapshots_pkey',
	'idx_metrics_snapshots_symbol_pnl_gin', 'idx_metrics_snapshots_symbol_trades_gin']);
SELECT indexes_are('trading', 'risk_guard_snapshots', ARRAY['risk_guard_snapshots_pkey',
	'idx_risk_guard_snapshots_created', 'idx_risk_guard_snapshots_symbol_loss_gin',
	'idx_risk_guard_snapshots_symbol_trades_gin']);
SELECT has_index('trading', 'session_snapshots', 'idx_session_snapshots_session_time',
	ARRAY['session_id', 'created_at', 'snapshot_id'], 'latest-by-session index');
SELECT index_is_type('trading', 'position_snapshots', 'idx_position_snapshots_trade_data_gin', 'gin');
SELECT index_is_type('trading', 'metrics_snapshots', 'idx_metrics_snapshots_symbol_pnl_gin', 'gin');
SELECT index_is_type('trading', 'metrics_snapshots', 'idx_metrics_snapshots_symbol_trades_gin', 'gin');
SELECT index_is_type('trading', 'risk_guard_snapshots', 'idx_risk_guard_snapshots_symbol_loss_gin', 'gin');
SELECT index_is_type('trading', 'risk_guard_snapshots', 'idx_risk_guard_snapshots_symbol_trades_gin', 'gin');
SELECT index_is_primary('trading', 'position_snapshots', 'idx_position_snapshots_composite');
SELECT is((SELECT pg_get_indexdef('trading.idx_session_snapshots_retention'::regclass) ~ '\(created_at\) INCLUDE \(status, session_id\)'),
		  true, 'the retention scan index covers status and session_id');
SELECT is(count(*)::int, 0, 'no index is a prefix duplicate of another on the same table')
  FROM pg_index a JOIN pg_index b
	ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid
   AND (SELECT relam FROM pg_class WHERE oid = a.indexrelid) = (SELECT relam FROM pg_class WHERE oid = b.indexrelid)
   AND array_to_string(b.indkey::int2[], ' ') || ' ' LIKE array_to_string(a.indkey::int2[], ' ') || ' %'
   AND a.indnkeyatts <= b.indnkeyatts
 WHERE a.indrelid IN ('trading.session_snapshots'::regclass, 'trading.position_snapshots'::regclass,
					  'trading.metrics_snapshots'::regclass, 'trading.risk_guard_snapshots'::regclass)
   AND a.indexprs IS NULL AND b.indexprs IS NULL;

-- autovacuum settings from the report
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'trading.session_snapshots'::regclass),
		  ARRAY['autovacuum_vacuum_scale_factor=0.05', 'autovacuum_analyze_scale_factor=0.02',
				'autovacuum_vacuum_cost_delay=10'], 'session_snapshots reloptions');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'trading.position_snapshots'::regclass),
		  ARRAY['autovacuum_vacuum_scale_factor=0.1', 'autovacuum_analyze_scale_factor=0.05'],
		  'position_snapshots reloptions');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'trading.metrics_snapshots'::regclass),
		  ARRAY['autovacuum_vacuum_scale_factor=0.05', 'autovacuum_analyze_scale_factor=0.02'],
		  'metrics_snapshots reloptions');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'trading.risk_guard_snapshots'::regclass),
		  ARRAY['autovacuum_vacuum_scale_factor=0.05', 'autovacuum_analyze_scale_factor=0.02'],
		  'risk_guard_snapshots reloptions');

-- retention holds: a table of the admin schema, not dumped
SELECT has_table('snapshot_ops', 'retention_holds', 'snapshot_ops.retention_holds exists');
SELECT col_is_pk('snapshot_ops', 'retention_holds', 'hold_id', 'hold_id is the key of a hold');
SELECT ok(NOT ('snapshot_ops.retention_holds'::regclass = ANY (extconfig)), 'retention holds are not dumped (a restore makes its own)')
  FROM pg_extension WHERE extname = 'snapshot_ops';

-- views
SELECT views_are('trading', ARRAY['v_latest_snapshots', 'v_latest_snapshot_details',
	'v_session_history', 'v_index_usage_stats']);

-- dump registration: every table and the key sequence
SELECT is((SELECT array_agg(c::regclass::text ORDER BY c::regclass::text)
			 FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'snapshot_ops'
			  AND c IN (SELECT oid FROM pg_class WHERE relnamespace = 'trading'::regnamespace)),
		  ARRAY['trading.metrics_snapshots', 'trading.position_snapshots', 'trading.risk_guard_snapshots',
				'trading.session_snapshots', 'trading.session_snapshots_snapshot_id_seq'],
		  'the four tables and the identity sequence are dumped by pg_dump');

-- nothing for PUBLIC
SELECT table_privs_are('trading', t, 'public', ARRAY[]::text[], t || ': no privileges for PUBLIC')
  FROM unnest(ARRAY['session_snapshots', 'position_snapshots', 'metrics_snapshots', 'risk_guard_snapshots',
					'v_latest_snapshots', 'v_latest_snapshot_details', 'v_session_history',
					'v_index_usage_stats']) t;
SELECT schema_privs_are('snapshot_ops', 'public', ARRAY[]::text[], 'no privileges on the admin schema for PUBLIC');
SELECT is(count(*)::int, 0, 'no extension function is executable by PUBLIC')
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'snapshot_ops')
   AND has_function_privilege('public', p.oid, 'EXECUTE');

-- not relocatable
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'snapshot_ops'), false, 'not relocatable');

SELECT * FROM finish();
ROLLBACK;
