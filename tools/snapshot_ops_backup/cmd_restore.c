/*-------------------------------------------------------------------------
 *
 * cmd_restore.c
 *		The restore and verify commands.
 *
 * Both first check the backup completely without touching a server: its
 * SHA-256 against the checksum file, then the whole gzip stream (zlib checks
 * the CRC-32 and length in the trailer), counting the COPY rows per table
 * and checking that the dump ran to its end.  Only then is the stream fed
 * to "psql -X -v ON_ERROR_STOP=1 --single-transaction -f -": the first
 * error stops psql and rolls everything back.  If feeding stops early (the
 * file changed after the check, a signal), psql is killed before it can see
 * the end of its input, so it never commits a partial restore.  Afterwards
 * the row counts of the extension's four tables are compared with the
 * counts in the backup.
 *
 * restore refuses a target that already holds the extension or any other
 * relation, unless --clean: then "DROP EXTENSION IF EXISTS snapshot_ops"
 * (without CASCADE) is sent ahead of the dump inside the same transaction,
 * so that a failed restore leaves the old data in place, and objects of
 * the user that depend on the extension make it fail instead of vanishing.
 * --create creates the target (from template0) first, and drops it again
 * if the restore fails.
 *
 * verify restores into a temporary database snapshot_ops_verify_<pid>,
 * created with the extension's scheduler off, and drops it afterwards
 * whatever happened.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/cmd_restore.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot_ops_backup.h"

/* State of the stream being fed to psql. */
typedef struct RestoreFeed
{
	int			fd;				/* psql's stdin */
	int			saved_errno;
} RestoreFeed;

/* sob_gz_read consumer: the dump scanner. */
static int
restore_consume_scan(void *arg, const char *buf, size_t len)
{
	sob_scan_feed((SobDumpScan *) arg, buf, len);
	return 0;
}

/* sob_gz_read consumer: psql's standard input. */
static int
restore_consume_pipe(void *arg, const char *buf, size_t len)
{
	RestoreFeed *feed = arg;

	while (len > 0)
	{
		ssize_t		n = write(feed->fd, buf, len);

		if (n < 0)
		{
			if (errno == EINTR && !sob_interrupted)
				continue;
			feed->saved_errno = errno;
			return -1;
		}
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

/*
 * Check the backup at path as the file header says; scan receives the row
 * counts.  Returns an exit code.
 */
static int
restore_check_file(const char *path, bool no_checksum, SobDumpScan *scan)
{
	char		hex[SOB_SHA256_HEX_LENGTH + 1];
	char		errbuf[1024];
	char		size1[32];
	char		size2[32];
	unsigned long long compressed = 0;
	SobChecksumStatus st;
	int			rc;

	if (access(path, R_OK) < 0)
	{
		sob_error("could not read \"%s\": %s", path, strerror(errno));
		return SOB_EXIT_IO;
	}
	st = sob_checksum_check(path, hex);
	switch (st)
	{
		case SOB_CHECKSUM_OK:
			printf("  Checksum: ok (sha256 %s)\n", hex);
			break;
		case SOB_CHECKSUM_MISMATCH:
			{
				char	   *cpath = sob_checksum_path(path);

				sob_error("checksum mismatch: \"%s\" has sha256 %s, which \"%s\" does not record",
						  path, hex, cpath);
				free(cpath);
				return SOB_EXIT_VERIFY;
			}
		case SOB_CHECKSUM_MISSING:
			if (!no_checksum)
			{
				char	   *cpath = sob_checksum_path(path);

				sob_error("checksum file \"%s\" is missing or invalid", cpath);
				fprintf(stderr, "Use --no-checksum to rely on the gzip check alone.\n");
				free(cpath);
				return SOB_EXIT_VERIFY;
			}
			printf("  Checksum: none (--no-checksum)\n");
			break;
		case SOB_CHECKSUM_ERROR:
			sob_error("could not read \"%s\": %s", path, strerror(errno));
			return SOB_EXIT_IO;
	}

	sob_scan_init(scan);
	rc = sob_gz_read(path, NULL, restore_consume_scan, scan, &compressed,
					 errbuf, sizeof(errbuf));
	if (rc == -1)
	{
		sob_error("%s", errbuf);
		return SOB_EXIT_IO;
	}
	if (rc == -3)
		return SOB_EXIT_SIGNAL;
	if (rc == -2)
	{
		sob_error("%s", errbuf);
		return SOB_EXIT_VERIFY;
	}
	if (!sob_scan_complete(scan))
	{
		sob_error("\"%s\" does not hold a complete pg_dump output (no end-of-dump comment)", path);
		return SOB_EXIT_VERIFY;
	}
	printf("  gzip stream: ok (%s compressed, %s of SQL)\n",
		   sob_size(compressed, size1, sizeof(size1)),
		   sob_size(scan->bytes, size2, sizeof(size2)));
	return SOB_EXIT_OK;
}

/*
 * Feed prefix (may be NULL) and the decompressed backup to psql connected
 * to dbname.  Returns an exit code.
 */
static int
restore_run_psql(const SobConnInfo *ci, const char *dbname, const char *path,
				 const char *prefix)
{
	RestoreFeed feed;
	char	   *cs = sob_conninfo_string(ci, dbname);
	char	   *dbarg = sob_psprintf("--dbname=%s", cs);
	const char *args[12];
	char		errbuf[1024];
	int			pipefd[2];
	int			devnull;
	int			rc = 0;
	pid_t		pid;
	double		start = sob_now();

	free(cs);
	if (sob_pipe(pipefd, false) < 0)
	{
		sob_error("could not create pipe: %s", strerror(errno));
		free(dbarg);
		return SOB_EXIT_IO;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

	args[0] = "psql";
	args[1] = "-X";
	args[2] = "-q";
	args[3] = "--no-password";
	args[4] = "-v";
	args[5] = "ON_ERROR_STOP=1";
	args[6] = "--single-transaction";
	args[7] = dbarg;
	args[8] = "-f";
	args[9] = "-";
	args[10] = NULL;
	printf("  Running psql (%s)...\n", sob_program_path("psql"));
	pid = sob_spawn("psql", args, pipefd[0], devnull, ci->password);
	close(pipefd[0]);
	if (devnull >= 0)
		close(devnull);
	free(dbarg);
	if (pid < 0)
	{
		close(pipefd[1]);
		return SOB_EXIT_SERVER;
	}

	feed.fd = pipefd[1];
	feed.saved_errno = 0;
	if (prefix)
		rc = restore_consume_pipe(&feed, prefix, strlen(prefix));
	if (rc == 0)
		rc = sob_gz_read(path, NULL, restore_consume_pipe, &feed, NULL,
						 errbuf, sizeof(errbuf));
	if (rc != 0)
	{
		/*
		 * Kill psql before it sees the end of its input: at EOF it would
		 * commit what it has got.
		 */
		kill(pid, SIGKILL);
		close(pipefd[1]);
		(void) sob_wait(pid, "psql");
		if (feed.saved_errno == EPIPE)
			sob_error("psql stopped reading its input; see its messages above");
		else if (sob_interrupted)
			sob_error("interrupted by signal %d; nothing was restored", sob_interrupted);
		else if (feed.saved_errno != 0)
			sob_error("could not write to psql: %s", strerror(feed.saved_errno));
		else
			sob_error("%s", errbuf);
		if (sob_interrupted)
			return SOB_EXIT_SIGNAL;
		if (feed.saved_errno != 0)
			return SOB_EXIT_SERVER;
		return rc == -2 ? SOB_EXIT_VERIFY : SOB_EXIT_IO;
	}
	close(pipefd[1]);
	if (sob_wait(pid, "psql") < 0)
	{
		fprintf(stderr, "%s: the restore was rolled back; database \"%s\" is unchanged\n",
				SOB_PROGNAME, dbname);
		return SOB_EXIT_SERVER;
	}
	printf("  Restored in %.1f s\n", sob_now() - start);
	return SOB_EXIT_OK;
}

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
		free(names[i]);
	}
	if (result != SOB_EXIT_OK)
		sob_error("the restored row counts differ from the counts in the backup");
	return result;
}

/* DROP DATABASE name, terminating sessions (the worker's) on 13 and later. */
static int
restore_drop_database(PGconn *conn, const char *name)
{
	char	   *ident = PQescapeIdentifier(conn, name, strlen(name));
	char	   *sql;
	int			rc;

	sql = sob_psprintf("DROP DATABASE IF EXISTS %s%s", ident,
					   PQserverVersion(conn) >= 130000 ? " WITH (FORCE)" : "");
	rc = sob_exec_command(conn, sql);
	if (rc == 0)
		printf("  Dropped database \"%s\"\n", name);
	PQfreemem(ident);
	free(sql);
	return rc;
}

/*
 * CREATE DATABASE name from template0.  Returns an exit code; refused if
 * the database exists.
 */
static int
restore_create_database(PGconn *conn, const char *name)
{
	const char *params[1] = {name};
	PGresult   *res;
	char	   *ident;
	char	   *sql;
	int			rc;

	res = PQexecParams(conn,
					   "SELECT FROM pg_catalog.pg_database"
					   " WHERE datname OPERATOR(pg_catalog.=) $1",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sob_error("%s", PQerrorMessage(conn));
		PQclear(res);
		return SOB_EXIT_SERVER;
	}
	rc = PQntuples(res);
	PQclear(res);
	if (rc > 0)
	{
		sob_error("database \"%s\" already exists", name);
		return SOB_EXIT_REFUSED;
	}

	ident = PQescapeIdentifier(conn, name, strlen(name));
	sql = sob_psprintf("CREATE DATABASE %s TEMPLATE template0", ident);
	PQfreemem(ident);
	rc = sob_exec_command(conn, sql);
	free(sql);
	if (rc < 0)
		return SOB_EXIT_SERVER;
	printf("  Created database \"%s\"\n", name);
	return SOB_EXIT_OK;
}

/* restore: see the file header. */
int
sob_cmd_restore(const SobOptions *opts)
{
	SobConnInfo ci;
	SobDumpScan scan;
	PGconn	   *conn = NULL;
	PGconn	   *maint = NULL;
	char	   *dbname = NULL;
	bool		created = false;
	int			result;

	memset(&scan, 0, sizeof(scan));
	if (!sob_conninfo_parse(opts->conninfo, &ci))
		return SOB_EXIT_USAGE;
	dbname = sob_default_dbname(&ci);
	if (dbname == NULL)
	{
		sob_error("could not determine the target database; use -d");
		sob_conninfo_free(&ci);
		return SOB_EXIT_USAGE;
	}

	printf("[RESTORE] Restoring %s into database \"%s\"\n", opts->restore_file, dbname);
	result = restore_check_file(opts->restore_file, opts->no_checksum, &scan);
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
		result = restore_create_database(maint, dbname);
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
	if (!created)
	{
		bool		has_extension;
		long long	nrelations;
		char	   *example;

		if (sob_target_contents(conn, &has_extension, &nrelations, &example) < 0)
		{
			result = SOB_EXIT_SERVER;
			goto done;
		}
		if ((has_extension || nrelations > 0) && !opts->clean)
		{
			if (has_extension)
				sob_error("database \"%s\" already has the snapshot_ops extension", dbname);
			else
				sob_error("database \"%s\" is not empty: it has %lld relation%s, such as %s",
						  dbname, nrelations, nrelations == 1 ? "" : "s", example);
			fprintf(stderr,
					"Restore into an empty database (--create makes one), or use --clean\n"
					"to replace the snapshot_ops extension and its data.\n");
			free(example);
			result = SOB_EXIT_REFUSED;
			goto done;
		}
		if (nrelations > 0)
			printf("  Note: the target has %lld other relation%s (such as %s); the restore fails, changing nothing, if the backup defines any of them\n",
				   nrelations, nrelations == 1 ? "" : "s", example);
		free(example);
	}
	/* psql gets its own connection; ours must not hold locks meanwhile */
	PQfinish(conn);
	conn = NULL;

	result = restore_run_psql(&ci, dbname, opts->restore_file,
							  opts->clean ? "DROP EXTENSION IF EXISTS snapshot_ops;\n" : NULL);
	if (result != SOB_EXIT_OK)
		goto done;

	conn = sob_connect(&ci, dbname);
	if (conn == NULL)
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	result = restore_compare_counts(conn, &scan);
	if (result == SOB_EXIT_OK)
		printf("  Restore of \"%s\" complete\n", dbname);

done:
	if (conn)
		PQfinish(conn);
	if (created && result != SOB_EXIT_OK && result != SOB_EXIT_VERIFY)
	{
		/* a failed restore changes nothing: not even the new database */
		(void) restore_drop_database(maint, dbname);
	}
	if (maint)
		PQfinish(maint);
	sob_scan_free(&scan);
	free(dbname);
	sob_conninfo_free(&ci);
	return result;
}

/* verify: see the file header. */
int
sob_cmd_verify(const SobOptions *opts)
{
	SobConnInfo ci;
	SobDumpScan scan;
	SobBackupFile *files = NULL;
	int			nfiles = 0;
	const char *path = opts->restore_file;
	PGconn	   *maint = NULL;
	PGconn	   *conn = NULL;
	char	   *vdb = NULL;
	bool		created = false;
	int			result;

	memset(&scan, 0, sizeof(scan));
	if (!sob_conninfo_parse(opts->conninfo, &ci))
		return SOB_EXIT_USAGE;

	if (path == NULL)
	{
		if (sob_scan_dir(opts->dir, &files, &nfiles) < 0)
		{
			result = SOB_EXIT_IO;
			goto done;
		}
		if (nfiles == 0)
		{
			sob_error("no backups in \"%s\"", opts->dir);
			result = SOB_EXIT_IO;
			goto done;
		}
		path = files[0].path;
	}

	printf("[VERIFY] %s\n", path);
	result = restore_check_file(path, opts->no_checksum, &scan);
	if (result != SOB_EXIT_OK || opts->no_restore)
		goto done;

	maint = sob_connect(&ci, NULL);
	if (maint == NULL)
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	vdb = sob_psprintf("snapshot_ops_verify_%d", (int) getpid());
	result = restore_create_database(maint, vdb);
	if (result != SOB_EXIT_OK)
		goto done;
	created = true;

	/*
	 * Keep the worker's scheduled jobs away from the copy, so that retention
	 * cannot change the counts before they are compared.  Only a superuser
	 * may set this; without it the comparison is merely less certain.
	 */
	{
		char	   *ident = PQescapeIdentifier(maint, vdb, strlen(vdb));
		char	   *sql = sob_psprintf("ALTER DATABASE %s SET snapshot_ops.enable_scheduler = off",
									   ident);
		PGresult   *res = PQexec(maint, sql);

		PQclear(res);
		PQfreemem(ident);
		free(sql);
	}

	result = restore_run_psql(&ci, vdb, path, NULL);
	if (result != SOB_EXIT_OK)
		goto done;
	conn = sob_connect(&ci, vdb);
	if (conn == NULL)
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	result = restore_compare_counts(conn, &scan);

done:
	if (conn)
		PQfinish(conn);
	if (created && restore_drop_database(maint, vdb) < 0 && result == SOB_EXIT_OK)
		result = SOB_EXIT_SERVER;
	if (maint)
		PQfinish(maint);
	if (result == SOB_EXIT_OK)
		printf("  Backup verified: ok\n");
	else if (result == SOB_EXIT_VERIFY)
		fprintf(stderr, "%s: verification FAILED for %s\n", SOB_PROGNAME, path ? path : opts->dir);
	free(vdb);
	sob_scan_free(&scan);
	sob_free_files(files, nfiles);
	sob_conninfo_free(&ci);
	return result;
}
