/*-------------------------------------------------------------------------
 *
 * cmd_backup.c
 *		The backup command: pg_dump, compressed on the fly, published
 *		atomically with its checksum.
 *
 * pg_dump writes plain SQL to a pipe; this process compresses it with zlib
 * into a temporary file in the backup directory (created O_EXCL, mode 0600,
 * write-locked, see files.c), hashing the compressed bytes and counting the
 * COPY rows as they pass.  Only when pg_dump has exited with status 0, its
 * output ended with pg_dump's closing comment and every byte is on disk
 * (fsync) is the checksum file, then the backup, given its final name
 * (link(), so that an existing backup is never overwritten) and the
 * directory fsync'ed.  On any failure, a signal included, the temporary
 * files are removed: there is never a partial backup under a backup's name.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/cmd_backup.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot_ops_backup.h"

/* The files of one backup being written. */
typedef struct BackupFiles
{
	char	   *name;			/* base name of the backup */
	char	   *final;			/* dir/name */
	char	   *tmp;			/* dir/name.tmp.PID */
	char	   *sha_final;		/* dir/name.sha256 */
	char	   *sha_tmp;		/* dir/name.sha256.tmp.PID */
	int			fd;
	int			sha_fd;
	bool		sha_published;
} BackupFiles;

/* Remove what a failed backup left behind. */
static void
backup_cleanup(BackupFiles *bf)
{
	if (bf->fd >= 0)
		close(bf->fd);
	if (bf->sha_fd >= 0)
		close(bf->sha_fd);
	bf->fd = bf->sha_fd = -1;
	if (bf->tmp)
		unlink(bf->tmp);
	if (bf->sha_tmp)
		unlink(bf->sha_tmp);
	if (bf->sha_published)
		unlink(bf->sha_final);
}

/*
 * Create a temporary file O_EXCL with mode 0600 and take its write lock,
 * which tells rotate that its writer is alive.  Returns the descriptor or
 * -1 after printing an error.
 */
static int
backup_create_temp(const char *path)
{
	struct flock lock;
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
	{
		sob_error("could not create \"%s\": %s", path, strerror(errno));
		return -1;
	}
	memset(&lock, 0, sizeof(lock));
	lock.l_type = F_WRLCK;
	lock.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &lock) < 0 || fchmod(fd, 0600) < 0)
	{
		sob_error("could not lock \"%s\": %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/*
 * Give tmp the name final without ever replacing an existing file: link()
 * fails with EEXIST where rename() would silently overwrite.  On a file
 * system without hard links, fall back to rename() after checking.
 */
static int
backup_publish(const char *tmp, const char *final)
{
	struct stat st;

	if (link(tmp, final) == 0)
		return unlink(tmp);
	if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS && errno != EMLINK)
		return -1;
	if (lstat(final, &st) == 0)
	{
		errno = EEXIST;
		return -1;
	}
	return rename(tmp, final);
}

/* Make the database name safe as part of a file name. */
static char *
backup_file_prefix(const char *db)
{
	char	   *s = sob_strdup(db);
	char	   *p;

	for (p = s; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			*p = '_';
	}
	if (s[0] == '.')
		s[0] = '_';
	return s;
}

/* Choose the backup's name from the current local time; dir must exist. */
static void
backup_choose_name(BackupFiles *bf, const char *dir, const char *prefix)
{
	int			attempt;

	for (attempt = 0;; attempt++)
	{
		time_t		now = time(NULL);
		struct tm	tm;
		char		stamp[32];
		struct stat st;

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
		free(bf->name);
		free(bf->final);
		bf->name = sob_psprintf("%s_backup_%s.sql.gz", prefix, stamp);
		bf->final = sob_psprintf("%s/%s", dir, bf->name);
		/* two backups within one second: wait for the next second */
		if (attempt >= 3 || lstat(bf->final, &st) < 0)
			break;
		sleep(1);
	}
	bf->tmp = sob_psprintf("%s.tmp.%d", bf->final, (int) getpid());
	bf->sha_final = sob_checksum_path(bf->final);
	bf->sha_tmp = sob_psprintf("%s.tmp.%d", bf->sha_final, (int) getpid());
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
	char	   *buf;
	char		hex[SOB_SHA256_HEX_LENGTH + 1];
	char		size1[32];
	char		size2[32];
	const char *args[6];
	int			pipefd[2];
	pid_t		pid;
	int			result = SOB_EXIT_OK;
	bool		gz_started = false;
	double		start = sob_now();
	double		reduction;

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
	db = sob_strdup(PQdb(conn));
	PQfinish(conn);

	if (sob_mkdir_p(opts->dir, 0700) < 0)
	{
		sob_error("could not create directory \"%s\": %s", opts->dir, strerror(errno));
		sob_conninfo_free(&ci);
		free(db);
		return SOB_EXIT_IO;
	}
	prefix = backup_file_prefix(db);
	backup_choose_name(&bf, opts->dir, prefix);
	free(prefix);

	printf("[BACKUP] Creating backup: %s\n", bf.final);
	bf.fd = backup_create_temp(bf.tmp);
	if (bf.fd < 0)
	{
		result = SOB_EXIT_IO;
		goto done;
	}

	/* pg_dump: plain SQL on its stdout, no password prompt, no shell */
	if (sob_pipe(pipefd, true) < 0)
	{
		sob_error("could not create pipe: %s", strerror(errno));
		result = SOB_EXIT_IO;
		goto done;
	}
	cs = sob_conninfo_string(&ci, db);
	dbarg = sob_psprintf("--dbname=%s", cs);
	free(cs);
	args[0] = "pg_dump";
	args[1] = "--format=plain";
	args[2] = "--no-password";
	args[3] = dbarg;
	args[4] = NULL;
	printf("  Running pg_dump (%s), gzip level %d...\n", sob_program_path("pg_dump"), opts->level);
	pid = sob_spawn("pg_dump", args, -1, pipefd[1], ci.password);
	close(pipefd[1]);
	free(dbarg);
	if (pid < 0)
	{
		close(pipefd[0]);
		result = SOB_EXIT_SERVER;
		goto done;
	}

	line = sob_strdup(bf.name);
	line[strlen(line) - 3] = '\0';	/* the name inside the gzip header: .sql */
	sob_scan_init(&scan);
	if (sob_gz_writer_init(&gz, bf.fd, opts->level, line, time(NULL)) < 0)
	{
		sob_error("could not initialize zlib");
		result = SOB_EXIT_IO;
	}
	free(line);
	gz_started = true;

	buf = sob_malloc(SOB_BUFSIZE);
	while (result == SOB_EXIT_OK)
	{
		ssize_t		n = read(pipefd[0], buf, SOB_BUFSIZE);

		if (sob_interrupted)
		{
			sob_error("interrupted by signal %d", sob_interrupted);
			result = SOB_EXIT_SIGNAL;
			break;
		}
		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			sob_error("could not read from pg_dump: %s", strerror(errno));
			result = SOB_EXIT_SERVER;
			break;
		}
		if (n == 0)
			break;
		sob_scan_feed(&scan, buf, (size_t) n);
		if (sob_gz_write(&gz, buf, (size_t) n) < 0)
		{
			sob_error("could not write \"%s\": %s", bf.tmp, strerror(gz.saved_errno));
			result = SOB_EXIT_IO;
		}
	}
	free(buf);
	close(pipefd[0]);
	if (result != SOB_EXIT_OK)
	{
		/* closing the pipe makes pg_dump fail on its next write */
		kill(pid, SIGTERM);
		(void) sob_wait(pid, "pg_dump");
		goto done;
	}
	if (sob_wait(pid, "pg_dump") < 0)
	{
		result = SOB_EXIT_SERVER;
		goto done;
	}
	if (!sob_scan_complete(&scan))
	{
		sob_error("pg_dump's output ended before its end-of-dump comment");
		result = SOB_EXIT_SERVER;
		goto done;
	}

	/* the rest of the compressed stream, then make it durable */
	if (sob_gz_finish(&gz) < 0)
	{
		sob_error("could not write \"%s\": %s", bf.tmp, strerror(gz.saved_errno));
		result = SOB_EXIT_IO;
		goto done;
	}
	if (fsync(bf.fd) < 0)
	{
		sob_error("could not fsync \"%s\": %s", bf.tmp, strerror(errno));
		result = SOB_EXIT_IO;
		goto done;
	}
	sob_sha256_hex(&gz.sha, hex);

	/* the checksum file, in sha256sum's format */
	bf.sha_fd = backup_create_temp(bf.sha_tmp);
	if (bf.sha_fd < 0)
	{
		result = SOB_EXIT_IO;
		goto done;
	}
	line = sob_psprintf("%s  %s\n", hex, bf.name);
	errno = 0;
	if (write(bf.sha_fd, line, strlen(line)) != (ssize_t) strlen(line) ||
		fsync(bf.sha_fd) < 0)
	{
		sob_error("could not write \"%s\": %s", bf.sha_tmp,
				  errno ? strerror(errno) : "short write");
		free(line);
		result = SOB_EXIT_IO;
		goto done;
	}
	free(line);

	/* publish: checksum first, so that a visible backup always has one */
	if (backup_publish(bf.sha_tmp, bf.sha_final) < 0)
	{
		sob_error("could not rename \"%s\" to \"%s\": %s", bf.sha_tmp, bf.sha_final,
				  strerror(errno));
		result = SOB_EXIT_IO;
		goto done;
	}
	bf.sha_published = true;
	if (backup_publish(bf.tmp, bf.final) < 0)
	{
		sob_error("could not rename \"%s\" to \"%s\": %s", bf.tmp, bf.final,
				  strerror(errno));
		result = SOB_EXIT_IO;
		goto done;
	}
	bf.sha_published = false;	/* both are published now */
	free(bf.tmp);
	free(bf.sha_tmp);
	bf.tmp = bf.sha_tmp = NULL;
	if (close(bf.fd) < 0 || close(bf.sha_fd) < 0)
	{
		bf.fd = bf.sha_fd = -1;
		sob_error("could not close \"%s\": %s", bf.final, strerror(errno));
		unlink(bf.final);
		unlink(bf.sha_final);
		result = SOB_EXIT_IO;
		goto done;
	}
	bf.fd = bf.sha_fd = -1;
	if (sob_fsync_dir(opts->dir) < 0)
	{
		sob_error("could not fsync directory \"%s\": %s", opts->dir, strerror(errno));
		result = SOB_EXIT_IO;
		goto done;
	}

	reduction = scan.bytes > 0 ? 100.0 * (1.0 - (double) gz.written / scan.bytes) : 0.0;
	printf("  Backup created: %s\n", sob_size(scan.bytes, size1, sizeof(size1)));
	printf("  Compressed: %s (%.1f%% reduction)\n",
		   sob_size(gz.written, size2, sizeof(size2)), reduction);
	backup_print_rows(&scan);
	printf("  Checksum: sha256 %s\n", hex);
	printf("  Done in %.1f s: %s\n", sob_now() - start, bf.final);

done:
	if (result != SOB_EXIT_OK)
	{
		backup_cleanup(&bf);
		fprintf(stderr, "%s: backup failed; no backup file was left behind\n", SOB_PROGNAME);
	}
	if (gz_started)
	{
		sob_gz_writer_free(&gz);
		sob_scan_free(&scan);
	}
	free(bf.name);
	free(bf.final);
	free(bf.tmp);
	free(bf.sha_final);
	free(bf.sha_tmp);
	free(db);
	sob_conninfo_free(&ci);
	return result;
}
