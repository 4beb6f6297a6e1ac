/*-------------------------------------------------------------------------
 *
 * cmd_restore.c
 *		The restore and verify commands.
 *
 * restore opens the backup and reads the SHA-256 its checksum file records,
 * then checks the target, then reads the backup once, feeding it to psql
 * in a single transaction that commits only if the bytes read matched the
 * checksum, the gzip stream was intact and the dump complete
 * (restore_stream.c).  A backup that fails its check is rolled back, exit
 * 3, with nothing of it left in the target.  Afterwards the row counts of
 * the extension's four tables are compared with the counts in the backup.
 *
 * restore refuses a target that already holds the extension or any other
 * relation, unless --clean: then "DROP EXTENSION IF EXISTS snapshot_ops"
 * (without CASCADE) is sent ahead of the dump inside the same transaction,
 * so that a failed restore leaves the old data in place, and objects of
 * the user that depend on the extension make it fail instead of vanishing.
 * An extension in a schema of its own ("CREATE EXTENSION snapshot_ops
 * SCHEMA trading") leaves that schema behind when dropped, and the dump's
 * CREATE SCHEMA would fail on it; so --clean then drops the schema too,
 * "DROP SCHEMA IF EXISTS" right after the extension, again without
 * CASCADE.  A schema that holds objects of the user besides the extension
 * is refused beforehand (exit 4), and should one appear meanwhile, the
 * DROP SCHEMA fails and the restore is rolled back: --clean never drops
 * anything but the extension and its empty schema.
 * --create creates the target (from template0) first, and drops it again
 * unless the restore committed.
 *
 * verify picks the newest backup in the directory, or the newest of one
 * database (--backup-of), unless it is given one, and says which database
 * it picked.  It checks the backup first in one read of its own, without
 * touching a server, so that a damaged backup is reported as such; then it
 * restores it the way restore does, checked again over the bytes it
 * restores, into a temporary database snapshot_ops_verify_<pid> created
 * with the extension's scheduler off, compares the row counts, and drops
 * the database whatever happened.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/cmd_restore.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "common/logging.h"

#include "backup_dir.h"
#include "backup_read.h"
#include "commands.h"
#include "database.h"
#include "interrupt.h"
#include "pg_programs.h"
#include "restore_stream.h"

/*
 * Compare the row counts of the four tables in the database of conn with
 * the counts in the backup.  Returns an exit code.
 */
static int
restore_compare_counts(PGconn *conn, const SobDumpScan *scan)
{
	char	   *names[SOB_NTABLES];
	long long	counts[SOB_NTABLES];
	int			result = SOB_EXIT_OK;
	int			rc;
	int			i;

	rc = sob_table_counts(conn, names, counts);
	if (rc < 0)
		return SOB_EXIT_SERVER;
	if (rc > 0)
	{
		printf("  The backup holds no snapshot_ops extension; no row counts to compare\n");
		return SOB_EXIT_OK;
	}
	printf("  %-40s %12s %12s\n", "TABLE", "ROWS", "IN BACKUP");
	for (i = 0; i < SOB_NTABLES; i++)
	{
		long long	expected = sob_scan_rows(scan, names[i]);
		bool		ok = expected < 0 ? counts[i] == 0 : counts[i] == expected;

		printf("  %-40s %12lld %12lld  %s\n", names[i], counts[i],
			   expected < 0 ? 0 : expected, ok ? "ok" : "MISMATCH");
		if (!ok)
			result = SOB_EXIT_VERIFY;
		pg_free(names[i]);
	}
	if (result != SOB_EXIT_OK)
		pg_log_error("the restored row counts differ from the counts in the backup");
	return result;
}

/* What --clean sends ahead of the backup, then the schema's DROP SCHEMA. */
#define RESTORE_DROP_EXTENSION	"DROP EXTENSION IF EXISTS snapshot_ops;\n"

/*
 * The SQL that --clean sends ahead of the backup into the database of conn:
 * *sql receives DROP EXTENSION and, if the extension lives in a schema of
 * its own, DROP SCHEMA for that schema (palloc'd); see the file header.
 * Returns an exit code, after printing why when it is not SOB_EXIT_OK.
 */
static int
restore_clean_sql(PGconn *conn, const char *dbname, char **sql)
{
	char	   *schema;
	char	   *example;
	char	   *ident;
	long long	nothers;
	int			result = SOB_EXIT_OK;

	*sql = NULL;
	if (sob_extension_schema(conn, &schema, &nothers, &example) < 0)
		return SOB_EXIT_SERVER;
	if (schema == NULL || strcmp(schema, "public") == 0 ||
		strncmp(schema, "pg_", 3) == 0 || strcmp(schema, "information_schema") == 0)
		*sql = pg_strdup(RESTORE_DROP_EXTENSION);
	else if (nothers > 0)
	{
		pg_log_error("schema \"%s\" of the snapshot_ops extension in database \"%s\" holds %lld other object%s, such as %s",
					 schema, dbname, nothers, nothers == 1 ? "" : "s", example);
		pg_log_error_detail("--clean drops the extension and then its schema, which the backup creates again; it never drops objects of your own.");
		pg_log_error_hint("Move them to another schema, or restore into an empty database (--create makes one).");
		result = SOB_EXIT_REFUSED;
	}
	else if ((ident = PQescapeIdentifier(conn, schema, strlen(schema))) == NULL)
	{
		pg_log_error("%s", PQerrorMessage(conn));
		result = SOB_EXIT_SERVER;
	}
	else
	{
		*sql = psprintf("%sDROP SCHEMA IF EXISTS %s;\n", RESTORE_DROP_EXTENSION, ident);
		PQfreemem(ident);
		printf("  --clean: the extension's schema \"%s\" is dropped with it and created again by the backup\n",
			   schema);
	}
	pg_free(schema);
	pg_free(example);
	return result;
}

/*
 * Check that the target database of conn may be restored into: it must be
 * empty, or hold the extension with --clean.  Returns an exit code, after
 * printing why when it is not SOB_EXIT_OK.
 */
static int
restore_check_target(PGconn *conn, const char *dbname, bool clean)
{
	bool		has_extension;
	long long	nrelations;
	char	   *example;

	if (sob_target_contents(conn, &has_extension, &nrelations, &example) < 0)
		return SOB_EXIT_SERVER;
	if ((has_extension || nrelations > 0) && !clean)
	{
		if (has_extension)
			pg_log_error("database \"%s\" already has the snapshot_ops extension", dbname);
		else
			pg_log_error("database \"%s\" is not empty: it has %lld relation%s, such as %s",
						 dbname, nrelations, nrelations == 1 ? "" : "s", example);
		pg_log_error_hint("Restore into an empty database (--create makes one), or use --clean to replace the snapshot_ops extension and its data.");
		pg_free(example);
		return SOB_EXIT_REFUSED;
	}
	if (nrelations > 0)
		printf("  Note: the target has %lld other relation%s (such as %s); the restore fails, changing nothing, if the backup defines any of them\n",
			   nrelations, nrelations == 1 ? "" : "s", example);
	pg_free(example);
	return SOB_EXIT_OK;
}

/* restore: see the file header. */
int
sob_cmd_restore(const SobOptions *opts)
{
	SobConnInfo ci;
	SobBackupRead rd;
	PGconn	   *conn = NULL;
	PGconn	   *maint = NULL;
	char	   *dbname = NULL;
	char	   *clean_sql = NULL;
	char		psql[MAXPGPATH];
	bool		created = false;
	bool		committed = false;
	int			fd = -1;
	int			result;

	memset(&rd, 0, sizeof(rd));
	if (!sob_conninfo_parse(opts->conninfo, &ci))
		return SOB_EXIT_USAGE;
	dbname = sob_default_dbname(&ci);
	if (dbname == NULL)
	{
		pg_log_error("could not determine the target database; use -d");
		sob_conninfo_free(&ci);
		return SOB_EXIT_USAGE;
	}

	printf("[RESTORE] Restoring %s into database \"%s\"\n", opts->restore_file, dbname);
	result = sob_backup_open(&rd, opts->restore_file, opts->no_checksum, &fd);
	if (result != SOB_EXIT_OK)
		goto done;

	if (opts->create)
	{
		maint = sob_connect_maintenance(&ci);
		if (maint == NULL)
		{
			result = SOB_EXIT_SERVER;
			goto done;
		}
		result = sob_create_database(maint, dbname);
		if (result != SOB_EXIT_OK)
			goto done;
		created = true;
	}

	conn = sob_connect(&ci, dbname);
	if (conn == NULL)
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	if (!sob_find_program("psql", PQserverVersion(conn), psql))
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	if (!created)
	{
		result = restore_check_target(conn, dbname, opts->clean);
		if (result != SOB_EXIT_OK)
			goto done;
		if (opts->clean)
		{
			result = restore_clean_sql(conn, dbname, &clean_sql);
			if (result != SOB_EXIT_OK)
				goto done;
		}
	}
	else if (opts->clean)
		clean_sql = pg_strdup(RESTORE_DROP_EXTENSION);
	/* psql gets its own connection; ours must not hold locks meanwhile */
	PQfinish(conn);
	conn = NULL;

	result = sob_restore_stream(&rd, fd, &ci, dbname, psql, clean_sql, true,
								&committed);
	if (result != SOB_EXIT_OK)
		goto done;

	conn = sob_connect(&ci, dbname);
	if (conn == NULL)
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	result = restore_compare_counts(conn, &rd.scan);
	if (result == SOB_EXIT_OK)
		printf("  Restore of \"%s\" complete\n", dbname);

done:
	if (conn)
		PQfinish(conn);
	/* a restore that did not commit leaves nothing: not even the new database */
	if (created && !committed)
		(void) sob_drop_database(maint, dbname);
	if (maint)
		PQfinish(maint);
	if (fd >= 0)
		close(fd);
	sob_backup_read_free(&rd);
	pg_free(clean_sql);
	pg_free(dbname);
	sob_conninfo_free(&ci);
	return result;
}

/*
 * Keep the worker's scheduled jobs away from the database verify restores
 * into, so that retention cannot change the counts before they are
 * compared.  Only a superuser may set this; without it the comparison is
 * merely less certain, so a failure is ignored.
 */
static void
verify_scheduler_off(PGconn *maint, const char *vdb)
{
	char	   *ident = PQescapeIdentifier(maint, vdb, strlen(vdb));
	char	   *sql;

	if (ident == NULL)
		return;
	sql = psprintf("ALTER DATABASE %s SET snapshot_ops.enable_scheduler = off", ident);
	PQclear(PQexec(maint, sql));
	PQfreemem(ident);
	pg_free(sql);
}

/* verify: see the file header. */
int
sob_cmd_verify(const SobOptions *opts)
{
	SobConnInfo ci;
	SobBackupRead check;
	SobBackupRead rd;
	SobBackupFile *files = NULL;
	int			nfiles = 0;
	const char *path = opts->restore_file;
	PGconn	   *maint = NULL;
	PGconn	   *conn = NULL;
	char	   *vdb = NULL;
	char		psql[MAXPGPATH];
	bool		created = false;
	bool		committed;
	int			fd = -1;
	int			result;

	memset(&check, 0, sizeof(check));
	memset(&rd, 0, sizeof(rd));
	if (!sob_conninfo_parse(opts->conninfo, &ci))
		return SOB_EXIT_USAGE;

	if (path == NULL)
	{
		const SobBackupFile *pick = NULL;
		int			ndatabases;
		int			i;

		if (sob_scan_dir(opts->dir, &files, &nfiles, &ndatabases) < 0)
		{
			result = SOB_EXIT_IO;
			goto done;
		}
		if (opts->backup_of == NULL)
		{
			if (nfiles > 0)
				pick = &files[0];	/* the newest of all */
		}
		else
		{
			/* the newest that is of backup_of, wherever it is in the list */
			for (i = 0; i < nfiles; i++)
			{
				if (sob_is_backup_of(&files[i], opts->backup_of) &&
					(pick == NULL || files[i].mtime > pick->mtime))
					pick = &files[i];
			}
		}
		if (pick == NULL)
		{
			if (opts->backup_of)
				pg_log_error("no backups of database \"%s\" in \"%s\"",
							 opts->backup_of, opts->dir);
			else
				pg_log_error("no backups in \"%s\"", opts->dir);
			result = SOB_EXIT_IO;
			goto done;
		}
		path = pick->path;
		printf("[VERIFY] %s\n", path);
		if (opts->backup_of)
			printf("  The newest backup of database \"%s\" in %s\n", pick->database, opts->dir);
		else if (ndatabases > 1)
			printf("  The newest backup in %s, of database \"%s\"; the directory holds backups of %d databases (--backup-of picks one)\n",
				   opts->dir, pick->database, ndatabases);
		else
			printf("  The newest backup in %s, of database \"%s\"\n", opts->dir, pick->database);
	}
	else
		printf("[VERIFY] %s\n", path);

	result = sob_backup_open(&check, path, opts->no_checksum, &fd);
	if (result != SOB_EXIT_OK)
		goto done;
	sob_backup_read(&check, fd, NULL, NULL);
	result = sob_backup_verdict(&check, true);
	if (result == SOB_EXIT_SIGNAL)
		pg_log_error("interrupted by signal %d", sob_interrupted);
	if (result != SOB_EXIT_OK || opts->no_restore)
		goto done;

	maint = sob_connect(&ci, NULL);
	if (maint == NULL)
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	if (!sob_find_program("psql", PQserverVersion(maint), psql))
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	vdb = psprintf("snapshot_ops_verify_%d", (int) getpid());
	result = sob_create_database(maint, vdb);
	if (result != SOB_EXIT_OK)
		goto done;
	created = true;
	verify_scheduler_off(maint, vdb);

	result = sob_backup_reopen(&rd, &check, fd);
	if (result != SOB_EXIT_OK)
		goto done;
	result = sob_restore_stream(&rd, fd, &ci, vdb, psql, NULL, false, &committed);
	if (result != SOB_EXIT_OK)
		goto done;
	conn = sob_connect(&ci, vdb);
	if (conn == NULL)
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	result = restore_compare_counts(conn, &rd.scan);

done:
	if (conn)
		PQfinish(conn);
	if (created && sob_drop_database(maint, vdb) < 0 && result == SOB_EXIT_OK)
		result = SOB_EXIT_SERVER;
	if (maint)
		PQfinish(maint);
	if (fd >= 0)
		close(fd);
	if (result == SOB_EXIT_OK)
		printf("  Backup verified: ok\n");
	else if (result == SOB_EXIT_VERIFY)
		pg_log_info("verification FAILED for %s", path ? path : opts->dir);
	pg_free(vdb);
	sob_backup_read_free(&check);
	sob_backup_read_free(&rd);
	sob_free_files(files, nfiles);
	sob_conninfo_free(&ci);
	return result;
}
