/*-------------------------------------------------------------------------
 *
 * cmd_backup.c
 *		The backup command: pg_dump, compressed on the fly, published
 *		atomically with its checksum.
 *
 * pg_dump writes plain SQL to a pipe; this process compresses it with zlib
 * into a temporary file in the backup directory (created O_EXCL, mode 0600,
 * write-locked, see backup_dir.c), hashing the compressed bytes and
 * counting the COPY rows as they pass.  The gzip header records the
 * database's name, which the file name may not tell exactly (backup_dir.c).
 * Only when pg_dump has exited with status 0, its output ended with
 * pg_dump's closing comment and every byte is on disk (fsync) is the
 * checksum file, then the backup, given its final name (link(), so that an
 * existing backup is never overwritten) and the directory fsync'ed.  On any
 * failure, a signal included, the temporary files are removed: there is
 * never a partial backup under a backup's name.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/cmd_backup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_utils.h"
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

/* The files of one backup being written. */
typedef struct BackupFiles
{
	char	   *name;			/* base name of the backup */
	char	   *final;			/* dir/name */
	char	   *tmp;			/* dir/name.tmp.PID */
	char	   *sha_final;		/* dir/name.sha256 */
	char	   *sha_tmp;		/* dir/name.sha256.tmp.PID */
	char	   *lock;			/* dir/name.lock: the name is taken, or NULL */
	int			fd;
	int			sha_fd;
	bool		sha_published;	/* the checksum file has its final name */
	bool		published;		/* the backup too */
} BackupFiles;

/*
 * Close both files of a backup, each whatever happened to the other.
 * Returns false after printing an error.
 */
static bool
backup_close(BackupFiles *bf)
{
	bool		ok = true;

	if (bf->fd >= 0 && close(bf->fd) < 0)
	{
		pg_log_error("could not close \"%s\": %m", bf->final);
		ok = false;
	}
	if (bf->sha_fd >= 0 && close(bf->sha_fd) < 0)
	{
		pg_log_error("could not close \"%s\": %m", bf->sha_final);
		ok = false;
	}
	bf->fd = bf->sha_fd = -1;
	return ok;
}

/*
 * Remove what a failed backup left behind: its temporary files, and what it
 * had published, the backup before its checksum file, so that a backup is
 * never left without its checksum.  Returns false, after printing why, when
 * the backup itself could not be removed; its checksum file then stays
 * with it.
 */
static bool
backup_cleanup(BackupFiles *bf)
{
	(void) backup_close(bf);
	if (bf->tmp)
		unlink(bf->tmp);
	if (bf->sha_tmp)
		unlink(bf->sha_tmp);
	if (bf->published && unlink(bf->final) < 0 && errno != ENOENT)
	{
		pg_log_error("could not remove \"%s\": %m", bf->final);
		return false;
	}
	if (bf->sha_published && unlink(bf->sha_final) < 0 && errno != ENOENT)
		pg_log_warning("could not remove \"%s\": %m", bf->sha_final);
	return true;
}

/*
 * Give tmp the name final without ever replacing an existing file: link()
 * fails with EEXIST where rename() would silently overwrite.  On a file
 * system without hard links, fall back to rename() after checking.  Once
 * link() succeeded the file is published: if its temporary name cannot be
 * removed, that is a second name for the same file, left for rotate to
 * remove, and only a warning.
 */
static int
backup_publish(const char *tmp, const char *final)
{
	struct stat st;

	if (link(tmp, final) == 0)
	{
		if (unlink(tmp) < 0)
			pg_log_warning("could not remove temporary file \"%s\": %m", tmp);
		return 0;
	}
	if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS && errno != EMLINK)
		return -1;
	if (lstat(final, &st) == 0)
	{
		errno = EEXIST;
		return -1;
	}
	return rename(tmp, final);
}

/*
 * Choose the backup's name from the current local time; dir must exist.
 * The name is taken by creating dir/name.lock exclusively, so that two
 * backups started within one second (two cron lines, or databases "a b"
 * and "a_b" sharing a directory) never pick the same name: the second one
 * waits for the next second.  The lock file goes when the backup ends.
 */
static bool
backup_choose_name(BackupFiles *bf, const char *dir, const char *prefix)
{
	int			attempt;

	for (attempt = 0;; attempt++)
	{
		time_t		now = time(NULL);
		struct tm	tm;
		char		stamp[32];
		struct stat st;
		int			fd;
		char	   *sha;
		bool		free_name;

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
		pg_free(bf->name);
		pg_free(bf->final);
		pg_free(bf->lock);
		bf->name = psprintf("%s_backup_%s.sql.gz", prefix, stamp);
		bf->final = psprintf("%s/%s", dir, bf->name);
		bf->lock = psprintf("%s.lock", bf->final);
		/*
		 * The name is free when neither a backup nor a checksum file (one
		 * left behind by hand, say) has it.
		 */
		sha = sob_checksum_path(bf->final);
		free_name = lstat(bf->final, &st) < 0 && errno == ENOENT &&
			lstat(sha, &st) < 0 && errno == ENOENT;
		pg_free(sha);
		if (free_name)
		{
			fd = open(bf->lock, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (fd >= 0)
			{
				close(fd);
				break;
			}
			if (errno != EEXIST)
			{
				pg_log_error("could not create file \"%s\": %m", bf->lock);
				pg_free(bf->lock);
				bf->lock = NULL;
				return false;
			}
		}
		/* taken (a backup, or another run's lock): try the next second */
		if (attempt >= 30 || sob_interrupted)
		{
			pg_log_error("could not find a free name for the backup in \"%s\"", dir);
			pg_free(bf->lock);
			bf->lock = NULL;
			return false;
		}
		sleep(1);
	}
	bf->tmp = sob_temp_path(bf->final);
	bf->sha_final = sob_checksum_path(bf->final);
	bf->sha_tmp = sob_temp_path(bf->sha_final);
	return true;
}

/* Print the rows the dump holds for the extension's tables. */
static void
backup_print_rows(const SobDumpScan *scan)
{
	int			i,
				t;
	bool		any = false;

	for (i = 0; i < scan->ntables; i++)
	{
		const char *name = scan->tables[i].name;
		const char *dot = strrchr(name, '.');

		for (t = 0; t < SOB_NTABLES; t++)
		{
			if (dot && strcmp(dot + 1, sob_tables[t]) == 0)
			{
				printf("%s %s %lld", any ? "," : "  Rows:", name, scan->tables[i].rows);
				any = true;
			}
		}
	}
	if (any)
		printf("\n");
	else
		printf("  Rows: the dump holds no snapshot_ops tables\n");
}

/* backup: see the file header. */
int
sob_cmd_backup(const SobOptions *opts)
{
	BackupFiles bf;
	SobConnInfo ci;
	SobDumpScan scan;
	SobGzWriter gz;
	PGconn	   *conn;
	char	   *db;
	char	   *prefix;
	char	   *cs;
	char	   *dbarg;
	char	   *line;
	char	   *comment;
	char	   *buf;
	char		pg_dump[MAXPGPATH];
	char		hex[SOB_SHA256_HEX_LEN + 1];
	char		size1[SOB_HUMAN_LEN];
	char		size2[SOB_HUMAN_LEN];
	const char *args[6];
	int			pipefd[2];
	pid_t		pid;
	int			status;
	int			result = SOB_EXIT_OK;
	bool		gz_started = false;
	instr_time	start;
	instr_time	elapsed;
	double		reduction;

	INSTR_TIME_SET_CURRENT(start);
	memset(&bf, 0, sizeof(bf));
	bf.fd = bf.sha_fd = -1;

	/* resolve the database through libpq, and check that we can connect */
	if (!sob_conninfo_parse(opts->conninfo, &ci))
		return SOB_EXIT_USAGE;
	conn = sob_connect(&ci, NULL);
	if (conn == NULL)
	{
		sob_conninfo_free(&ci);
		return SOB_EXIT_SERVER;
	}
	if (!sob_find_program("pg_dump", PQserverVersion(conn), pg_dump))
	{
		PQfinish(conn);
		sob_conninfo_free(&ci);
		return SOB_EXIT_SERVER;
	}
	db = pg_strdup(PQdb(conn));
	PQfinish(conn);

	if (sob_make_dir(opts->dir) < 0)
	{
		pg_log_error("could not create directory \"%s\": %m", opts->dir);
		sob_conninfo_free(&ci);
		pg_free(db);
		return SOB_EXIT_IO;
	}
	prefix = sob_file_prefix(db);
	if (!backup_choose_name(&bf, opts->dir, prefix))
	{
		pg_free(prefix);
		pg_free(bf.name);
		pg_free(bf.final);
		pg_free(db);
		sob_conninfo_free(&ci);
		return sob_interrupted ? SOB_EXIT_SIGNAL : SOB_EXIT_IO;
	}
	pg_free(prefix);

	printf("[BACKUP] Creating backup: %s\n", bf.final);
	bf.fd = sob_create_temp(bf.tmp);
	if (bf.fd < 0)
	{
		result = SOB_EXIT_IO;
		goto done;
	}

	/* pg_dump: plain SQL on its stdout, no password prompt, no shell */
	if (sob_pipe(pipefd, true) < 0)
	{
		pg_log_error("could not create pipe: %m");
		result = SOB_EXIT_IO;
		goto done;
	}
	cs = sob_conninfo_string(&ci, db);
	dbarg = psprintf("--dbname=%s", cs);
	pg_free(cs);
	args[0] = "pg_dump";
	args[1] = "--format=plain";
	args[2] = "--no-password";
	args[3] = dbarg;
	args[4] = NULL;
	printf("  Running pg_dump (%s), gzip level %d...\n", pg_dump, opts->level);
	pid = sob_spawn(pg_dump, args, -1, pipefd[1], ci.password);
	close(pipefd[1]);
	pg_free(dbarg);
	if (pid < 0)
	{
		close(pipefd[0]);
		result = SOB_EXIT_SERVER;
		goto done;
	}

	/* the gzip header: the name without .gz, and the database's name */
	line = pnstrdup(bf.name, strlen(bf.name) - 3);
	comment = sob_backup_comment(db);
	sob_scan_init(&scan);
	sob_gz_writer_init(&gz, bf.fd, opts->level, line, comment, time(NULL));
	pg_free(line);
	pg_free(comment);
	gz_started = true;

	buf = pg_malloc(SOB_BUFSIZE);
	while (result == SOB_EXIT_OK)
	{
		ssize_t		n = read(pipefd[0], buf, SOB_BUFSIZE);

		if (sob_interrupted)
		{
			pg_log_error("interrupted by signal %d", sob_interrupted);
			result = SOB_EXIT_SIGNAL;
			break;
		}
		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			pg_log_error("could not read from pg_dump: %m");
			result = SOB_EXIT_SERVER;
			break;
		}
		if (n == 0)
			break;
		sob_scan_feed(&scan, buf, (size_t) n);
		if (sob_gz_write(&gz, buf, (size_t) n) < 0)
		{
			errno = gz.saved_errno;
			pg_log_error("could not write \"%s\": %m", bf.tmp);
			result = SOB_EXIT_IO;
		}
	}
	pg_free(buf);
	close(pipefd[0]);
	if (result != SOB_EXIT_OK)
	{
		/*
		 * pg_dump's output has nowhere to go.  SIGKILL ends it without a
		 * message: on SIGTERM it would print "terminated by user", a second
		 * error, and a misleading one after a full disk.  Its session ends
		 * when its server next talks to the closed connection.
		 */
		(void) sob_stop_child(pid, SIGKILL, &status);
		goto done;
	}
	/* pg_dump closed its output; a signal that came meanwhile still counts */
	if (!sob_wait_unless_interrupted(pid, &status))
		(void) sob_stop_child(pid, SIGKILL, &status);
	if (sob_interrupted)
	{
		/* pg_dump's failure, if it got the signal too, is no error of its own */
		pg_log_error("interrupted by signal %d", sob_interrupted);
		result = SOB_EXIT_SIGNAL;
		goto done;
	}
	if (!sob_child_succeeded(status))
	{
		sob_report_child("pg_dump", status);
		result = SOB_EXIT_SERVER;
		goto done;
	}
	if (!sob_scan_complete(&scan))
	{
		pg_log_error("pg_dump's output ended before its end-of-dump comment");
		result = SOB_EXIT_SERVER;
		goto done;
	}

	/* the rest of the compressed stream, then make it durable */
	if (sob_gz_finish(&gz, hex) < 0)
	{
		errno = gz.saved_errno;
		pg_log_error("could not write \"%s\": %m", bf.tmp);
		result = SOB_EXIT_IO;
		goto done;
	}
	if (fsync(bf.fd) < 0)
	{
		pg_log_error("could not fsync \"%s\": %m", bf.tmp);
		result = SOB_EXIT_IO;
		goto done;
	}

	/* the checksum file, in sha256sum's format */
	bf.sha_fd = sob_create_temp(bf.sha_tmp);
	if (bf.sha_fd < 0)
	{
		result = SOB_EXIT_IO;
		goto done;
	}
	line = sob_checksum_line(hex, bf.name);
	errno = 0;
	if (write(bf.sha_fd, line, strlen(line)) != (ssize_t) strlen(line) ||
		fsync(bf.sha_fd) < 0)
	{
		if (errno == 0)
			errno = ENOSPC;		/* a short write */
		pg_log_error("could not write \"%s\": %m", bf.sha_tmp);
		pg_free(line);
		result = SOB_EXIT_IO;
		goto done;
	}
	pg_free(line);

	/* the last moment at which a signal withdraws the backup */
	if (sob_interrupted)
	{
		pg_log_error("interrupted by signal %d", sob_interrupted);
		result = SOB_EXIT_SIGNAL;
		goto done;
	}

	/* publish: checksum first, so that a visible backup always has one */
	if (backup_publish(bf.sha_tmp, bf.sha_final) < 0)
	{
		pg_log_error("could not publish \"%s\" as \"%s\": %m", bf.sha_tmp, bf.sha_final);
		result = SOB_EXIT_IO;
		goto done;
	}
	bf.sha_published = true;
	if (backup_publish(bf.tmp, bf.final) < 0)
	{
		pg_log_error("could not publish \"%s\" as \"%s\": %m", bf.tmp, bf.final);
		result = SOB_EXIT_IO;
		goto done;
	}
	bf.published = true;
	pg_free(bf.tmp);
	pg_free(bf.sha_tmp);
	bf.tmp = bf.sha_tmp = NULL;
	/* close() may report a deferred write error: then withdraw the backup */
	if (!backup_close(&bf))
	{
		result = SOB_EXIT_IO;
		goto done;
	}
	/* make the new names durable; fsync_fname() prints its own error */
	if (fsync_fname(opts->dir, true) != 0)
	{
		result = SOB_EXIT_IO;
		goto done;
	}

	reduction = scan.bytes > 0 ? 100.0 * (1.0 - (double) gz.written / scan.bytes) : 0.0;
	printf("  Backup created: %s\n", sob_human_size(scan.bytes, size1));
	printf("  Compressed: %s (%.1f%% reduction)\n",
		   sob_human_size(gz.written, size2), reduction);
	backup_print_rows(&scan);
	printf("  Checksum: sha256 %s\n", hex);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	printf("  Done in %.1f s: %s\n", INSTR_TIME_GET_DOUBLE(elapsed), bf.final);

done:
	if (result != SOB_EXIT_OK)
	{
		if (backup_cleanup(&bf))
			pg_log_info("backup failed; no backup file was left behind");
		else
			pg_log_info("backup failed; \"%s\" could not be removed and keeps its checksum file",
						bf.final);
	}
	if (gz_started)
	{
		sob_gz_writer_free(&gz);
		sob_scan_free(&scan);
	}
	if (bf.lock != NULL && unlink(bf.lock) < 0 && errno != ENOENT)
		pg_log_warning("could not remove \"%s\": %m", bf.lock);
	pg_free(bf.lock);
	pg_free(bf.name);
	pg_free(bf.final);
	pg_free(bf.tmp);
	pg_free(bf.sha_final);
	pg_free(bf.sha_tmp);
	pg_free(db);
	sob_conninfo_free(&ci);
	return result;
}
