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
 * anything: unknown keys, wrong JSON types (true is not 1, "5" is not 5),
 * negative counters and unknown statuses are errors whose detail names the
 * JSON path at fault.  It then writes the four tables with one statement
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
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "spi_util.h"
#include "state_store.h"

/* What a key of the document may hold. */
typedef enum SoFieldKind
{
	SO_FIELD_ID,				/* non-empty string, required */
	SO_FIELD_TEXT,				/* string or null */
	SO_FIELD_STATUS,			/* "running", "stopped" or "crashed" */
	SO_FIELD_EPOCH,				/* epoch seconds or null -> timestamptz */
	SO_FIELD_COUNT,				/* non-negative integer -> bigint, default 0 */
	SO_FIELD_NUMBER,			/* number or null -> numeric */
	SO_FIELD_OBJECT,			/* object or null -> jsonb */
	SO_FIELD_NUMBER_MAP,		/* object of numbers, or null -> jsonb */
	SO_FIELD_COUNT_MAP,			/* object of non-negative integers, or null */
	SO_FIELD_SECTION,			/* object checked by the caller */
	SO_FIELD_OUTPUT_ONLY		/* written by load_snapshot(), ignored here */
} SoFieldKind;

typedef struct SoField
{
	const char *name;
	SoFieldKind kind;
} SoField;

/* One object of the document, read against its field list. */
typedef struct SoObject
{
	Datum		values[12];
	bool		isnull[12];
	bool		present[12];
	JsonbContainer *sections[12];	/* for SO_FIELD_SECTION */
} SoObject;

/* Top level. */
static const SoField so_doc_fields[] = {
	{"session", SO_FIELD_SECTION},
	{"positions", SO_FIELD_SECTION},
	{"metrics", SO_FIELD_SECTION},
	{"risk_guard", SO_FIELD_SECTION},
	{"snapshot_id", SO_FIELD_OUTPUT_ONLY},
	{"created_at", SO_FIELD_OUTPUT_ONLY},
	{"snapshot_type", SO_FIELD_OUTPUT_ONLY},
};

/* "session", in the column order of the INSERT ($1 .. $7). */
static const SoField so_session_fields[] = {
	{"session_id", SO_FIELD_ID},
	{"start_time", SO_FIELD_EPOCH},
	{"mode", SO_FIELD_TEXT},
	{"paper_campaign_id", SO_FIELD_TEXT},
	{"config", SO_FIELD_OBJECT},
	{"loop_count", SO_FIELD_COUNT},
	{"status", SO_FIELD_STATUS},
};

static const SoField so_positions_fields[] = {
	{"active_orders", SO_FIELD_SECTION},
};

/* One position, in the order of the arrays $10 .. $13. */
static const SoField so_position_fields[] = {
	{"trade", SO_FIELD_OBJECT},
	{"order_a", SO_FIELD_OBJECT},
	{"order_b", SO_FIELD_OBJECT},
	{"position_open_time", SO_FIELD_EPOCH},
};

/* "metrics", in column order ($14 .. $24). */
static const SoField so_metrics_fields[] = {
	{"total_trades_opened", SO_FIELD_COUNT},
	{"total_trades_closed", SO_FIELD_COUNT},
	{"total_winning_trades", SO_FIELD_COUNT},
	{"total_pnl_usd", SO_FIELD_NUMBER},
	{"max_dd_usd", SO_FIELD_NUMBER},
	{"portfolio_initial_capital", SO_FIELD_NUMBER},
	{"portfolio_equity", SO_FIELD_NUMBER},
	{"per_symbol_pnl", SO_FIELD_NUMBER_MAP},
	{"per_symbol_trades_opened", SO_FIELD_COUNT_MAP},
	{"per_symbol_trades_closed", SO_FIELD_COUNT_MAP},
	{"per_symbol_winning_trades", SO_FIELD_COUNT_MAP},
};

/* "risk_guard", in column order ($25 .. $31). */
static const SoField so_risk_fields[] = {
	{"session_start_time", SO_FIELD_EPOCH},
	{"daily_loss_usd", SO_FIELD_NUMBER},
	{"per_symbol_loss", SO_FIELD_NUMBER_MAP},
	{"per_symbol_trades_rejected", SO_FIELD_COUNT_MAP},
	{"per_symbol_trades_allowed", SO_FIELD_COUNT_MAP},
	{"per_symbol_capital_used", SO_FIELD_NUMBER_MAP},
	{"per_symbol_position_count", SO_FIELD_COUNT_MAP},
};

#define SO_NFIELDS(a)	((int) lengthof(a))

#define SO_SAVE_NARGS	31
#define SO_ARG_POSITIONS	8	/* first of the five position arrays */
#define SO_ARG_METRICS	13
#define SO_ARG_RISK		24

static SoKeptPlan so_save_plan;
static SoKeptPlan so_load_session_plan;
static SoKeptPlan so_load_id_plan;

static void so_doc_error(int sqlstate, const char *path, const char *hint,
						 const char *fmt,...) pg_attribute_printf(4, 5);
static const char *so_json_type(const JsonbValue *v);
static char *so_path(const char *parent, const char *key, int keylen);
static int64 so_read_count(const JsonbValue *v, const char *path);
static Datum so_read_epoch(const JsonbValue *v, const char *path);
static void so_check_map(const JsonbValue *v, const char *path, bool counts);
static JsonbContainer *so_object_container(const JsonbValue *v, const char *path);
static void so_read_object(JsonbContainer *obj, const char *path,
						   const SoField *fields, int nfields, SoObject *out);
static void so_check_snapshot_type(const char *snapshot_type);
static char *so_save_sql(const char *qschema);
static char *so_load_by_id_sql(const char *qschema);
static Jsonb *so_run_load(SPIPlanPtr plan, Datum arg);

PG_FUNCTION_INFO_V1(snapshot_ops_save_snapshot);
PG_FUNCTION_INFO_V1(snapshot_ops_load_snapshot);
PG_FUNCTION_INFO_V1(snapshot_ops_load_snapshot_by_id);

/*
 * Report a malformed document: errmsg says what is wrong, errdetail where.
 */
static void
so_doc_error(int sqlstate, const char *path, const char *hint,
			 const char *fmt,...)
{
	char		buf[512];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("invalid snapshot document: %s", buf),
			 errdetail("The value at JSON path \"%s\" is at fault.", path),
			 hint ? errhint("%s", hint) : 0));
}

/* A JSON value's type, for messages. */
static const char *
so_json_type(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvArray:
			return "an array";
		case jbvObject:
			return "an object";
		case jbvBinary:
			if (JsonContainerIsObject(v->val.binary.data))
				return "an object";
			return "an array";
		default:
			return "an unexpected value";
	}
}

/* "parent.key", or "key" at the top level. */
static char *
so_path(const char *parent, const char *key, int keylen)
{
	if (parent[0] == '\0')
		return pnstrdup(key, keylen);
	return psprintf("%s.%.*s", parent, keylen, key);
}

/*
 * A non-negative integer that fits in bigint.  5.0 is accepted (it is the
 * integer 5 written with a fraction); 5.5, "5" and true are not.
 */
static int64
so_read_count(const JsonbValue *v, const char *path)
{
	Datum		num;
	Datum		truncated;

	if (v->type != jbvNumeric)
		so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, path, NULL,
					 "expected a non-negative integer, found %s",
					 so_json_type(v));
	num = NumericGetDatum(v->val.numeric);
	truncated = DirectFunctionCall2(numeric_trunc, num, Int32GetDatum(0));
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, num, truncated)) != 0)
		so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, path, NULL,
					 "expected a non-negative integer, found a fraction");
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, num,
										  NumericGetDatum(int64_to_numeric(0)))) < 0)
		so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, path, NULL,
					 "expected a non-negative integer, found a negative number");
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, num,
										  NumericGetDatum(int64_to_numeric(PG_INT64_MAX)))) > 0)
		so_doc_error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, path, NULL,
					 "integer out of range for type bigint");
	return DatumGetInt64(DirectFunctionCall1(numeric_int8, num));
}

/*
 * Epoch seconds to timestamptz, exactly (numeric arithmetic, rounded to the
 * microsecond).  JSON null is handled by the caller.
 */
static Datum
so_read_epoch(const JsonbValue *v, const char *path)
{
	Numeric		usecs;
	Datum		rounded;
	Datum		pg_usecs;
	const int64 epoch_shift = (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

	if (v->type != jbvNumeric)
		so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, path, NULL,
					 "expected epoch seconds (a number), found %s",
					 so_json_type(v));
	usecs = numeric_mul_opt_error(v->val.numeric, int64_to_numeric(USECS_PER_SEC),
								  NULL);
	rounded = DirectFunctionCall2(numeric_round, NumericGetDatum(usecs),
								  Int32GetDatum(0));
	/* microseconds since 2000-01-01, still as numeric */
	pg_usecs = NumericGetDatum(numeric_sub_opt_error(DatumGetNumeric(rounded),
													 int64_to_numeric(epoch_shift),
													 NULL));
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, pg_usecs,
										  NumericGetDatum(int64_to_numeric(MIN_TIMESTAMP)))) < 0 ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, pg_usecs,
										  NumericGetDatum(int64_to_numeric(END_TIMESTAMP - 1)))) > 0)
		so_doc_error(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, path, NULL,
					 "epoch seconds out of range for type timestamp with time zone");
	return TimestampTzGetDatum(DatumGetInt64(DirectFunctionCall1(numeric_int8,
																 pg_usecs)));
}

/* The container of an object value; ERROR for anything else. */
static JsonbContainer *
so_object_container(const JsonbValue *v, const char *path)
{
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, path, NULL,
					 "expected an object, found %s", so_json_type(v));
	return v->val.binary.data;
}

/* A per-symbol object: every value a number (counts: a count). */
static void
so_check_map(const JsonbValue *v, const char *path, bool counts)
{
	JsonbContainer *obj = so_object_container(v, path);
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	key;
	JsonbValue	val;
	JsonbIteratorToken tok;

	key.type = jbvString;
	key.val.string.val = "";
	key.val.string.len = 0;
	while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = val;
		else if (tok == WJB_VALUE)
		{
			char	   *vpath = so_path(path, key.val.string.val,
										key.val.string.len);

			if (counts)
				(void) so_read_count(&val, vpath);
			else if (val.type != jbvNumeric)
				so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, vpath, NULL,
							 "expected a number, found %s", so_json_type(&val));
			pfree(vpath);
		}
	}
}

/*
 * Read one object of the document against its list of fields: every key
 * must be known, every value of the right type.  Results go to out, in the
 * order of fields; absent keys are flagged there for the caller's defaults.
 */
static void
so_read_object(JsonbContainer *obj, const char *path,
			   const SoField *fields, int nfields, SoObject *out)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	val;
	JsonbIteratorToken tok;
	int			current = -1;
	char	   *fpath = NULL;

	Assert(nfields <= (int) lengthof(out->values));
	memset(out, 0, sizeof(SoObject));
	for (int i = 0; i < nfields; i++)
		out->isnull[i] = true;

	while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			current = -1;
			for (int i = 0; i < nfields; i++)
			{
				if (strlen(fields[i].name) == (size_t) val.val.string.len &&
					memcmp(fields[i].name, val.val.string.val,
						   val.val.string.len) == 0)
				{
					current = i;
					break;
				}
			}
			fpath = so_path(path, val.val.string.val, val.val.string.len);
			if (current < 0)
			{
				StringInfoData known;

				initStringInfo(&known);
				for (int i = 0; i < nfields; i++)
					if (fields[i].kind != SO_FIELD_OUTPUT_ONLY)
						appendStringInfo(&known, "%s%s", i > 0 ? ", " : "",
										 fields[i].name);
				so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, fpath,
							 psprintf("Known keys here: %s.", known.data),
							 "unknown key \"%.*s\"",
							 val.val.string.len, val.val.string.val);
			}
		}
		else if (tok == WJB_VALUE)
		{
			const SoField *f = &fields[current];

			out->present[current] = true;
			if (val.type == jbvNull &&
				(f->kind == SO_FIELD_TEXT || f->kind == SO_FIELD_EPOCH ||
				 f->kind == SO_FIELD_NUMBER || f->kind == SO_FIELD_OBJECT ||
				 f->kind == SO_FIELD_NUMBER_MAP || f->kind == SO_FIELD_COUNT_MAP ||
				 f->kind == SO_FIELD_OUTPUT_ONLY))
				continue;		/* SQL NULL */

			switch (f->kind)
			{
				case SO_FIELD_ID:
					if (val.type != jbvString)
						so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, fpath, NULL,
									 "expected a non-empty string, found %s",
									 so_json_type(&val));
					if (val.val.string.len == 0)
						so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, fpath, NULL,
									 "expected a non-empty string, found an empty string");
					/* FALLTHROUGH */
				case SO_FIELD_TEXT:
					if (val.type != jbvString)
						so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, fpath, NULL,
									 "expected a string, found %s",
									 so_json_type(&val));
					out->values[current] = PointerGetDatum(
														   cstring_to_text_with_len(val.val.string.val,
																					val.val.string.len));
					break;
				case SO_FIELD_STATUS:
					if (val.type != jbvString)
						so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, fpath,
									 "Valid statuses are running, stopped and crashed.",
									 "expected a status string, found %s",
									 so_json_type(&val));
					{
						char	   *status = pnstrdup(val.val.string.val,
													  val.val.string.len);

						if (strcmp(status, "running") != 0 &&
							strcmp(status, "stopped") != 0 &&
							strcmp(status, "crashed") != 0)
							so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, fpath,
										 "Valid statuses are running, stopped and crashed.",
										 "unknown status \"%s\"", status);
						out->values[current] = CStringGetTextDatum(status);
					}
					break;
				case SO_FIELD_EPOCH:
					out->values[current] = so_read_epoch(&val, fpath);
					break;
				case SO_FIELD_COUNT:
					out->values[current] = Int64GetDatum(so_read_count(&val, fpath));
					break;
				case SO_FIELD_NUMBER:
					if (val.type != jbvNumeric)
						so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, fpath, NULL,
									 "expected a number, found %s",
									 so_json_type(&val));
					out->values[current] = NumericGetDatum(val.val.numeric);
					break;
				case SO_FIELD_NUMBER_MAP:
				case SO_FIELD_COUNT_MAP:
					so_check_map(&val, fpath, f->kind == SO_FIELD_COUNT_MAP);
					/* FALLTHROUGH */
				case SO_FIELD_OBJECT:
					(void) so_object_container(&val, fpath);
					out->values[current] = JsonbPGetDatum(JsonbValueToJsonb(&val));
					break;
				case SO_FIELD_SECTION:
					out->sections[current] = so_object_container(&val, fpath);
					out->isnull[current] = false;
					continue;
				case SO_FIELD_OUTPUT_ONLY:
					continue;
			}
			out->isnull[current] = false;
		}
	}
}

/* snapshot_type must satisfy the table's CHECK; say so before writing. */
static void
so_check_snapshot_type(const char *snapshot_type)
{
	size_t		len = strlen(snapshot_type);
	bool		ok = len >= 1 && len <= 63 &&
		snapshot_type[0] >= 'a' && snapshot_type[0] <= 'z';

	for (size_t i = 1; ok && i < len; i++)
	{
		char		c = snapshot_type[i];

		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid snapshot type \"%s\"", snapshot_type),
				 errdetail("A snapshot type is a lower-case identifier of at most 63 characters."),
				 errhint("Use initial, periodic, on_trade, on_stop or a name of your own in that form.")));
}

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
	static Oid	argtypes[SO_SAVE_NARGS] = {
		TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, JSONBOID, INT8OID, TEXTOID, TEXTOID,
		TEXTARRAYOID, JSONBARRAYOID, JSONBARRAYOID, JSONBARRAYOID, TIMESTAMPTZARRAYOID,
		INT8OID, INT8OID, INT8OID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID,
		JSONBOID, JSONBOID, JSONBOID, JSONBOID,
		TIMESTAMPTZOID, NUMERICOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID
	};
	Datum		values[SO_SAVE_NARGS];
	char		nulls[SO_SAVE_NARGS];
	SoObject	doc;
	SoObject	sec;
	SPIPlanPtr	plan;
	bool		isnull;
	int64		snapshot_id;

	/* Check everything first: nothing is written for a bad document. */
	so_check_snapshot_type(snapshot_type);
	if (!JB_ROOT_IS_OBJECT(state) || JB_ROOT_IS_SCALAR(state))
		so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, "(root)", NULL,
					 "expected an object at the top level, found %s",
					 JB_ROOT_IS_SCALAR(state) ? "a scalar" : "an array");
	so_read_object(&state->root, "", so_doc_fields,
				   SO_NFIELDS(so_doc_fields), &doc);

	memset(nulls, 'n', sizeof(nulls));
	memset(values, 0, sizeof(values));

	/* session: required, session_id required */
	if (!doc.present[0])
		so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, "session", NULL,
					 "missing required key \"session\"");
	so_read_object(doc.sections[0], "session", so_session_fields,
				   SO_NFIELDS(so_session_fields), &sec);
	if (!sec.present[0])
		so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, "session.session_id", NULL,
					 "missing required key \"session_id\"");
	if (!sec.present[5])
	{
		sec.values[5] = Int64GetDatum(0);
		sec.isnull[5] = false;
	}
	if (!sec.present[6])
	{
		sec.values[6] = CStringGetTextDatum("running");
		sec.isnull[6] = false;
	}
	for (int i = 0; i < SO_NFIELDS(so_session_fields); i++)
	{
		values[i] = sec.values[i];
		nulls[i] = sec.isnull[i] ? 'n' : ' ';
	}
	values[7] = CStringGetTextDatum(snapshot_type);
	nulls[7] = ' ';

	/* positions: {"active_orders": {KEY: {...}}}, into five arrays */
	if (doc.present[1])
	{
		SoObject	pos;

		so_read_object(doc.sections[1], "positions", so_positions_fields,
					   SO_NFIELDS(so_positions_fields), &pos);
		if (pos.present[0])
		{
			JsonbContainer *orders = pos.sections[0];
			int			n = JsonContainerSize(orders);
			Datum	   *cols[5];
			bool	   *colnulls[5];
			JsonbIterator *it = JsonbIteratorInit(orders);
			JsonbValue	val;
			JsonbIteratorToken tok;
			int			i = -1;
			char	   *ppath = NULL;
			static const Oid elemtypes[5] = {TEXTOID, JSONBOID, JSONBOID, JSONBOID, TIMESTAMPTZOID};

			for (int c = 0; c < 5; c++)
			{
				cols[c] = palloc0(sizeof(Datum) * Max(n, 1));
				colnulls[c] = palloc0(sizeof(bool) * Max(n, 1));
			}
			while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
			{
				if (tok == WJB_KEY)
				{
					i++;
					ppath = so_path("positions.active_orders",
									val.val.string.val, val.val.string.len);
					if (val.val.string.len == 0)
						so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, ppath, NULL,
									 "empty position key");
					cols[0][i] = PointerGetDatum(cstring_to_text_with_len(val.val.string.val,
																		  val.val.string.len));
				}
				else if (tok == WJB_VALUE)
				{
					SoObject	one;

					so_read_object(so_object_container(&val, ppath), ppath,
								   so_position_fields,
								   SO_NFIELDS(so_position_fields), &one);
					for (int c = 0; c < 4; c++)
					{
						cols[c + 1][i] = one.values[c];
						colnulls[c + 1][i] = one.isnull[c];
					}
				}
			}
			Assert(i + 1 == n);
			for (int c = 0; c < 5; c++)
			{
				int16		typlen;
				bool		typbyval;
				char		typalign;
				int			dims[1] = {n};
				int			lbs[1] = {1};

				get_typlenbyvalalign(elemtypes[c], &typlen, &typbyval, &typalign);
				values[SO_ARG_POSITIONS + c] =
					PointerGetDatum(construct_md_array(cols[c], colnulls[c],
													   n > 0 ? 1 : 0, dims, lbs,
													   elemtypes[c], typlen,
													   typbyval, typalign));
				nulls[SO_ARG_POSITIONS + c] = ' ';
			}
		}
	}

	/* metrics and risk_guard: one row each, defaults when absent */
	if (doc.present[2])
		so_read_object(doc.sections[2], "metrics", so_metrics_fields,
					   SO_NFIELDS(so_metrics_fields), &sec);
	else
	{
		memset(&sec, 0, sizeof(sec));
		for (int i = 0; i < SO_NFIELDS(so_metrics_fields); i++)
			sec.isnull[i] = true;
	}
	for (int i = 0; i < SO_NFIELDS(so_metrics_fields); i++)
	{
		if (so_metrics_fields[i].kind == SO_FIELD_COUNT && !sec.present[i])
		{
			sec.values[i] = Int64GetDatum(0);
			sec.isnull[i] = false;
		}
		values[SO_ARG_METRICS + i] = sec.values[i];
		nulls[SO_ARG_METRICS + i] = sec.isnull[i] ? 'n' : ' ';
	}

	if (doc.present[3])
	{
		so_read_object(doc.sections[3], "risk_guard", so_risk_fields,
					   SO_NFIELDS(so_risk_fields), &sec);
		for (int i = 0; i < SO_NFIELDS(so_risk_fields); i++)
		{
			values[SO_ARG_RISK + i] = sec.values[i];
			nulls[SO_ARG_RISK + i] = sec.isnull[i] ? 'n' : ' ';
		}
	}

	/* The document is valid: write it. */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = so_kept_plan(&so_save_plan, nspid, so_save_sql,
						SO_SAVE_NARGS, argtypes);
	so_execute_plan(plan, values, nulls, false, 0, SPI_OK_SELECT);
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
