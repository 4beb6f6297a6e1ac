/*-------------------------------------------------------------------------
 *
 * state_doc.c
 *		Checking a state document and turning it into the parameters of the
 *		save statement.
 *
 * Every key must be known, every value of the right JSON type (true is not
 * 1, "5" is not 5, 5.5 is not an integer), counters non-negative, statuses
 * known; an error names the JSON path at fault in its detail.  The whole
 * document is checked before save_snapshot() writes anything.  Times are
 * epoch seconds, converted exactly (numeric arithmetic) and rounded to the
 * microsecond.  The document shape is described in sql/1.0/30_api.sql and
 * src/state_store.c.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/state_doc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "spi_util.h"
#include "state_doc.h"

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

/*
 * Longest session_id and position key, in bytes: both are in btree keys,
 * whose entries must fit in a third of a page (about 2700 bytes).
 */
#define SO_MAX_KEY_BYTES	1000

#define SO_ARG_POSITIONS	8	/* first of the five position arrays */
#define SO_ARG_METRICS	13
#define SO_ARG_RISK		24

/* Types of the save statement's parameters, in the order above. */
const Oid	so_save_argtypes[SO_SAVE_NARGS] = {
	TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, JSONBOID, INT8OID, TEXTOID, TEXTOID,
	TEXTARRAYOID, JSONBARRAYOID, JSONBARRAYOID, JSONBARRAYOID, TIMESTAMPTZARRAYOID,
	INT8OID, INT8OID, INT8OID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID,
	JSONBOID, JSONBOID, JSONBOID, JSONBOID,
	TIMESTAMPTZOID, NUMERICOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID
};

static void so_doc_error(int sqlstate, const char *path, const char *hint,
						 const char *fmt,...) pg_attribute_printf(4, 5) pg_attribute_noreturn();
static const char *so_json_type(const JsonbValue *v);
static char *so_path(const char *parent, const char *key, int keylen);
static int64 so_read_count(const JsonbValue *v, const char *path);
static Datum so_read_epoch(const JsonbValue *v, const char *path);
static void so_check_map(const JsonbValue *v, const char *path, bool counts);
static JsonbContainer *so_object_container(const JsonbValue *v, const char *path);
static void so_read_object(JsonbContainer *obj, const char *path,
						   const SoField *fields, int nfields, SoObject *out);

/*
 * Report a malformed document: errmsg says what is wrong, errdetail where.
 */
static void
so_doc_error(int sqlstate, const char *path, const char *hint,
			 const char *fmt,...)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("invalid snapshot document: %s", buf.data),
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

/*
 * "parent.key", or "key" at the top level; a long key is clipped as
 * so_clip() does, since the path only ever appears in messages.  Built for
 * every key of every saved document: one allocation.
 */
static char *
so_path(const char *parent, const char *key, int keylen)
{
	int			keep = so_clip_len(key, keylen);
	const char *more = keep < keylen ? "..." : "";

	if (parent[0] == '\0')
		return psprintf("%.*s%s", keep, key, more);
	return psprintf("%s.%.*s%s", parent, keep, key, more);
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
							 "unknown key \"%s\"",
							 so_clip(val.val.string.val, val.val.string.len));
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
					if (val.val.string.len > SO_MAX_KEY_BYTES)
						so_doc_error(ERRCODE_STRING_DATA_RIGHT_TRUNCATION, fpath, NULL,
									 "string of %d bytes is longer than the limit of %d bytes",
									 val.val.string.len, SO_MAX_KEY_BYTES);
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
										 "unknown status \"%s\"", so_clip(status, -1));
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
void
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
				 errmsg("invalid snapshot type \"%s\"", so_clip(snapshot_type, -1)),
				 errdetail("A snapshot type is a lower-case identifier of at most 63 characters."),
				 errhint("Use initial, periodic, on_trade, on_stop or a name of your own in that form.")));
}

/*
 * Check a whole document and fill args with the save statement's
 * parameters; ERROR (nothing written yet) for any mistake.
 */
void
so_doc_to_save_args(Jsonb *state, const char *snapshot_type, SoSaveArgs *args)
{
	SoObject	doc;
	SoObject	sec;

	/* Check everything first: nothing is written for a bad document. */
	so_check_snapshot_type(snapshot_type);
	if (!JB_ROOT_IS_OBJECT(state) || JB_ROOT_IS_SCALAR(state))
		so_doc_error(ERRCODE_INVALID_PARAMETER_VALUE, "(root)", NULL,
					 "expected an object at the top level, found %s",
					 JB_ROOT_IS_SCALAR(state) ? "a scalar" : "an array");
	so_read_object(&state->root, "", so_doc_fields,
				   SO_NFIELDS(so_doc_fields), &doc);

	memset(args->nulls, 'n', sizeof(args->nulls));
	memset(args->values, 0, sizeof(args->values));

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
		args->values[i] = sec.values[i];
		args->nulls[i] = sec.isnull[i] ? 'n' : ' ';
	}
	args->values[7] = CStringGetTextDatum(snapshot_type);
	args->nulls[7] = ' ';

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
					if (val.val.string.len > SO_MAX_KEY_BYTES)
						so_doc_error(ERRCODE_STRING_DATA_RIGHT_TRUNCATION,
									 ppath, NULL,
									 "position key of %d bytes is longer than the limit of %d bytes",
									 val.val.string.len, SO_MAX_KEY_BYTES);
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
				args->values[SO_ARG_POSITIONS + c] =
					PointerGetDatum(construct_md_array(cols[c], colnulls[c],
													   n > 0 ? 1 : 0, dims, lbs,
													   elemtypes[c], typlen,
													   typbyval, typalign));
				args->nulls[SO_ARG_POSITIONS + c] = ' ';
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
		args->values[SO_ARG_METRICS + i] = sec.values[i];
		args->nulls[SO_ARG_METRICS + i] = sec.isnull[i] ? 'n' : ' ';
	}

	if (doc.present[3])
	{
		so_read_object(doc.sections[3], "risk_guard", so_risk_fields,
					   SO_NFIELDS(so_risk_fields), &sec);
		for (int i = 0; i < SO_NFIELDS(so_risk_fields); i++)
		{
			args->values[SO_ARG_RISK + i] = sec.values[i];
			args->nulls[SO_ARG_RISK + i] = sec.isnull[i] ? 'n' : ' ';
		}
	}
}
