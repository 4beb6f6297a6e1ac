/*-------------------------------------------------------------------------
 *
 * holds.c
 *		Retention holds: the trigger that records one for every bulk load,
 *		so_retention_held() for the retention code, and the DBA's functions
 *		snapshot_ops.hold_retention(), release_retention() and
 *		list_retention_holds().
 *
 * A restore brings back snapshots as old as the backup, often older than
 * snapshot_ops.retention_period, and job history that may say a cleanup is
 * overdue: the worker's catch-up run, or the next scheduled one, would
 * delete them minutes after they arrive.  A DBA restores an old backup to
 * look at old data, so restored data is kept until the DBA says otherwise:
 *
 *	- "Restored" means any bulk load.  Every COPY FROM into one of the four
 *	  snapshot tables (which is how pg_restore, psql with a plain dump,
 *	  snapshot_ops_backup restore and data-only restores load rows; see
 *	  src/refint.c for how the trigger knows) records a hold, source
 *	  "bulk_load", reason "bulk load (COPY) into schema.table", in the
 *	  transaction of the COPY: the rows and their hold commit together.
 *	  One hold per COPY statement, even one that loads no rows.
 *	- snapshot_ops.hold_retention(reason) records a "manual" hold, for loads
 *	  that fire no triggers (pg_restore --disable-triggers, or restoring an
 *	  --inserts dump with session_replication_role = replica) or any other
 *	  reason to keep everything for a while.
 *	- While any hold exists, retention deletes nothing (so_expire() in
 *	  src/retention.c, which every retention path goes through).
 *	- snapshot_ops.release_retention(force) removes every hold and returns
 *	  how many.  First it counts the child rows whose parent is missing,
 *	  what a bulk load may have left behind (src/refint.c), and refuses
 *	  (23503) while there are any, unless force.
 *	- snapshot_ops.list_retention_holds() lists them.
 *
 * The table snapshot_ops.retention_holds is not dumped: a restore makes its
 * own hold.  Nobody but its owner has any privilege on it; the functions
 * above read and write it as the owner (the extension's owner), so the
 * role that loads rows, and an admin who may hold and release, need none.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/holds.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "holds.h"
#include "refint.h"
#include "spi_util.h"
#include "version.h"

#define SO_ADMIN_SCHEMA		"snapshot_ops"
#define SO_HOLDS_TABLE		"retention_holds"

static SoKeptPlan so_held_plan;
static SoKeptPlan so_add_plan;
static SoKeptPlan so_release_plan;
static SoKeptPlan so_list_plan;
static SoKeptPlan so_raise_plan;

static char *so_sql_held(const char *qschema);
static char *so_sql_add(const char *qschema);
static char *so_sql_release(const char *qschema);
static char *so_sql_list(const char *qschema);
static char *so_sql_key_state(const char *qschema);
static Oid	so_holds_owner(Oid *nspid);
static void so_holds_exec(SoKeptPlan *kp, SoSqlBuilder build, int nargs,
						  Oid *argtypes, Datum *values, Snapshot snapshot,
						  bool read_only, int expected_rc);
static int64 so_hold_add(const char *reason, const char *source);

PG_FUNCTION_INFO_V1(snapshot_ops_note_bulk_load);
PG_FUNCTION_INFO_V1(snapshot_ops_hold_retention);
PG_FUNCTION_INFO_V1(snapshot_ops_release_retention);
PG_FUNCTION_INFO_V1(snapshot_ops_list_retention_holds);

/* How many holds there are, and the oldest one: no row when none. */
static char *
so_sql_held(const char *qschema)
{
	return psprintf("SELECT pg_catalog.count(*) OVER (), h.reason, h.held_at, h.held_by"
					" FROM %s.%s h ORDER BY h.held_at, h.hold_id LIMIT 1",
					qschema, SO_HOLDS_TABLE);
}

static char *
so_sql_add(const char *qschema)
{
	return psprintf("INSERT INTO %s.%s (reason, source, held_by)"
					" VALUES ($1, $2, $3) RETURNING hold_id",
					qschema, SO_HOLDS_TABLE);
}

static char *
so_sql_release(const char *qschema)
{
	return psprintf("DELETE FROM %s.%s", qschema, SO_HOLDS_TABLE);
}

static char *
so_sql_list(const char *qschema)
{
	return psprintf("SELECT h.hold_id, h.reason, h.source, h.held_at, h.held_by"
					" FROM %s.%s h ORDER BY h.hold_id",
					qschema, SO_HOLDS_TABLE);
}

/* The owner of a relation. */
static Oid
so_rel_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * The highest snapshot_id of the four tables (orphaned child rows
 * included), the last key the sequence ($1) of session_snapshots handed
 * out, and the sequence's maximum.
 */
static char *
so_sql_key_state(const char *qschema)
{
	return psprintf("SELECT GREATEST("
					"  (SELECT pg_catalog.max(snapshot_id) FROM %s.session_snapshots),"
					"  (SELECT pg_catalog.max(snapshot_id) FROM %s.position_snapshots),"
					"  (SELECT pg_catalog.max(snapshot_id) FROM %s.metrics_snapshots),"
					"  (SELECT pg_catalog.max(snapshot_id) FROM %s.risk_guard_snapshots)),"
					"  CASE WHEN q.is_called THEN q.last_value"
					"       ELSE q.last_value OPERATOR(pg_catalog.-) 1 END,"
					"  s.seqmax"
					" FROM %s.session_snapshots_snapshot_id_seq q, pg_catalog.pg_sequence s"
					" WHERE s.seqrelid OPERATOR(pg_catalog.=) $1",
					qschema, qschema, qschema, qschema, qschema);
}

/*
 * After a bulk load: keys that save_snapshot() hands out from now on are
 * above every loaded one.  A restore sets the sequence itself, but a
 * selective one (pg_dump -t, pg_restore -t, --data-only of some tables)
 * does not, and a key of a loaded child row without its parent would be
 * given to a new snapshot, which would then load that row as its own.
 * The sequence only moves forward, and not at all when it is past the
 * loaded keys already (a restore's own setval() keeps its position).
 * A loaded key at or above the sequence's maximum is refused (22003):
 * every later save would fail.  Between reading the sequence and setting
 * it nobody else may move it: concurrent loads (pg_restore -j), a
 * restore's own setval() and saves' nextval() wait on a lock of the
 * sequence until the loading transaction ends (only a moment for
 * pg_restore's one COPY per transaction).  Runs as the sequence's owner
 * (a database owner restoring may not use it).
 */
static void
so_raise_key_sequence(Oid nspid)
{
	Oid			seqid = get_relname_relid("session_snapshots_snapshot_id_seq", nspid);
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	SPIPlanPtr	plan;
	int			rc;
	bool		top_null;
	bool		isnull;
	int64		top = 0;
	int64		position = 0;
	int64		seqmax = 0;

	if (!OidIsValid(seqid))
		return;
	owner = so_rel_owner(seqid);
	/*
	 * Self-conflicting, and in conflict with the RowExclusiveLock that
	 * nextval() and setval() take: a restore's setval() running between
	 * the read and the setval() below would otherwise be undone.
	 */
	LockRelationOid(seqid, ShareRowExclusiveLock);

	values[0] = ObjectIdGetDatum(seqid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	plan = so_kept_plan(&so_raise_plan, nspid, so_sql_key_state, 1, argtypes);
	rc = SPI_execute_plan(plan, values, NULL, false, 1);
	if (rc == SPI_OK_SELECT && SPI_processed == 1)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		top = DatumGetInt64(SPI_getbinval(row, desc, 1, &top_null));
		position = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
		seqmax = DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull));
	}
	else
		top_null = true;
	if (rc == SPI_OK_SELECT && !top_null && top > position)
	{
		Oid			set_types[2] = {OIDOID, INT8OID};
		Datum		set_values[2];

		if (top >= seqmax)
		{
			SetUserIdAndSecContext(save_userid, save_sec_context);
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("snapshot_id " INT64_FORMAT " is not below the maximum of the key sequence of session_snapshots (" INT64_FORMAT ")",
							top, seqmax),
					 errdetail("After a bulk load, new snapshots get keys above every loaded one; with this key no snapshot could be saved any more."),
					 errhint("Load rows with smaller keys, or delete the rows with this key first.")));
		}
		set_values[0] = ObjectIdGetDatum(seqid);
		set_values[1] = Int64GetDatum(top);
		rc = SPI_execute_with_args("SELECT pg_catalog.setval($1, $2, true)", 2,
								   set_types, set_values, NULL, false, 1);
	}
	SetUserIdAndSecContext(save_userid, save_sec_context);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not move the key sequence of session_snapshots: %s",
			 SPI_result_code_string(rc));
	SPI_finish();
}

/*
 * The owner of snapshot_ops.retention_holds, and the admin schema's OID;
 * ERROR when the table does not exist (SQL older than 1.1).
 */
static Oid
so_holds_owner(Oid *nspid)
{
	Oid			nsp = get_namespace_oid(SO_ADMIN_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(SO_HOLDS_TABLE, nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation \"%s.%s\" does not exist", SO_ADMIN_SCHEMA, SO_HOLDS_TABLE),
				 errhint("Run ALTER EXTENSION snapshot_ops UPDATE in this database.")));
	*nspid = nsp;
	return so_rel_owner(relid);
}

/*
 * Run one of the kept plans on the holds table as the table's owner.  The
 * snapshot is SPI_execute_snapshot()'s: InvalidSnapshot for the usual
 * rules (with read_only, the active snapshot).  The caller is connected to
 * SPI.
 */
static void
so_holds_exec(SoKeptPlan *kp, SoSqlBuilder build, int nargs, Oid *argtypes,
			  Datum *values, Snapshot snapshot, bool read_only, int expected_rc)
{
	Oid			nspid;
	Oid			owner = so_holds_owner(&nspid);
	Oid			save_userid;
	int			save_sec_context;
	SPIPlanPtr	plan;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	plan = so_kept_plan(kp, nspid, build, nargs, argtypes);
	rc = SPI_execute_snapshot(plan, values, NULL, snapshot, InvalidSnapshot,
							  read_only, true, 0);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	if (rc != expected_rc)
		elog(ERROR, "statement on %s.%s failed: %s", SO_ADMIN_SCHEMA,
			 SO_HOLDS_TABLE, SPI_result_code_string(rc));
}

/* Record a hold on behalf of the current user; returns its hold_id. */
static int64
so_hold_add(const char *reason, const char *source)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, NAMEOID};
	Datum		values[3];
	NameData	held_by;
	bool		isnull;
	int64		hold_id;

	namestrcpy(&held_by, GetUserNameFromId(GetUserId(), false));
	values[0] = CStringGetTextDatum(reason);
	values[1] = CStringGetTextDatum(source);
	values[2] = NameGetDatum(&held_by);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	so_holds_exec(&so_add_plan, so_sql_add, 3, argtypes, values,
				  InvalidSnapshot, false, SPI_OK_INSERT_RETURNING);
	hold_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return hold_id;
}

bool
so_retention_held(char **why)
{
	SoExtension ext;
	MemoryContext caller_cxt = CurrentMemoryContext;
	bool		held;

	so_extension_lookup(&ext);
	if (!OidIsValid(ext.oid) || ext.version < SO_SQL_1_1)
		return false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	so_holds_exec(&so_held_plan, so_sql_held, 0, NULL, NULL,
				  InvalidSnapshot, true, SPI_OK_SELECT);
	held = (SPI_processed > 0);
	if (held && why != NULL)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		count = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		char	   *reason = SPI_getvalue(row, desc, 2);
		TimestampTz held_at = DatumGetTimestampTz(SPI_getbinval(row, desc, 3, &isnull));
		char	   *held_by = SPI_getvalue(row, desc, 4);
		MemoryContext spi_cxt = MemoryContextSwitchTo(caller_cxt);

		if (count == 1)
			*why = psprintf("Retention is held by one hold, recorded %s by role \"%s\": \"%s\".",
							timestamptz_to_str(held_at), held_by,
							so_clip(reason, -1));
		else
			*why = psprintf("Retention is held by %lld holds; the oldest was recorded %s by role \"%s\": \"%s\".",
							(long long) count, timestamptz_to_str(held_at),
							held_by, so_clip(reason, -1));
		MemoryContextSwitchTo(spi_cxt);
	}
	SPI_finish();
	return held;
}

/*
 * note_bulk_load(), AFTER INSERT FOR EACH STATEMENT on each of the four
 * tables: a COPY FROM into the table records a hold and moves the key
 * sequence past the loaded keys.
 */
Datum
snapshot_ops_note_bulk_load(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = so_trigger_data(fcinfo, "note_bulk_load", false,
											SO_TRIG_INSERT);
	Relation	rel = trigdata->tg_relation;

	if (so_bulk_load_into(rel))
	{
		(void) so_hold_add(psprintf("bulk load (COPY) into %s",
									quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
															   RelationGetRelationName(rel))),
						   "bulk_load");
		so_raise_key_sequence(RelationGetNamespace(rel));
	}
	return PointerGetDatum(NULL);
}

/*
 * snapshot_ops.hold_retention(reason text) RETURNS bigint: record a manual
 * hold; returns its hold_id.
 */
Datum
snapshot_ops_hold_retention(PG_FUNCTION_ARGS)
{
	char	   *reason;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason must not be null"),
				 errhint("Say why retention is held, for example 'restore of the backup of 2026-11-01'.")));
	reason = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (reason[strspn(reason, " \t\r\n")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason must not be empty"),
				 errhint("Say why retention is held, for example 'restore of the backup of 2026-11-01'.")));
	so_require_version(SO_SQL_1_1, "snapshot_ops.hold_retention()");
	PG_RETURN_INT64(so_hold_add(reason, "manual"));
}

/*
 * snapshot_ops.release_retention(force boolean DEFAULT false) RETURNS
 * integer: remove every hold, after checking that no child row lacks its
 * parent (unless force); returns the number of holds removed.  The check
 * and the removal use one snapshot, so a hold that a load commits
 * meanwhile (with rows this check did not see) stays.
 */
Datum
snapshot_ops_release_retention(PG_FUNCTION_ARGS)
{
	SoExtension ext;
	int64		orphans[SO_NUM_CHILDREN];
	int64		total = 0;
	StringInfoData detail;
	bool		force;
	uint64		released = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("force must not be null"),
				 errhint("Pass false to refuse while child rows lack their parent, true to release anyway.")));
	force = PG_GETARG_BOOL(0);
	so_require_version(SO_SQL_1_1, "snapshot_ops.release_retention()");
	so_extension_lookup(&ext);

	PushActiveSnapshot(GetTransactionSnapshot());
	if (!so_retention_held(NULL))
	{
		PopActiveSnapshot();
		PG_RETURN_INT32(0);
	}

	so_refint_count_orphans(ext.nspid, orphans);
	initStringInfo(&detail);
	for (int i = 0; i < SO_NUM_CHILDREN; i++)
	{
		total += orphans[i];
		appendStringInfo(&detail, "%s%s %lld", i > 0 ? ", " : "",
						 so_child_tables[i].table, (long long) orphans[i]);
	}
	if (total > 0 && !force)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg_plural("cannot release the retention holds: %lld child row has no parent snapshot",
							   "cannot release the retention holds: %lld child rows have no parent snapshot",
							   total, (long long) total),
				 errdetail("Rows whose %s is not in table \"%s\": %s.",
						   SO_KEY_COLUMN, SO_PARENT_TABLE, detail.data),
				 errhint("Load the missing %s rows, or delete the rows without a parent, and release again; "
						 "or release anyway with snapshot_ops.release_retention(force => true).",
						 SO_PARENT_TABLE)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	so_holds_exec(&so_release_plan, so_sql_release, 0, NULL, NULL,
				  GetActiveSnapshot(), false, SPI_OK_DELETE);
	released = SPI_processed;
	SPI_finish();
	PopActiveSnapshot();

	if (total > 0)
		ereport(WARNING,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg_plural("retention released with %lld child row that has no parent snapshot",
							   "retention released with %lld child rows that have no parent snapshot",
							   total, (long long) total),
				 errdetail("Rows whose %s is not in table \"%s\": %s.",
						   SO_KEY_COLUMN, SO_PARENT_TABLE, detail.data),
				 errhint("Retention never deletes them; delete them yourself when they are no longer needed.")));
	PG_RETURN_INT32((int32) Min(released, (uint64) PG_INT32_MAX));
}

/*
 * snapshot_ops.list_retention_holds() RETURNS TABLE(hold_id, reason,
 * source, held_at, held_by): the holds, oldest first.
 */
Datum
snapshot_ops_list_retention_holds(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	so_init_materialized_srf(fcinfo, 0);
	so_require_version(SO_SQL_1_1, "snapshot_ops.list_retention_holds()");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	so_holds_exec(&so_list_plan, so_sql_list, 0, NULL, NULL,
				  InvalidSnapshot, true, SPI_OK_SELECT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		Datum		values[5];
		bool		nulls[5];

		for (int c = 0; c < 5; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
									  c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
