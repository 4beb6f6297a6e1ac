/*-------------------------------------------------------------------------
 *
 * refint.c
 *		Referential integrity between session_snapshots and its children
 *		(position_snapshots, metrics_snapshots, risk_guard_snapshots), kept
 *		by triggers instead of declarative foreign keys, so that a restore
 *		may load the four tables in any order.
 *
 * Why not foreign keys.  pg_dump writes the rows of a table registered with
 * pg_extension_config_dump() as a TABLE DATA item that depends only on the
 * table itself, and the table is an extension member that is not in the
 * archive.  The foreign-key order pg_dump works out for such tables only
 * orders the archive; a serial restore follows it, a parallel one (pg_restore
 * -j) does not, and each COPY runs in its own transaction, so a child's COPY
 * may commit before its parent's begins.  No declarative constraint survives
 * that (TimescaleDB has the same problem, #698).  Hence version 1.1 drops the
 * three foreign keys and keeps the same rules with these triggers:
 *
 *	child INSERT, UPDATE OF snapshot_id
 *		constraint trigger <child>_snapshot_id_fkey (AFTER ... FOR EACH ROW,
 *		not deferrable): the parent row must exist.  As ri_triggers.c's
 *		RI_FKey_check(): the parent row is locked FOR KEY SHARE (a concurrent
 *		DELETE of it waits for us, or we for it and then fail), as the
 *		parent table's owner, with the transaction's snapshot rules; a row
 *		already gone again (SnapshotSelf) or an UPDATE that kept the key of a
 *		row older than this transaction is not checked; the error is
 *		PostgreSQL's own (23503, "insert or update on table ... violates
 *		foreign key constraint ...", the key in the detail when the user may
 *		read it).
 *	parent DELETE
 *		ON DELETE CASCADE: session_snapshots_cascade_delete, AFTER DELETE FOR
 *		EACH STATEMENT with the deleted rows as a transition table, deletes
 *		the children of every deleted parent with one statement per child
 *		table (snapshot_id = ANY (array), on the key index), as the child
 *		table's owner.  It runs at the end of the deleting statement, as the
 *		built-in per-row cascade does, so that statement still sees (and
 *		retention counts) the children it removes.  In REPEATABLE READ and
 *		SERIALIZABLE the children are found in a fresh snapshot, with the
 *		transaction snapshot as crosscheck (ri_PerformCheck() with
 *		detectNewRows): a child committed after our snapshot raises a
 *		serialization failure instead of being left without its parent.
 *	parent UPDATE OF snapshot_id
 *		NO ACTION (session_snapshots_restrict_key_update, AFTER ... FOR EACH
 *		ROW): a key that children still reference may not change, unless
 *		another row took over the old key in the same statement; 23503,
 *		"update or delete on table ... violates foreign key constraint ...
 *		on table ...".  (snapshot_id is GENERATED ALWAYS, so only SET
 *		snapshot_id = DEFAULT can change it.)
 *	parent TRUNCATE
 *		session_snapshots_restrict_truncate (AFTER TRUNCATE): refused (0A000)
 *		unless every child table is empty afterwards, that is, unless the
 *		children were truncated in the same command.  The built-in foreign
 *		keys refused a lone TRUNCATE too; TRUNCATE ... CASCADE, which
 *		followed them, now needs the tables named.
 *
 * Bulk loads.  Rows that a COPY FROM run by a superuser or the table's
 * owner loads into a child table are accepted without the parent check, so
 * that the order in which a restore loads the tables does not matter;
 * every such COPY (into any of the four tables) records a retention hold
 * instead (src/holds.c), and snapshot_ops.release_retention() refuses while
 * rows without a parent remain.  Every way a dump is restored loads with
 * COPY: pg_restore of every archive format, psql with a plain dump,
 * snapshot_ops_backup restore, and data-only restores, run by the owner or
 * a superuser.  Any other role's COPY is checked like its INSERTs and holds
 * nothing: a writer can neither leave orphans nor stop retention.
 *
 * How a trigger knows that it fires for a COPY FROM into its table: the
 * active portal, which PortalRun() sets for the top-level statement the
 * client sent, holds that statement's parse tree, and it is a CopyStmt with
 * is_from naming this table (resolved the way COPY resolved it).  A COPY
 * fires its tables' AFTER ROW triggers at its own end, before the portal
 * is left, so the test is true for exactly the rows of that COPY, and false
 * for every INSERT, for COPY TO (even COPY (INSERT ... RETURNING) TO), and
 * for a COPY into another table.  It is not true for a COPY run inside a
 * function (SPI runs it without a portal of its own, so the active portal
 * is the calling statement's): such rows are checked like INSERTs and
 * record no hold, which is the safe side; no dump tool loads that way.  The
 * one way other rows can pass unchecked is a statement run by a function
 * the COPY itself calls (its WHERE clause, a column default or a trigger)
 * inserting into the same table, and what that function could insert it
 * could as well have loaded with the COPY: a bulk load, held like one.  A
 * command tag alone would not do: "COPY" is also the tag of COPY (SELECT
 * f()) TO, where f() could insert orphans unchecked and without a hold.
 *
 * Like PostgreSQL's own foreign-key triggers these are ordinary ("origin")
 * triggers: with session_replication_role = replica (logical replication's
 * apply, or a DBA loading an --inserts dump) and after ALTER TABLE ...
 * DISABLE TRIGGER (pg_restore --disable-triggers) they do not fire, so
 * nothing is checked, cascaded or held.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/refint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "refint.h"
#include "spi_util.h"

const SoChildTable so_child_tables[SO_NUM_CHILDREN] = {
	{"position_snapshots", "position_snapshots_snapshot_id_fkey"},
	{"metrics_snapshots", "metrics_snapshots_snapshot_id_fkey"},
	{"risk_guard_snapshots", "risk_guard_snapshots_snapshot_id_fkey"},
};

/* Kept plans: the parent lookup, and one of each kind per child table. */
static SoKeptPlan so_lookup_parent_plan;
static SoKeptPlan so_cascade_plans[SO_NUM_CHILDREN];
static SoKeptPlan so_referenced_plans[SO_NUM_CHILDREN];
static SoKeptPlan so_nonempty_plans[SO_NUM_CHILDREN];
static SoKeptPlan so_orphans_plan;

static char *so_sql_lookup_parent(const char *qschema, int child);
static char *so_sql_cascade(const char *qschema, int child);
static char *so_sql_referenced(const char *qschema, int child);
static char *so_sql_nonempty(const char *qschema, int child);
static char *so_sql_orphans(const char *qschema);
static uint64 so_refint_run(SoKeptPlan *kp, Oid nspid, SoSqlBuilderArg build,
							int child, int nargs, Oid *argtypes,
							Datum *values, Oid owner, bool detect_new_rows,
							int expected_rc, long limit);
static AttrNumber so_key_attnum(Relation rel);
static Relation so_open_table(Oid nspid, const char *name, LOCKMODE lockmode);
static bool so_may_see_key(Relation rel, AttrNumber attnum);
static bool so_fk_update_needs_check(TupleTableSlot *oldslot,
									 AttrNumber attnum, Datum newkey);
static Datum *so_transition_keys(Tuplestorestate *ts, Relation rel,
								 int *nkeys);

PG_FUNCTION_INFO_V1(snapshot_ops_refint_check_parent);
PG_FUNCTION_INFO_V1(snapshot_ops_refint_cascade_delete);
PG_FUNCTION_INFO_V1(snapshot_ops_refint_restrict_key_update);
PG_FUNCTION_INFO_V1(snapshot_ops_refint_check_truncate);

/* The parent row with key $1, locked as RI_FKey_check() locks it. */
static char *
so_sql_lookup_parent(const char *qschema, int child)
{
	return psprintf("SELECT 1 FROM ONLY %s.%s x"
					" WHERE x.%s OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x",
					qschema, SO_PARENT_TABLE, SO_KEY_COLUMN);
}

/* Delete the rows of one child table whose key is in the array $1. */
static char *
so_sql_cascade(const char *qschema, int child)
{
	return psprintf("DELETE FROM ONLY %s.%s c"
					" WHERE c.%s OPERATOR(pg_catalog.=) ANY ($1)",
					qschema, quote_identifier(so_child_tables[child].table),
					SO_KEY_COLUMN);
}

/* A row of one child table that references key $1 (ri_restrict()). */
static char *
so_sql_referenced(const char *qschema, int child)
{
	return psprintf("SELECT 1 FROM ONLY %s.%s x"
					" WHERE x.%s OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x",
					qschema, quote_identifier(so_child_tables[child].table),
					SO_KEY_COLUMN);
}

/* Any row at all in one child table. */
static char *
so_sql_nonempty(const char *qschema, int child)
{
	return psprintf("SELECT 1 FROM ONLY %s.%s x LIMIT 1",
					qschema, quote_identifier(so_child_tables[child].table));
}

/* Per child table, the rows whose parent does not exist: one row. */
static char *
so_sql_orphans(const char *qschema)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < SO_NUM_CHILDREN; i++)
		appendStringInfo(&sql,
						 "%s(SELECT pg_catalog.count(*) FROM ONLY %s.%s c"
						 " WHERE NOT EXISTS (SELECT FROM ONLY %s.%s s"
						 " WHERE s.%s OPERATOR(pg_catalog.=) c.%s))",
						 i > 0 ? ", " : "",
						 qschema, quote_identifier(so_child_tables[i].table),
						 qschema, SO_PARENT_TABLE, SO_KEY_COLUMN, SO_KEY_COLUMN);
	return sql.data;
}

/*
 * Run one of the kept plans as role "owner", the owner of the table the
 * statement reads or changes, the way ri_triggers.c's ri_PlanCheck() and
 * ri_PerformCheck() do: the check must work whatever the privileges of the
 * role whose statement fired the trigger, and no row-level security policy
 * may hide a row from it.  With detect_new_rows in REPEATABLE READ or
 * SERIALIZABLE the statement runs in a fresh snapshot, with the
 * transaction snapshot as crosscheck, so that a row committed since the
 * transaction started is found (and, if the statement would change it, is
 * a serialization failure).  Returns the number of rows processed.  The
 * caller is connected to SPI.
 */
static uint64
so_refint_run(SoKeptPlan *kp, Oid nspid, SoSqlBuilderArg build, int child,
			  int nargs, Oid *argtypes, Datum *values, Oid owner,
			  bool detect_new_rows, int expected_rc, long limit)
{
	Snapshot	test_snapshot = InvalidSnapshot;
	Snapshot	crosscheck_snapshot = InvalidSnapshot;
	Oid			save_userid;
	int			save_sec_context;
	SPIPlanPtr	plan;
	int			rc;

	if (IsolationUsesXactSnapshot() && detect_new_rows)
	{
		CommandCounterIncrement();	/* see our own changes too */
		test_snapshot = GetLatestSnapshot();
		crosscheck_snapshot = GetTransactionSnapshot();
	}

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);
	plan = so_kept_plan_arg(kp, nspid, build, child, nargs, argtypes);
	rc = SPI_execute_snapshot(plan, values, NULL, test_snapshot,
							  crosscheck_snapshot, false, false, limit);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	if (rc != expected_rc)
		elog(ERROR, "referential integrity statement of snapshot_ops failed: %s",
			 SPI_result_code_string(rc));
	return SPI_processed;
}

TriggerData *
so_trigger_data(FunctionCallInfo fcinfo, const char *funcname, bool for_row,
				int ops)
{
	TriggerData *trigdata;
	TriggerEvent ev;
	int			op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager",
						funcname)));
	trigdata = (TriggerData *) fcinfo->context;
	ev = trigdata->tg_event;
	if (TRIGGER_FIRED_BY_INSERT(ev))
		op = SO_TRIG_INSERT;
	else if (TRIGGER_FIRED_BY_UPDATE(ev))
		op = SO_TRIG_UPDATE;
	else if (TRIGGER_FIRED_BY_DELETE(ev))
		op = SO_TRIG_DELETE;
	else
		op = SO_TRIG_TRUNCATE;
	if (!TRIGGER_FIRED_AFTER(ev) || (op & ops) == 0 ||
		(TRIGGER_FIRED_FOR_ROW(ev) ? true : false) != for_row)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was fired for the wrong event",
						funcname),
				 errdetail("It must be fired AFTER %s FOR EACH %s.",
						   ops == (SO_TRIG_INSERT | SO_TRIG_UPDATE) ? "INSERT OR UPDATE" :
						   ops == SO_TRIG_INSERT ? "INSERT" :
						   ops == SO_TRIG_UPDATE ? "UPDATE" :
						   ops == SO_TRIG_DELETE ? "DELETE" : "TRUNCATE",
						   for_row ? "ROW" : "STATEMENT")));
	return trigdata;
}

/* See refint.h, and the file header for why this test is the right one. */
bool
so_bulk_load_into(Relation rel)
{
	Portal		portal = ActivePortal;
	PlannedStmt *pstmt;
	CopyStmt   *copy;

	/*
	 * Only a role that could drop or disable the checks anyway loads
	 * unchecked: a superuser, the table's owner, or the database's owner
	 * (who can drop the database), as a restore runs.  A writer's COPY is
	 * an INSERT like any other (checked, no hold).
	 */
	if (!superuser() && !has_privs_of_role(GetUserId(), rel->rd_rel->relowner) &&
		!so_database_ownercheck(MyDatabaseId, GetUserId()))
		return false;
	if (portal == NULL || portal->commandTag != CMDTAG_COPY ||
		list_length(portal->stmts) != 1)
		return false;
	pstmt = linitial_node(PlannedStmt, portal->stmts);
	if (pstmt->commandType != CMD_UTILITY || pstmt->utilityStmt == NULL ||
		!IsA(pstmt->utilityStmt, CopyStmt))
		return false;
	copy = (CopyStmt *) pstmt->utilityStmt;
	if (!copy->is_from || copy->relation == NULL)
		return false;

	/*
	 * The table the COPY statement names, resolved now.  A function the
	 * COPY calls may have changed search_path since the COPY resolved it,
	 * so this can name another table than the COPY's (a COPY into a
	 * temporary table of the same name whose trigger inserts into the real
	 * one): then rows that function inserts are taken as part of the bulk
	 * load, by a role that may load unchecked anyway (see above).
	 */
	return RangeVarGetRelid(copy->relation, NoLock, true) == RelationGetRelid(rel);
}

/* The attribute number of snapshot_id in rel, which must be a bigint. */
static AttrNumber
so_key_attnum(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), SO_KEY_COLUMN) == 0)
		{
			if (att->atttypid != INT8OID)
				break;
			return att->attnum;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("table \"%s\" has no bigint column \"%s\"",
					RelationGetRelationName(rel), SO_KEY_COLUMN),
			 errdetail("The snapshot_ops referential integrity triggers only work on the snapshot tables.")));
	return InvalidAttrNumber;	/* keep the compiler quiet */
}

/* Open one of the four tables, in schema nspid. */
static Relation
so_open_table(Oid nspid, const char *name, LOCKMODE lockmode)
{
	Oid			relid = get_relname_relid(name, nspid);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist",
						get_namespace_name(nspid), name),
				 errdetail("The snapshot_ops referential integrity triggers only work on the snapshot tables.")));
	return table_open(relid, lockmode);
}

/*
 * May the current user see the key of a row of rel in an error message?
 * As ri_ReportViolation(): not under row-level security, otherwise with
 * SELECT on the table or on the key column.
 */
static bool
so_may_see_key(Relation rel, AttrNumber attnum)
{
	Oid			relid = RelationGetRelid(rel);

	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return false;
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
		return true;
	return pg_attribute_aclcheck(relid, attnum, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}

/*
 * An UPDATE of a child row needs the check when the key changed, or when
 * the old row was inserted by this transaction: the UPDATE made that row
 * dead, so its own INSERT check skipped it (RI_FKey_fk_upd_check_required).
 */
static bool
so_fk_update_needs_check(TupleTableSlot *oldslot, AttrNumber attnum,
						 Datum newkey)
{
	bool		isnull;
	Datum		xmin;
	Datum		oldkey;

	xmin = slot_getsysattr(oldslot, MinTransactionIdAttributeNumber, &isnull);
	if (!isnull && TransactionIdIsCurrentTransactionId(DatumGetTransactionId(xmin)))
		return true;
	oldkey = slot_getattr(oldslot, attnum, &isnull);
	return isnull || DatumGetInt64(oldkey) != DatumGetInt64(newkey);
}

/*
 * Constraint trigger <child>_snapshot_id_fkey, AFTER INSERT OR UPDATE OF
 * snapshot_id ON a child table FOR EACH ROW: the parent must exist.  The
 * trigger's name is the constraint's, and the one the error names.
 */
Datum
snapshot_ops_refint_check_parent(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = so_trigger_data(fcinfo, "refint_check_parent", true,
											SO_TRIG_INSERT | SO_TRIG_UPDATE);
	Relation	fk_rel = trigdata->tg_relation;
	bool		is_update = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event);
	TupleTableSlot *newslot = is_update ? trigdata->tg_newslot : trigdata->tg_trigslot;
	Oid			nspid = RelationGetNamespace(fk_rel);
	AttrNumber	attnum;
	Relation	pk_rel;
	Datum		key;
	bool		isnull;
	Oid			argtype = INT8OID;
	uint64		found;

	/* the rows of a bulk load are taken as they come (file header) */
	if (so_bulk_load_into(fk_rel))
		return PointerGetDatum(NULL);

	/*
	 * A row deleted since (or updated: its newest version has its own
	 * event) is not checked, as in RI_FKey_check().
	 */
	if (!table_tuple_satisfies_snapshot(fk_rel, newslot, SnapshotSelf))
		return PointerGetDatum(NULL);

	attnum = so_key_attnum(fk_rel);
	key = slot_getattr(newslot, attnum, &isnull);
	if (isnull)
		return PointerGetDatum(NULL);	/* MATCH SIMPLE; the column is NOT NULL */
	if (is_update && !so_fk_update_needs_check(trigdata->tg_trigslot, attnum, key))
		return PointerGetDatum(NULL);

	pk_rel = so_open_table(nspid, SO_PARENT_TABLE, RowShareLock);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	found = so_refint_run(&so_lookup_parent_plan, nspid, so_sql_lookup_parent,
						  0, 1, &argtype, &key, pk_rel->rd_rel->relowner,
						  false, SPI_OK_SELECT, 1);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");

	if (found == 0)
	{
		const char *conname = trigdata->tg_trigger->tgname;

		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("insert or update on table \"%s\" violates foreign key constraint \"%s\"",
						RelationGetRelationName(fk_rel), conname),
				 so_may_see_key(fk_rel, attnum) ?
				 errdetail("Key (%s)=(%lld) is not present in table \"%s\".",
						   SO_KEY_COLUMN, (long long) DatumGetInt64(key),
						   RelationGetRelationName(pk_rel)) :
				 errdetail("Key is not present in table \"%s\".",
						   RelationGetRelationName(pk_rel)),
				 errtableconstraint(fk_rel, conname)));
	}
	table_close(pk_rel, RowShareLock);
	return PointerGetDatum(NULL);
}

/*
 * The keys of the rows in a transition table, read through a read pointer
 * of our own (other triggers of the statement may read the same store).
 */
static Datum *
so_transition_keys(Tuplestorestate *ts, Relation rel, int *nkeys)
{
	AttrNumber	attnum = so_key_attnum(rel);
	TupleTableSlot *slot;
	int64		count = tuplestore_tuple_count(ts);
	Datum	   *keys;
	int			n = 0;

	if (count > (int64) (MaxAllocHugeSize / sizeof(Datum)))
		elog(ERROR, "too many deleted rows in one statement: " INT64_FORMAT, count);
	keys = palloc_extended(Max(count, 1) * sizeof(Datum), MCXT_ALLOC_HUGE);
	slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	tuplestore_select_read_pointer(ts, tuplestore_alloc_read_pointer(ts, EXEC_FLAG_REWIND));
	tuplestore_rescan(ts);
	while (n < count && tuplestore_gettupleslot(ts, true, false, slot))
	{
		bool		isnull;
		Datum		key = slot_getattr(slot, attnum, &isnull);

		if (!isnull)
			keys[n++] = key;
	}
	ExecDropSingleTupleTableSlot(slot);
	*nkeys = n;
	return keys;
}

/*
 * session_snapshots_cascade_delete, AFTER DELETE ON session_snapshots
 * REFERENCING OLD TABLE FOR EACH STATEMENT: ON DELETE CASCADE for all the
 * rows the statement deleted, one DELETE per child table.
 */
Datum
snapshot_ops_refint_cascade_delete(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = so_trigger_data(fcinfo, "refint_cascade_delete", false,
											SO_TRIG_DELETE);
	Relation	pk_rel = trigdata->tg_relation;
	Oid			nspid = RelationGetNamespace(pk_rel);
	Oid			argtype = INT8ARRAYOID;
	Datum	   *keys;
	int			nkeys;
	Datum		array;

	if (trigdata->tg_oldtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"refint_cascade_delete\" needs the deleted rows"),
				 errhint("Create the trigger with REFERENCING OLD TABLE AS deleted_snapshots.")));
	keys = so_transition_keys(trigdata->tg_oldtable, pk_rel, &nkeys);
	if (nkeys == 0)
		return PointerGetDatum(NULL);
	array = PointerGetDatum(construct_array(keys, nkeys, INT8OID, sizeof(int64),
											FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int i = 0; i < SO_NUM_CHILDREN; i++)
	{
		Relation	fk_rel = so_open_table(nspid, so_child_tables[i].table,
										   RowExclusiveLock);

		(void) so_refint_run(&so_cascade_plans[i], nspid, so_sql_cascade, i,
							 1, &argtype, &array, fk_rel->rd_rel->relowner,
							 true, SPI_OK_DELETE, 0);
		table_close(fk_rel, RowExclusiveLock);
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	return PointerGetDatum(NULL);
}

/*
 * session_snapshots_restrict_key_update, AFTER UPDATE OF snapshot_id ON
 * session_snapshots FOR EACH ROW: NO ACTION, as ri_restrict() does it.
 */
Datum
snapshot_ops_refint_restrict_key_update(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = so_trigger_data(fcinfo, "refint_restrict_key_update", true,
											SO_TRIG_UPDATE);
	Relation	pk_rel = trigdata->tg_relation;
	Oid			nspid = RelationGetNamespace(pk_rel);
	AttrNumber	attnum = so_key_attnum(pk_rel);
	Oid			argtype = INT8OID;
	Datum		oldkey;
	Datum		newkey;
	bool		oldnull;
	bool		newnull;

	oldkey = slot_getattr(trigdata->tg_trigslot, attnum, &oldnull);
	newkey = slot_getattr(trigdata->tg_newslot, attnum, &newnull);
	if (oldnull || (!newnull && DatumGetInt64(oldkey) == DatumGetInt64(newkey)))
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* another row holding the old key now keeps the references valid */
	if (so_refint_run(&so_lookup_parent_plan, nspid, so_sql_lookup_parent, 0,
					  1, &argtype, &oldkey, pk_rel->rd_rel->relowner,
					  true, SPI_OK_SELECT, 1) == 0)
	{
		for (int i = 0; i < SO_NUM_CHILDREN; i++)
		{
			Relation	fk_rel = so_open_table(nspid, so_child_tables[i].table,
											   RowShareLock);

			if (so_refint_run(&so_referenced_plans[i], nspid, so_sql_referenced, i,
							  1, &argtype, &oldkey, fk_rel->rd_rel->relowner,
							  true, SPI_OK_SELECT, 1) > 0)
				ereport(ERROR,
						(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
						 errmsg("update or delete on table \"%s\" violates foreign key constraint \"%s\" on table \"%s\"",
								RelationGetRelationName(pk_rel),
								so_child_tables[i].constraint,
								RelationGetRelationName(fk_rel)),
						 so_may_see_key(pk_rel, attnum) ?
						 errdetail("Key (%s)=(%lld) is still referenced from table \"%s\".",
								   SO_KEY_COLUMN, (long long) DatumGetInt64(oldkey),
								   RelationGetRelationName(fk_rel)) :
						 errdetail("Key is still referenced from table \"%s\".",
								   RelationGetRelationName(fk_rel)),
						 errtableconstraint(fk_rel, so_child_tables[i].constraint)));
			table_close(fk_rel, RowShareLock);
		}
	}

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	return PointerGetDatum(NULL);
}

/*
 * session_snapshots_restrict_truncate, AFTER TRUNCATE ON session_snapshots
 * FOR EACH STATEMENT: every child table must be empty now.  A child row
 * committed since a REPEATABLE READ transaction's snapshot counts too.
 */
Datum
snapshot_ops_refint_check_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = so_trigger_data(fcinfo, "refint_check_truncate", false,
											SO_TRIG_TRUNCATE);
	Relation	pk_rel = trigdata->tg_relation;
	Oid			nspid = RelationGetNamespace(pk_rel);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int i = 0; i < SO_NUM_CHILDREN; i++)
	{
		Relation	fk_rel = so_open_table(nspid, so_child_tables[i].table,
										   AccessShareLock);

		if (so_refint_run(&so_nonempty_plans[i], nspid, so_sql_nonempty, i,
						  0, NULL, NULL, fk_rel->rd_rel->relowner,
						  true, SPI_OK_SELECT, 1) > 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot truncate a table referenced in a foreign key constraint"),
					 errdetail("Table \"%s\" references \"%s\".",
							   RelationGetRelationName(fk_rel),
							   RelationGetRelationName(pk_rel)),
					 errhint("Truncate the four tables in one command: TRUNCATE %s, %s, %s, %s.",
							 RelationGetRelationName(pk_rel),
							 so_child_tables[0].table, so_child_tables[1].table,
							 so_child_tables[2].table)));
		table_close(fk_rel, AccessShareLock);
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	return PointerGetDatum(NULL);
}

void
so_refint_count_orphans(Oid nspid, int64 *orphans)
{
	SPIPlanPtr	plan;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = so_kept_plan(&so_orphans_plan, nspid, so_sql_orphans, 0, NULL);
	so_execute_plan(plan, NULL, NULL, true, 0, SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "orphan count returned " UINT64_FORMAT " rows", SPI_processed);
	for (int i = 0; i < SO_NUM_CHILDREN; i++)
	{
		bool		isnull;

		orphans[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, i + 1,
												 &isnull));
	}
	SPI_finish();
}
