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
 * single executor run of a kept plan.  load_snapshot() reads the snapshot
 * with two kept plans and builds the document in C, in the same shape, with snapshot_id, created_at (epoch
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
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "spi_util.h"
#include "state_doc.h"
#include "state_store.h"

static SoKeptPlan so_save_plan;
static SoKeptPlan so_load_session_plan;
static SoKeptPlan so_load_id_plan;
static SoKeptPlan so_load_positions_plan;

static char *so_save_sql(const char *qschema);
static char *so_load_by_id_sql(const char *qschema);
static char *so_load_positions_sql(const char *qschema);
static void so_push_key(JsonbParseState **st, const char *key);
static Jsonb *so_run_load(Oid nspid, SPIPlanPtr plan, Datum arg,
						  MemoryContext result_cxt);

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

	/*
	 * A read-only transaction (a hot standby, default_transaction_read_only)
	 * would refuse the INSERTs with a message about "SELECT", the command of
	 * the save statement; name the function instead.
	 */
	PreventCommandIfReadOnly("save_snapshot()");

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
 * Loading.  One query reads the snapshot row with its metrics and
 * risk_guard rows (LEFT JOINs: a missing row gives null), a second its
 * positions; the document is built here with pushJsonbValue(), which costs
 * far less than jsonb_build_object() per value.  Times come back as epoch
 * seconds without trailing zeros.
 */
#define SO_LOAD_HEADER \
	"SELECT s.snapshot_id," \
	" pg_catalog.trim_scale(EXTRACT(EPOCH FROM s.created_at)), s.snapshot_type," \
	" s.session_id, pg_catalog.trim_scale(EXTRACT(EPOCH FROM s.session_start_time))," \
	" s.mode, s.paper_campaign_id, s.config, s.loop_count, s.status," \
	" m.snapshot_id IS NOT NULL, m.total_trades_opened, m.total_trades_closed," \
	" m.total_winning_trades, m.total_pnl_usd, m.max_dd_usd," \
	" m.portfolio_initial_capital, m.portfolio_equity, m.per_symbol_pnl," \
	" m.per_symbol_trades_opened, m.per_symbol_trades_closed," \
	" m.per_symbol_winning_trades," \
	" r.snapshot_id IS NOT NULL," \
	" pg_catalog.trim_scale(EXTRACT(EPOCH FROM r.session_start_time))," \
	" r.daily_loss_usd, r.per_symbol_loss, r.per_symbol_trades_rejected," \
	" r.per_symbol_trades_allowed, r.per_symbol_capital_used," \
	" r.per_symbol_position_count" \
	" FROM %1$s.session_snapshots s" \
	" LEFT JOIN %1$s.metrics_snapshots m ON m.snapshot_id OPERATOR(pg_catalog.=) s.snapshot_id" \
	" LEFT JOIN %1$s.risk_guard_snapshots r ON r.snapshot_id OPERATOR(pg_catalog.=) s.snapshot_id "

/* How a column goes into the document. */
typedef enum SoColKind
{
	SO_COL_INT8,
	SO_COL_NUMERIC,
	SO_COL_TEXT,
	SO_COL_JSONB
} SoColKind;

typedef struct SoColumn
{
	const char *key;
	int			attno;			/* in the SPI result, from 1 */
	SoColKind	kind;
} SoColumn;

static const SoColumn so_session_cols[] = {
	{"session_id", 4, SO_COL_TEXT},
	{"start_time", 5, SO_COL_NUMERIC},
	{"mode", 6, SO_COL_TEXT},
	{"paper_campaign_id", 7, SO_COL_TEXT},
	{"config", 8, SO_COL_JSONB},
	{"loop_count", 9, SO_COL_INT8},
	{"status", 10, SO_COL_TEXT},
};

#define SO_HAS_METRICS_ATTNO	11
static const SoColumn so_metrics_cols[] = {
	{"total_trades_opened", 12, SO_COL_INT8},
	{"total_trades_closed", 13, SO_COL_INT8},
	{"total_winning_trades", 14, SO_COL_INT8},
	{"total_pnl_usd", 15, SO_COL_NUMERIC},
	{"max_dd_usd", 16, SO_COL_NUMERIC},
	{"portfolio_initial_capital", 17, SO_COL_NUMERIC},
	{"portfolio_equity", 18, SO_COL_NUMERIC},
	{"per_symbol_pnl", 19, SO_COL_JSONB},
	{"per_symbol_trades_opened", 20, SO_COL_JSONB},
	{"per_symbol_trades_closed", 21, SO_COL_JSONB},
	{"per_symbol_winning_trades", 22, SO_COL_JSONB},
};

#define SO_HAS_RISK_ATTNO	23
static const SoColumn so_risk_cols[] = {
	{"session_start_time", 24, SO_COL_NUMERIC},
	{"daily_loss_usd", 25, SO_COL_NUMERIC},
	{"per_symbol_loss", 26, SO_COL_JSONB},
	{"per_symbol_trades_rejected", 27, SO_COL_JSONB},
	{"per_symbol_trades_allowed", 28, SO_COL_JSONB},
	{"per_symbol_capital_used", 29, SO_COL_JSONB},
	{"per_symbol_position_count", 30, SO_COL_JSONB},
};

/* Columns 2 .. 5 of the positions query. */
static const SoColumn so_position_cols[] = {
	{"trade", 2, SO_COL_JSONB},
	{"order_a", 3, SO_COL_JSONB},
	{"order_b", 4, SO_COL_JSONB},
	{"position_open_time", 5, SO_COL_NUMERIC},
};

char *
so_load_by_session_sql(const char *qschema)
{
	return psprintf(SO_LOAD_HEADER
					"WHERE s.session_id OPERATOR(pg_catalog.=) $1"
					" ORDER BY s.created_at DESC, s.snapshot_id DESC LIMIT 1",
					qschema);
}

static char *
so_load_by_id_sql(const char *qschema)
{
	return psprintf(SO_LOAD_HEADER
					"WHERE s.snapshot_id OPERATOR(pg_catalog.=) $1",
					qschema);
}

static char *
so_load_positions_sql(const char *qschema)
{
	return psprintf("SELECT p.position_key, p.trade_data, p.order_a_data,"
					" p.order_b_data,"
					" pg_catalog.trim_scale(EXTRACT(EPOCH FROM p.position_open_time))"
					" FROM %s.position_snapshots p"
					" WHERE p.snapshot_id OPERATOR(pg_catalog.=) $1",
					qschema);
}

/* Push an object key. */
static void
so_push_key(JsonbParseState **st, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(st, WJB_KEY, &k);
}

/* Push the value of one column of an SPI row. */
static void
so_push_column(JsonbParseState **st, HeapTuple tuple, TupleDesc tupdesc,
			   int attno, SoColKind kind)
{
	JsonbValue	v;
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, tupdesc, attno, &isnull);

	if (isnull)
	{
		v.type = jbvNull;
		pushJsonbValue(st, WJB_VALUE, &v);
		return;
	}
	switch (kind)
	{
		case SO_COL_INT8:
			v.type = jbvNumeric;
			v.val.numeric = int64_to_numeric(DatumGetInt64(d));
			break;
		case SO_COL_NUMERIC:
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(d);
			break;
		case SO_COL_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				v.type = jbvString;
				v.val.string.val = VARDATA_ANY(t);
				v.val.string.len = VARSIZE_ANY_EXHDR(t);
			}
			break;
		case SO_COL_JSONB:
			{
				Jsonb	   *j = DatumGetJsonbP(d);

				/* a binary value is unpacked into the document */
				v.type = jbvBinary;
				v.val.binary.data = &j->root;
				v.val.binary.len = VARSIZE(j) - VARHDRSZ;
			}
			break;
	}
	pushJsonbValue(st, WJB_VALUE, &v);
}

/* Push key: {columns...}, or key: null when present is false. */
static void
so_push_object(JsonbParseState **st, const char *key, bool present,
			   HeapTuple tuple, TupleDesc tupdesc,
			   const SoColumn *cols, int ncols)
{
	so_push_key(st, key);
	if (!present)
	{
		JsonbValue	v;

		v.type = jbvNull;
		pushJsonbValue(st, WJB_VALUE, &v);
		return;
	}
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < ncols; i++)
	{
		so_push_key(st, cols[i].key);
		so_push_column(st, tuple, tupdesc, cols[i].attno, cols[i].kind);
	}
	pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

/*
 * Run a header plan (already connected) and build the document, allocated
 * in result_cxt; NULL when there is no such snapshot.
 */
static Jsonb *
so_run_load(Oid nspid, SPIPlanPtr plan, Datum arg, MemoryContext result_cxt)
{
	static Oid	argtypes[1] = {INT8OID};
	SPIPlanPtr	pos_plan;
	SPITupleTable *header;
	HeapTuple	row;
	TupleDesc	desc;
	JsonbParseState *st = NULL;
	JsonbValue *doc;
	Datum		snapshot_id;
	bool		isnull;
	MemoryContext oldcxt;
	Jsonb	   *result;

	so_execute_plan(plan, &arg, NULL, true, 1, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	header = SPI_tuptable;
	row = header->vals[0];
	desc = header->tupdesc;
	snapshot_id = SPI_getbinval(row, desc, 1, &isnull);

	pos_plan = so_kept_plan(&so_load_positions_plan, nspid,
							so_load_positions_sql, 1, argtypes);
	so_execute_plan(pos_plan, &snapshot_id, NULL, true, 0, SPI_OK_SELECT);

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	so_push_key(&st, "snapshot_id");
	so_push_column(&st, row, desc, 1, SO_COL_INT8);
	so_push_key(&st, "created_at");
	so_push_column(&st, row, desc, 2, SO_COL_NUMERIC);
	so_push_key(&st, "snapshot_type");
	so_push_column(&st, row, desc, 3, SO_COL_TEXT);
	so_push_object(&st, "session", true, row, desc,
				   so_session_cols, lengthof(so_session_cols));

	so_push_key(&st, "positions");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	so_push_key(&st, "active_orders");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	p = SPI_tuptable->vals[i];
		TupleDesc	pdesc = SPI_tuptable->tupdesc;
		text	   *key = DatumGetTextPP(SPI_getbinval(p, pdesc, 1, &isnull));
		JsonbValue	k;

		k.type = jbvString;
		k.val.string.val = VARDATA_ANY(key);
		k.val.string.len = VARSIZE_ANY_EXHDR(key);
		pushJsonbValue(&st, WJB_KEY, &k);
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		for (int c = 0; c < (int) lengthof(so_position_cols); c++)
		{
			so_push_key(&st, so_position_cols[c].key);
			so_push_column(&st, p, pdesc, so_position_cols[c].attno,
						   so_position_cols[c].kind);
		}
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);

	so_push_object(&st, "metrics",
				   DatumGetBool(SPI_getbinval(row, desc, SO_HAS_METRICS_ATTNO, &isnull)),
				   row, desc, so_metrics_cols, lengthof(so_metrics_cols));
	so_push_object(&st, "risk_guard",
				   DatumGetBool(SPI_getbinval(row, desc, SO_HAS_RISK_ATTNO, &isnull)),
				   row, desc, so_risk_cols, lengthof(so_risk_cols));
	doc = pushJsonbValue(&st, WJB_END_OBJECT, NULL);

	oldcxt = MemoryContextSwitchTo(result_cxt);
	result = JsonbValueToJsonb(doc);
	MemoryContextSwitchTo(oldcxt);
	return result;
}

Jsonb *
so_load_state(Oid nspid, text *session_id)
{
	static Oid	argtypes[1] = {TEXTOID};
	MemoryContext result_cxt = CurrentMemoryContext;
	SPIPlanPtr	plan;
	Jsonb	   *result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = so_kept_plan(&so_load_session_plan, nspid, so_load_by_session_sql,
						1, argtypes);
	result = so_run_load(nspid, plan, PointerGetDatum(session_id), result_cxt);
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
	Oid			nspid = get_func_namespace(fcinfo->flinfo->fn_oid);
	MemoryContext result_cxt = CurrentMemoryContext;
	SPIPlanPtr	plan;
	Jsonb	   *result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = so_kept_plan(&so_load_id_plan, nspid, so_load_by_id_sql,
						1, argtypes);
	result = so_run_load(nspid, plan, PG_GETARG_DATUM(0), result_cxt);
	SPI_finish();
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(result);
}
