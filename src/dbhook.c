/*-------------------------------------------------------------------------
 *
 * dbhook.c
 *		Stop a database's snapshot_ops worker before a command that needs
 *		the database to have no other sessions.
 *
 * DROP DATABASE, ALTER DATABASE ... RENAME, ALTER DATABASE ... SET
 * TABLESPACE and CREATE DATABASE ... TEMPLATE fail with "database is being
 * accessed by other users" while any backend is connected to the database;
 * they only terminate autovacuum workers themselves.  This ProcessUtility
 * hook, installed in every backend when the library is preloaded, sends
 * SIGTERM to the worker of the database concerned before the command runs
 * (telling the launcher first that this exit is no failure);
 * the command then waits (up to five seconds) for it to go away, as it
 * waits for autovacuum.  The launcher starts the worker again after
 * SO_RETRY_SECONDS if the database still exists and has the extension.
 * Only the database's owner (or a superuser) stops the worker this way: it
 * is what those commands require anyway, at least of the database dropped,
 * renamed or moved.
 * After CREATE DATABASE, the launcher is asked to check the new database:
 * a copy of a template that has the extension needs a worker of its own.
 *
 * DROP EXTENSION snapshot_ops, ALTER EXTENSION snapshot_ops UPDATE (one
 * that changes the version), and the commands that drop the extension
 * with something else (DROP SCHEMA ... CASCADE of its schema, DROP OWNED
 * BY its owner CASCADE) stop the worker of the current database too, and
 * wait for it to exit (at
 * most SO_STOP_WAIT_MS): a cleanup batch takes the tables' locks in
 * another order than these commands (retention_holds, then the snapshot
 * tables), so the two would deadlock, and a run record kept by the worker
 * would be written into the next installation's history.  Only the
 * extension's owner (or a superuser), who alone may run those commands.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/dbhook.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "dbhook.h"
#include "shmem.h"
#include "version.h"

/* How long DROP/ALTER EXTENSION waits for the worker to exit. */
#define SO_STOP_WAIT_MS		10000

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void so_stop_worker_of(const char *dbname);
static void so_stop_own_worker(Node *parsetree);
static bool so_changes_extension(Node *parsetree, const SoExtension *ext);
static bool so_drop_names(List *objects, ObjectType type, const SoExtension *ext);
static const char *so_option_value(List *options, const char *name);
static void so_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
							  bool readOnlyTree, ProcessUtilityContext context,
							  ParamListInfo params, QueryEnvironment *queryEnv,
							  DestReceiver *dest, QueryCompletion *qc);

void
so_dbhook_init(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = so_ProcessUtility;
}

/* SIGTERM the worker of a database, if it has one. */
static void
so_stop_worker_of(const char *dbname)
{
	Oid			dboid;
	pid_t		pid;

	if (!so_shmem_loaded() || dbname == NULL)
		return;
	dboid = get_database_oid(dbname, true);
	if (!OidIsValid(dboid))
		return;

	/*
	 * Only for somebody who may run the command: anybody else would just
	 * make the worker restart.
	 */
	if (!so_database_ownercheck(dboid, GetUserId()))
		return;

	pid = so_worker_stop_for_command(dboid);
	if (pid != 0 && kill(pid, SIGTERM) == 0)
		ereport(DEBUG1,
				(errmsg_internal("snapshot_ops: stopped worker %d of database \"%s\"",
								 (int) pid, dbname)));
}

/*
 * Does a DROP name the extension (DROP EXTENSION) or a schema it lives in,
 * its own or snapshot_ops (DROP SCHEMA ... CASCADE)?
 */
static bool
so_drop_names(List *objects, ObjectType type, const SoExtension *ext)
{
	ListCell   *lc;

	foreach(lc, objects)
	{
		Node	   *obj = lfirst(lc);

		if (!IsA(obj, String))
			continue;
		if (type == OBJECT_EXTENSION ? strcmp(strVal(obj), "snapshot_ops") == 0 :
			(strcmp(strVal(obj), "snapshot_ops") == 0 ||
			 get_namespace_oid(strVal(obj), true) == ext->nspid))
			return true;
	}
	return false;
}

/*
 * Does the command drop the extension, or update it to another version?
 * DROP EXTENSION, DROP SCHEMA ... CASCADE of its schema, DROP OWNED BY its
 * owner CASCADE, ALTER EXTENSION UPDATE [TO v] whose target (the default,
 * the newest version this library knows, when no TO is given) is not the
 * installed version.
 */
static bool
so_changes_extension(Node *parsetree, const SoExtension *ext)
{
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			return so_drop_names(((DropStmt *) parsetree)->objects,
								 ((DropStmt *) parsetree)->removeType, ext);
		case T_DropOwnedStmt:
			{
				ListCell   *lc;

				foreach(lc, ((DropOwnedStmt *) parsetree)->roles)
				{
					if (get_rolespec_oid(lfirst(lc), true) == ext->owner)
						return true;
				}
				return false;
			}
		case T_AlterExtensionStmt:
			{
				const char *target = so_option_value(((AlterExtensionStmt *) parsetree)->options,
													 "new_version");

				if (target == NULL)
					target = so_version_name(SO_SQL_NEWEST);
				return strcmp(target, ext->version_text) != 0;
			}
		default:
			return false;
	}
}

/*
 * Before a command that drops or updates the extension (the caller has
 * checked the statement's kind): stop this database's worker and wait
 * until it is gone (see the file header).
 */
static void
so_stop_own_worker(Node *parsetree)
{
	SoExtension ext;
	SoWorkerInfo info;
	pid_t		pid;
	TimestampTz deadline;

	so_extension_lookup(&ext);
	if (!OidIsValid(ext.oid) || !has_privs_of_role(GetUserId(), ext.owner) ||
		!so_changes_extension(parsetree, &ext))
		return;
	pid = so_worker_stop_for_command(MyDatabaseId);
	if (pid == 0 || kill(pid, SIGTERM) != 0)
		return;
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), SO_STOP_WAIT_MS);
	for (;;)
	{
		so_worker_info(MyDatabaseId, &info);
		if (!info.has_slot || info.pid != pid)
			break;
		if (GetCurrentTimestamp() >= deadline)
		{
			ereport(NOTICE,
					(errmsg("the snapshot_ops worker of this database (pid %d) has not exited yet; going on",
							(int) pid)));
			break;
		}
		CHECK_FOR_INTERRUPTS();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* The value of a DefElem option, or NULL. */
static const char *
so_option_value(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, name) == 0 && def->arg != NULL)
			return defGetString(def);
	}
	return NULL;
}

static void
so_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				  bool readOnlyTree, ProcessUtilityContext context,
				  ParamListInfo params, QueryEnvironment *queryEnv,
				  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	const char *created = NULL;

	if (so_shmem_loaded())
	{
		switch (nodeTag(parsetree))
		{
			case T_DropdbStmt:
				so_stop_worker_of(((DropdbStmt *) parsetree)->dbname);
				break;
			case T_RenameStmt:
				if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
					so_stop_worker_of(((RenameStmt *) parsetree)->subname);
				break;
			case T_AlterDatabaseStmt:
				if (so_option_value(((AlterDatabaseStmt *) parsetree)->options,
									"tablespace") != NULL)
					so_stop_worker_of(((AlterDatabaseStmt *) parsetree)->dbname);
				break;
			case T_CreatedbStmt:
				so_stop_worker_of(so_option_value(((CreatedbStmt *) parsetree)->options,
												  "template"));
				created = ((CreatedbStmt *) parsetree)->dbname;
				break;
			case T_DropStmt:
				/* only what can take the extension with it */
				if (((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION ||
					(((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA &&
					 ((DropStmt *) parsetree)->behavior == DROP_CASCADE))
					so_stop_own_worker(parsetree);
				break;
			case T_DropOwnedStmt:
				if (((DropOwnedStmt *) parsetree)->behavior == DROP_CASCADE)
					so_stop_own_worker(parsetree);
				break;
			case T_AlterExtensionStmt:
				if (strcmp(((AlterExtensionStmt *) parsetree)->extname, "snapshot_ops") == 0)
					so_stop_own_worker(parsetree);
				break;
			default:
				break;
		}
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	/* a copy of a database that has the extension needs a worker too */
	if (created != NULL)
	{
		Oid			dboid = get_database_oid(created, true);

		if (OidIsValid(dboid))
			so_request_worker_at_commit(dboid);
	}
}
