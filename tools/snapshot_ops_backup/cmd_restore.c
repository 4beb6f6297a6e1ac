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
#include "postgres_fe.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "common/logging.h"
#include "portability/instr_time.h"

#include "backup_dir.h"
#include "checksum.h"
#include "commands.h"
#include "database.h"
#include "dump_scan.h"
#include "gzip_stream.h"
#include "human_units.h"
#include "interrupt.h"
#include "pg_programs.h"

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
	char		hex[SOB_SHA256_HEX_LEN + 1];
	char		errbuf[1024];
	char		size1[SOB_HUMAN_LEN];
	char		size2[SOB_HUMAN_LEN];
	uint64		compressed = 0;
	SobChecksumStatus st;
	SobGzResult rc;
	int			fd;

	if (access(path, R_OK) < 0)
	{
		pg_log_error("could not read \"%s\": %m", path);
		return SOB_EXIT_IO;
	}
	st = sob_checksum_file(path, hex);
	switch (st)
	{
		case SOB_CHECKSUM_OK:
			printf("  Checksum: ok (sha256 %s)\n", hex);
			break;
		case SOB_CHECKSUM_MISMATCH:
			{
				char	   *cpath = sob_checksum_path(path);

				pg_log_error("checksum mismatch: \"%s\" has sha256 %s, which \"%s\" does not record",
							 path, hex, cpath);
				pg_free(cpath);
				return SOB_EXIT_VERIFY;
			}
		case SOB_CHECKSUM_MISSING:
			if (!no_checksum)
			{
				char	   *cpath = sob_checksum_path(path);

				pg_log_error("checksum file \"%s\" is missing or invalid", cpath);
				pg_log_error_hint("Use --no-checksum to rely on the gzip check alone.");
				pg_free(cpath);
				return SOB_EXIT_VERIFY;
			}
			printf("  Checksum: none (--no-checksum)\n");
			break;
		case SOB_CHECKSUM_ERROR:
			pg_log_error("could not read \"%s\": %m", path);
			return SOB_EXIT_IO;
	}

	sob_scan_init(scan);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		pg_log_error("could not open \"%s\": %m", path);
		return SOB_EXIT_IO;
	}
	rc = sob_gz_read(fd, path, NULL, restore_consume_scan, scan, &compressed,
					 errbuf, sizeof(errbuf));
	close(fd);
	if (rc == SOB_GZ_READ_ERROR)
	{
		pg_log_error("%s", errbuf);
		return SOB_EXIT_IO;
	}
	if (rc == SOB_GZ_STOPPED)
		return SOB_EXIT_SIGNAL;
	if (rc == SOB_GZ_DAMAGED)
	{
		pg_log_error("%s", errbuf);
		return SOB_EXIT_VERIFY;
	}
	if (!sob_scan_complete(scan))
	{
		pg_log_error("\"%s\" does not hold a complete pg_dump output (no end-of-dump comment)", path);
		return SOB_EXIT_VERIFY;
	}
	printf("  gzip stream: ok (%s compressed, %s of SQL)\n",
		   sob_human_size(compressed, size1), sob_human_size(scan->bytes, size2));
	return SOB_EXIT_OK;
}

/*
 * Feed prefix (may be NULL) and the decompressed backup to psql connected
 * to dbname.  Returns an exit code.
 */
static int
restore_run_psql(const SobConnInfo *ci, const char *dbname, const char *psql,
				 const char *path, const char *prefix)
{
	RestoreFeed feed;
	char	   *cs = sob_conninfo_string(ci, dbname);
	char	   *dbarg = psprintf("--dbname=%s", cs);
	const char *args[12];
	char		errbuf[1024];
	int			pipefd[2];
	int			devnull;
	int			rc = 0;
	int			fd;
	pid_t		pid;
	instr_time	start;
	instr_time	elapsed;

	INSTR_TIME_SET_CURRENT(start);
	pg_free(cs);
	if (sob_pipe(pipefd, false) < 0)
	{
		pg_log_error("could not create pipe: %m");
		pg_free(dbarg);
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
	printf("  Running psql (%s)...\n", psql);
	pid = sob_spawn(psql, args, pipefd[0], devnull, ci->password);
	close(pipefd[0]);
	if (devnull >= 0)
		close(devnull);
	pg_free(dbarg);
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
	{
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
		{
			snprintf(errbuf, sizeof(errbuf), "could not open \"%s\": %m", path);
			rc = SOB_GZ_READ_ERROR;
		}
		else
		{
			rc = sob_gz_read(fd, path, NULL, restore_consume_pipe, &feed, NULL,
							 errbuf, sizeof(errbuf));
			close(fd);
		}
	}
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
			pg_log_error("psql stopped reading its input; see its messages above");
		else if (sob_interrupted)
			pg_log_error("interrupted by signal %d; nothing was restored", sob_interrupted);
		else if (feed.saved_errno != 0)
		{
			errno = feed.saved_errno;
			pg_log_error("could not write to psql: %m");
		}
		else
			pg_log_error("%s", errbuf);
		if (sob_interrupted)
			return SOB_EXIT_SIGNAL;
		if (feed.saved_errno != 0)
			return SOB_EXIT_SERVER;
		return rc == SOB_GZ_DAMAGED ? SOB_EXIT_VERIFY : SOB_EXIT_IO;
	}
	close(pipefd[1]);
	if (sob_wait(pid, "psql") < 0)
	{
		pg_log_info("the restore was rolled back; database \"%s\" is unchanged", dbname);
		return SOB_EXIT_SERVER;
	}
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	printf("  Restored in %.1f s\n", INSTR_TIME_GET_DOUBLE(elapsed));
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
		pg_free(names[i]);
	}
	if (result != SOB_EXIT_OK)
		pg_log_error("the restored row counts differ from the counts in the backup");
	return result;
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
	char		psql[MAXPGPATH];
	bool		created = false;
	int			result;

	memset(&scan, 0, sizeof(scan));
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
				pg_log_error("database \"%s\" already has the snapshot_ops extension", dbname);
			else
				pg_log_error("database \"%s\" is not empty: it has %lld relation%s, such as %s",
							 dbname, nrelations, nrelations == 1 ? "" : "s", example);
			pg_log_error_hint("Restore into an empty database (--create makes one), or use --clean to replace the snapshot_ops extension and its data.");
			pg_free(example);
			result = SOB_EXIT_REFUSED;
			goto done;
		}
		if (nrelations > 0)
			printf("  Note: the target has %lld other relation%s (such as %s); the restore fails, changing nothing, if the backup defines any of them\n",
				   nrelations, nrelations == 1 ? "" : "s", example);
		pg_free(example);
	}
	/* psql gets its own connection; ours must not hold locks meanwhile */
	PQfinish(conn);
	conn = NULL;

	result = restore_run_psql(&ci, dbname, psql, opts->restore_file,
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
		(void) sob_drop_database(maint, dbname);
	}
	if (maint)
		PQfinish(maint);
	sob_scan_free(&scan);
	pg_free(dbname);
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
	char		psql[MAXPGPATH];
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
			pg_log_error("no backups in \"%s\"", opts->dir);
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

	/*
	 * Keep the worker's scheduled jobs away from the copy, so that retention
	 * cannot change the counts before they are compared.  Only a superuser
	 * may set this; without it the comparison is merely less certain.
	 */
	{
		char	   *ident = PQescapeIdentifier(maint, vdb, strlen(vdb));
		char	   *sql = psprintf("ALTER DATABASE %s SET snapshot_ops.enable_scheduler = off",
								   ident);
		PGresult   *res = PQexec(maint, sql);

		PQclear(res);
		PQfreemem(ident);
		pg_free(sql);
	}

	result = restore_run_psql(&ci, vdb, psql, path, NULL);
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
	if (created && sob_drop_database(maint, vdb) < 0 && result == SOB_EXIT_OK)
		result = SOB_EXIT_SERVER;
	if (maint)
		PQfinish(maint);
	if (result == SOB_EXIT_OK)
		printf("  Backup verified: ok\n");
	else if (result == SOB_EXIT_VERIFY)
		pg_log_info("verification FAILED for %s", path ? path : opts->dir);
	pg_free(vdb);
	sob_scan_free(&scan);
	sob_free_files(files, nfiles);
	sob_conninfo_free(&ci);
	return result;
}
