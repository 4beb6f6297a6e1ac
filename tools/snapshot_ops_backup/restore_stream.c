/*-------------------------------------------------------------------------
 *
 * restore_stream.c
 *		Feeding a backup to psql in one read, committing only a backup
 *		that passed its check.
 *
 * The backup is read once (backup_read.c): every byte read is hashed, and
 * the SQL inflated from those same bytes goes to "psql -X -v
 * ON_ERROR_STOP=1 --single-transaction -f -" on its standard input.  The
 * checksum, the gzip trailer and the end of the dump are known only when
 * the whole file has been read, by which time psql has run all of it in its
 * transaction; the restore must then commit if and only if they are right.
 *
 * psql commits when its input ends, and could be made to fail instead by
 * sending it a failing statement; but what psql makes of text appended to a
 * damaged stream depends on the state the damage left it in (inside a
 * string, a COPY, a meta-command ...), and psql 15 even stops reading,
 * and commits, when an empty statement follows the end of a COPY.  So the
 * decision is taken by the server instead, with a guard that psql's parsing
 * cannot touch: ahead of the backup, the transaction inserts a row whose
 * foreign key is DEFERRABLE INITIALLY DEFERRED and points at a row that
 * does not exist.  A foreign key deferred to the end is checked at COMMIT;
 * the transaction can commit only after the tool, having found the backup
 * good, sends the missing row.  A backup that fails its check, is cut
 * short, or whose SQL runs COMMIT or SET CONSTRAINTS itself, fails at that
 * check, and psql's transaction is rolled back.  The guard is two temporary
 * tables (ON COMMIT DROP): plain SQL, no procedural language, nothing left
 * behind.
 *
 * psql reads ahead of what it executes, but it can never see the end of
 * its input before the tool has read the whole backup and closed the pipe;
 * when it stops early (an SQL error), the tool reads on to the end anyway,
 * so that a damaged backup is reported as damaged (exit 3) and not as the
 * SQL error the damage caused.
 *
 * SIGINT or SIGTERM stops psql at any time, the post-data part included,
 * which may build indexes for hours after the tool has read the whole
 * backup: the tool sends psql SIGINT, on which psql cancels the statement
 * its server runs, rolls back and exits (pg_programs.c kills it if it does
 * not), and then exits itself with SOB_EXIT_SIGNAL.  psql's exit status
 * tells whether its COMMIT had gone through; only a psql that had to be
 * killed leaves that open, and the tool says so.  A Ctrl-C reaches psql
 * directly too, with the same effect.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/restore_stream.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "common/logging.h"
#include "portability/instr_time.h"

#include "interrupt.h"
#include "pg_programs.h"
#include "restore_stream.h"
#include "snapshot_ops_backup.h"

/*
 * The guard, sent ahead of the backup (see the file header).  CREATE
 * TEMPORARY TABLE always creates in pg_temp; the other statements name it,
 * since the dump empties search_path.
 */
#define RESTORE_GUARD \
	"CREATE TEMPORARY TABLE snapshot_ops_backup_confirmed (confirmed int PRIMARY KEY) ON COMMIT DROP;\n" \
	"CREATE TEMPORARY TABLE snapshot_ops_backup_guard (confirmed int\n" \
	"  CONSTRAINT \"restore not confirmed by snapshot_ops_backup\"\n" \
	"  REFERENCES pg_temp.snapshot_ops_backup_confirmed DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP;\n" \
	"INSERT INTO pg_temp.snapshot_ops_backup_guard VALUES (1);\n"

/*
 * Sent after a backup that passed its check, which ends with pg_dump's
 * closing comment; the newline ends that line if the file did not.
 */
#define RESTORE_CONFIRM \
	"\nINSERT INTO pg_temp.snapshot_ops_backup_confirmed VALUES (1);\n"

/* psql's standard input. */
typedef struct RestoreFeed
{
	int			fd;
	bool		gone;			/* psql stopped reading */
} RestoreFeed;

/*
 * Write to psql (a SobGzConsumer).  When psql has stopped reading (it exits
 * at the first SQL error), writing stops but reading goes on; only a signal
 * stops the read.
 */
static int
restore_feed(void *arg, const char *buf, size_t len)
{
	RestoreFeed *feed = arg;

	while (len > 0 && !feed->gone)
	{
		ssize_t		n = write(feed->fd, buf, len);

		if (n < 0)
		{
			if (errno == EINTR)
			{
				if (sob_interrupted)
					return -1;
				continue;
			}
			feed->gone = true;	/* EPIPE: psql exited; see its messages */
			break;
		}
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

/* Send text of our own to psql. */
static void
restore_send(RestoreFeed *feed, const char *text)
{
	(void) restore_feed(feed, text, strlen(text));
}

/*
 * Report a restore that SIGINT or SIGTERM stopped after the tool had read
 * the whole backup, and return SOB_EXIT_SIGNAL.  confirmed: the tool had
 * sent the confirmation; psql_ok: psql exited with status 0; killed: psql
 * did not stop on SIGINT and had to be killed.  *committed tells whether
 * psql committed, as far as the tool can know.
 */
static int
restore_interrupted(const char *dbname, bool confirmed, bool psql_ok,
					bool killed, bool *committed)
{
	if (confirmed && killed)
	{
		/* it may have been in its COMMIT, which SIGINT cannot stop */
		pg_log_error("interrupted by signal %d; psql did not stop on its cancel request and was killed",
					 sob_interrupted);
		pg_log_error_detail("If its COMMIT was already under way, the restore into database \"%s\" may have committed; otherwise it was rolled back.",
							dbname);
	}
	else if (confirmed && psql_ok)
	{
		*committed = true;
		pg_log_error("interrupted by signal %d after psql had committed the restore into database \"%s\"; the row counts were not compared",
					 sob_interrupted, dbname);
	}
	else
	{
		pg_log_error("interrupted by signal %d; psql was stopped", sob_interrupted);
		pg_log_info("the restore was rolled back; database \"%s\" is unchanged", dbname);
	}
	return SOB_EXIT_SIGNAL;
}

/*
 * Restore the backup open on fd, read once into rd (prepared by
 * sob_backup_open() or sob_backup_reopen()), into database dbname with the
 * psql at psql.  prefix (may be NULL) is SQL sent ahead of the backup,
 * inside the same transaction.  With report_ok, an intact backup is
 * reported as such.  *committed tells whether psql committed.  Returns an
 * exit code, after printing why when it is not SOB_EXIT_OK.
 */
int
sob_restore_stream(SobBackupRead *rd, int fd, const SobConnInfo *ci,
				   const char *dbname, const char *psql, const char *prefix,
				   bool report_ok, bool *committed)
{
	RestoreFeed feed;
	char	   *cs;
	char	   *dbarg;
	const char *args[11];
	int			pipefd[2];
	int			devnull;
	int			result;
	int			status;
	bool		killed = false;
	pid_t		pid;
	instr_time	start;
	instr_time	elapsed;

	*committed = false;
	INSTR_TIME_SET_CURRENT(start);

	/* psql's output is of no use; its errors go to our stderr */
	devnull = open(DEVNULL, O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
	{
		pg_log_error("could not open \"%s\": %m", DEVNULL);
		return SOB_EXIT_IO;
	}
	if (sob_pipe(pipefd, false) < 0)
	{
		pg_log_error("could not create pipe: %m");
		close(devnull);
		return SOB_EXIT_IO;
	}

	cs = sob_conninfo_string(ci, dbname);
	dbarg = psprintf("--dbname=%s", cs);
	pg_free(cs);
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
	close(devnull);
	pg_free(dbarg);
	if (pid < 0)
	{
		close(pipefd[1]);
		return SOB_EXIT_SERVER;
	}

	feed.fd = pipefd[1];
	feed.gone = false;
	restore_send(&feed, RESTORE_GUARD);
	if (prefix)
		restore_send(&feed, prefix);
	sob_backup_read(rd, fd, restore_feed, &feed);

	if (rd->gz == SOB_GZ_STOPPED)
	{
		/* psql has not seen the confirmation: it cannot commit */
		close(pipefd[1]);
		(void) sob_stop_child(pid, SIGINT, &status);
		pg_log_error("interrupted by signal %d; nothing was restored", sob_interrupted);
		return SOB_EXIT_SIGNAL;
	}

	/*
	 * psql commits at the end of its input; without the confirmation, on
	 * which the guard waits, that COMMIT fails
	 */
	result = sob_backup_verdict(rd, report_ok);
	if (result == SOB_EXIT_OK)
		restore_send(&feed, RESTORE_CONFIRM);
	close(pipefd[1]);

	/* psql may still run the dump's post-data part, for hours */
	if (!sob_wait_unless_interrupted(pid, &status))
		killed = sob_stop_child(pid, SIGINT, &status);
	if (sob_interrupted)
		return restore_interrupted(dbname, result == SOB_EXIT_OK,
								   sob_child_succeeded(status), killed, committed);

	if (result == SOB_EXIT_OK)
	{
		if (!sob_child_succeeded(status))
		{
			sob_report_child("psql", status);
			pg_log_info("the restore was rolled back; database \"%s\" is unchanged", dbname);
			return SOB_EXIT_SERVER;
		}
		*committed = true;
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);
		printf("  Restored in %.1f s\n", INSTR_TIME_GET_DOUBLE(elapsed));
		return SOB_EXIT_OK;
	}
	if (sob_child_succeeded(status))
	{
		/* cannot happen: the guard's foreign key was never satisfied */
		*committed = true;
		pg_log_error("psql committed the restore into database \"%s\" although the backup failed its check",
					 dbname);
		return result;
	}
	pg_log_info("the restore was rolled back; database \"%s\" is unchanged", dbname);
	return result;
}
