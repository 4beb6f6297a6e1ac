/*-------------------------------------------------------------------------
 *
 * state_store.c
 *		save_snapshot(), load_snapshot() and load_snapshot_by_id().
 *
 * A state document is
 *
 *	{"session":    {"session_id", "start_time", "mode", "paper_campaign_id",
 *					"config", "loop_count", "status"},
 *	 "positions":  {"active_orders": {KEY: {"trade", "order_a", "order_b",
 *											"position_open_time"}}},
 *	 "metrics":    {columns of metrics_snapshots},
 *	 "risk_guard": {columns of risk_guard_snapshots}}
 *
 * Times are epoch seconds (JSON numbers, fractions allowed, stored to the
 * microsecond).  save_snapshot() checks the whole document before it writes
 * anything (state_doc.c: unknown keys, wrong JSON types, negative counters
 * and unknown statuses are errors whose detail names the JSON path at
 * fault).  It then writes the four tables with one statement
 * (data-modifying CTEs, positions from arrays built here), so a save is a
 * single executor run of a kept plan.  load_snapshot() builds the document
 * in one query, in the same shape, with snapshot_id, created_at (epoch
 * seconds) and snapshot_type added at the top level; save_snapshot()
 * accepts and ignores those three keys, so a loaded document can be saved
 * again.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/state_store.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "spi_util.h"
#include "state_doc.h"
#include "state_store.h"

static SoKeptPlan so_save_plan;
static SoKeptPlan so_load_session_plan;
static SoKeptPlan so_load_id_plan;

static char *so_save_sql(const char *qschema);
static char *so_load_by_id_sql(const char *qschema);
static Jsonb *so_run_load(SPIPlanPtr plan, Datum arg);

PG_FUNCTION_INFO_V1(snapshot_ops_save_snapshot);
PG_FUNCTION_INFO_V1(snapshot_ops_load_snapshot);
PG_FUNCTION_INFO_V1(snapshot_ops_load_snapshot_by_id);

/*
 * The save statement: one INSERT per table, chained through the new
 * snapshot_id with data-modifying CTEs, so the foreign keys are checked at
 * the end of the one statement.
 */
static char *
so_save_sql(const char *qschema)
{
	return psprintf(
					"WITH s AS ("
					" INSERT INTO %1$s.session_snapshots (session_id, session_start_time, mode,"
					" paper_campaign_id, config, loop_count, status, snapshot_type)"
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING snapshot_id),"
					" p AS ("
					" INSERT INTO %1$s.position_snapshots (snapshot_id, position_key, trade_data,"
					" order_a_data, order_b_data, position_open_time)"
					" SELECT s.snapshot_id, u.k, u.t, u.a, u.b, u.o"
					" FROM s, ROWS FROM (pg_catalog.unnest($9), pg_catalog.unnest($10),"
					" pg_catalog.unnest($11), pg_catalog.unnest($12), pg_catalog.unnest($13))"
					" AS u(k, t, a, b, o)),"
					" m AS ("
					" INSERT INTO %1$s.metrics_snapshots (snapshot_id, total_trades_opened,"
					" total_trades_closed, total_winning_trades, total_pnl_usd, max_dd_usd,"
					" portfolio_initial_capital, portfolio_equity, per_symbol_pnl,"
					" per_symbol_trades_opened, per_symbol_trades_closed, per_symbol_winning_trades)"
					" SELECT s.snapshot_id, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24 FROM s),"
					" r AS ("
					" INSERT INTO %1$s.risk_guard_snapshots (snapshot_id, session_start_time,"
					" daily_loss_usd, per_symbol_loss, per_symbol_trades_rejected,"
					" per_symbol_trades_allowed, per_symbol_capital_used, per_symbol_position_count)"
					" SELECT s.snapshot_id, $25, $26, $27, $28, $29, $30, $31 FROM s)"
					" SELECT s.snapshot_id FROM s",
					qschema);
}

int64
so_save_state(Oid nspid, Jsonb *state, const char *snapshot_type)
{
	SoSaveArgs	args;
	SPIPlanPtr	plan;
	bool		isnull;
	int64		snapshot_id;

	/* Check everything first: nothing is written for a bad document. */
	so_doc_to_save_args(state, snapshot_type, &args);

	/* The document is valid: write it. */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = so_kept_plan(&so_save_plan, nspid, so_save_sql,
						SO_SAVE_NARGS, (Oid *) so_save_argtypes);
	so_execute_plan(plan, args.values, args.nulls, false, 0, SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "save statement returned " UINT64_FORMAT " rows",
			 SPI_processed);
	snapshot_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1,
											  &isnull));
	SPI_finish();
	return snapshot_id;
}

/*
 * The document of one snapshot row s, built in SQL; shared by both loads.
 * Times come back as epoch seconds without trailing zeros.
 */
#define SO_LOAD_SELECT \
	"SELECT pg_catalog.jsonb_build_object(" \
	" 'snapshot_id', s.snapshot_id," \
	" 'created_at', pg_catalog.trim_scale(EXTRACT(EPOCH FROM s.created_at))," \
	" 'snapshot_type', s.snapshot_type," \
	" 'session', pg_catalog.jsonb_build_object(" \
	"  'session_id', s.session_id," \
	"  'start_time', pg_catalog.trim_scale(EXTRACT(EPOCH FROM s.session_start_time))," \
	"  'mode', s.mode, 'paper_campaign_id', s.paper_campaign_id, 'config', s.config," \
	"  'loop_count', s.loop_count, 'status', s.status)," \
	" 'positions', pg_catalog.jsonb_build_object('active_orders', COALESCE(" \
	"  (SELECT pg_catalog.jsonb_object_agg(p.position_key, pg_catalog.jsonb_build_object(" \
	"    'trade', p.trade_data, 'order_a', p.order_a_data, 'order_b', p.order_b_data," \
	"    'position_open_time', pg_catalog.trim_scale(EXTRACT(EPOCH FROM p.position_open_time))))" \
	"   FROM %1$s.position_snapshots p" \
	"   WHERE p.snapshot_id OPERATOR(pg_catalog.=) s.snapshot_id)," \
	"  '{}'::pg_catalog.jsonb))," \
	" 'metrics', (SELECT pg_catalog.jsonb_build_object(" \
	"   'total_trades_opened', m.total_trades_opened," \
	"   'total_trades_closed', m.total_trades_closed," \
	"   'total_winning_trades', m.total_winning_trades," \
	"   'total_pnl_usd', m.total_pnl_usd, 'max_dd_usd', m.max_dd_usd," \
	"   'portfolio_initial_capital', m.portfolio_initial_capital," \
	"   'portfolio_equity', m.portfolio_equity," \
	"   'per_symbol_pnl', m.per_symbol_pnl," \
	"   'per_symbol_trades_opened', m.per_symbol_trades_opened," \
	"   'per_symbol_trades_closed', m.per_symbol_trades_closed," \
	"   'per_symbol_winning_trades', m.per_symbol_winning_trades)" \
	"  FROM %1$s.metrics_snapshots m" \
	"  WHERE m.snapshot_id OPERATOR(pg_catalog.=) s.snapshot_id)," \
	" 'risk_guard', (SELECT pg_catalog.jsonb_build_object(" \
	"   'session_start_time', pg_catalog.trim_scale(EXTRACT(EPOCH FROM r.session_start_time))," \
	"   'daily_loss_usd', r.daily_loss_usd," \
	"   'per_symbol_loss', r.per_symbol_loss," \
	"   'per_symbol_trades_rejected', r.per_symbol_trades_rejected," \
	"   'per_symbol_trades_allowed', r.per_symbol_trades_allowed," \
	"   'per_symbol_capital_used', r.per_symbol_capital_used," \
	"   'per_symbol_position_count', r.per_symbol_position_count)" \
	"  FROM %1$s.risk_guard_snapshots r" \
	"  WHERE r.snapshot_id OPERATOR(pg_catalog.=) s.snapshot_id))" \
	" FROM %1$s.session_snapshots s "

char *
so_load_by_session_sql(const char *qschema)
{
	return psprintf(SO_LOAD_SELECT
					"WHERE s.session_id OPERATOR(pg_catalog.=) $1"
					" ORDER BY s.created_at DESC, s.snapshot_id DESC LIMIT 1",
					qschema);
}

static char *
so_load_by_id_sql(const char *qschema)
{
	return psprintf(SO_LOAD_SELECT
					"WHERE s.snapshot_id OPERATOR(pg_catalog.=) $1",
					qschema);
}

/* Run a load plan (already connected); the document or NULL, copied out. */
static Jsonb *
so_run_load(SPIPlanPtr plan, Datum arg)
{
	bool		isnull;
	Datum		d;

	so_execute_plan(plan, &arg, NULL, true, 1, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return NULL;
	return DatumGetJsonbP(SPI_datumTransfer(d, false, -1));
}

Jsonb *
so_load_state(Oid nspid, text *session_id)
{
	static Oid	argtypes[1] = {TEXTOID};
	SPIPlanPtr	plan;
	Jsonb	   *result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = so_kept_plan(&so_load_session_plan, nspid, so_load_by_session_sql,
						1, argtypes);
	result = so_run_load(plan, PointerGetDatum(session_id));
	SPI_finish();
	return result;
}

/*
 * save_snapshot(state jsonb, snapshot_type text DEFAULT 'periodic')
 * RETURNS bigint: the new snapshot_id.
 */
Datum
snapshot_ops_save_snapshot(PG_FUNCTION_ARGS)
{
	char	   *snapshot_type;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("state document must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("snapshot type must not be null"),
				 errhint("Use initial, periodic, on_trade or on_stop.")));
	snapshot_type = text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_RETURN_INT64(so_save_state(get_func_namespace(fcinfo->flinfo->fn_oid),
								  PG_GETARG_JSONB_P(0), snapshot_type));
}

/*
 * load_snapshot(session_id text) RETURNS jsonb: the latest snapshot of the
 * session, NULL when it has none.
 */
Datum
snapshot_ops_load_snapshot(PG_FUNCTION_ARGS)
{
	Jsonb	   *result;

	result = so_load_state(get_func_namespace(fcinfo->flinfo->fn_oid),
						   PG_GETARG_TEXT_PP(0));
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(result);
}

/*
 * load_snapshot_by_id(snapshot_id bigint) RETURNS jsonb: one snapshot, NULL
 * when there is no such snapshot.
 */
Datum
snapshot_ops_load_snapshot_by_id(PG_FUNCTION_ARGS)
{
	static Oid	argtypes[1] = {INT8OID};
	SPIPlanPtr	plan;
	Jsonb	   *result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = so_kept_plan(&so_load_id_plan,
						get_func_namespace(fcinfo->flinfo->fn_oid),
						so_load_by_id_sql, 1, argtypes);
	result = so_run_load(plan, PG_GETARG_DATUM(0));
	SPI_finish();
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(result);
}
