/*-------------------------------------------------------------------------
 *
 * backup_read.c
 *		Reading a backup once: its SHA-256, its gzip stream and the dump
 *		inside, and the verdict on them.
 *
 * One pass over the file computes the SHA-256 of every byte read, inflates
 * the gzip stream to its end (zlib checks each member's CRC-32 and length),
 * scans the SQL for COPY row counts and pg_dump's closing comment
 * (dump_scan.c), and hands the same SQL to a consumer: psql's input when
 * restoring (restore_stream.c), nothing when only checking (verify).  So
 * the checksum that is compared at the end covers exactly the bytes whose
 * SQL went to the consumer; a file that changes while it is read, or
 * between a check and a restore, cannot slip through unchecked.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/backup_read.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/logging.h"

#include "backup_read.h"
#include "human_units.h"
#include "snapshot_ops_backup.h"

/*
 * Open the backup at path for one read, and read the SHA-256 its checksum
 * file records (none with no_checksum, which does not read the checksum
 * file at all: a DBA salvaging a backup whose checksum file is damaged or
 * stale relies on the gzip check alone; without it a missing checksum file
 * is refused).  rd is initialized; *fd receives the descriptor.  Returns an
 * exit code, after printing why when it is not SOB_EXIT_OK.
 */
int
sob_backup_open(SobBackupRead *rd, const char *path, bool no_checksum, int *fd)
{
	memset(rd, 0, sizeof(*rd));
	rd->path = path;
	sob_scan_init(&rd->scan);

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
	{
		pg_log_error("could not open \"%s\": %m", path);
		return SOB_EXIT_IO;
	}
	/* --no-checksum: the checksum file is not read, whatever it says */
	if (no_checksum)
		rd->expected_hex[0] = '\0';
	else if (!sob_checksum_expected(path, rd->expected_hex))
	{
		rd->expected_hex[0] = '\0';
		if (!no_checksum)
		{
			char	   *cpath = sob_checksum_path(path);

			pg_log_error("checksum file \"%s\" is missing or invalid", cpath);
			pg_log_error_hint("Use --no-checksum to rely on the gzip check alone.");
			pg_free(cpath);
			close(*fd);
			*fd = -1;
			return SOB_EXIT_VERIFY;
		}
	}
	return SOB_EXIT_OK;
}

/*
 * Prepare rd for another read of the backup that first read, from its
 * start, checked against the same checksum (verify reads a backup twice:
 * to check it, then to restore it).  Returns an exit code, after printing
 * why when it is not SOB_EXIT_OK.
 */
int
sob_backup_reopen(SobBackupRead *rd, const SobBackupRead *first, int fd)
{
	memset(rd, 0, sizeof(*rd));
	rd->path = first->path;
	memcpy(rd->expected_hex, first->expected_hex, sizeof(rd->expected_hex));
	sob_scan_init(&rd->scan);
	if (lseek(fd, 0, SEEK_SET) < 0)
	{
		pg_log_error("could not seek to the start of \"%s\": %m", rd->path);
		return SOB_EXIT_IO;
	}
	return SOB_EXIT_OK;
}

/* sob_gz_read consumer: the dump scanner, then the caller's consumer. */
static int
backup_read_consume(void *arg, const char *buf, size_t len)
{
	SobBackupRead *rd = arg;

	sob_scan_feed(&rd->scan, buf, len);
	return rd->consume ? rd->consume(rd->consume_arg, buf, len) : 0;
}

/*
 * Read the backup open on fd from where it stands to its end, handing its
 * SQL to consume (if not NULL).  What the read found stays in rd for
 * sob_backup_verdict().
 */
void
sob_backup_read(SobBackupRead *rd, int fd, SobGzConsumer consume, void *arg)
{
	pg_cryptohash_ctx *sha = sob_sha256_begin();

	rd->consume = consume;
	rd->consume_arg = arg;
	rd->gz = sob_gz_read(fd, rd->path, sha, backup_read_consume, rd,
						 &rd->compressed, rd->errbuf, sizeof(rd->errbuf));
	rd->read_errno = errno;
	sob_sha256_end(sha, rd->actual_hex);
}

/*
 * The verdict on a read: SOB_EXIT_OK when the file matched its checksum,
 * its gzip stream was intact and it held a complete pg_dump output; else
 * the exit code, after printing why.  With report_ok, an intact backup is
 * reported as such.  A read stopped by a signal is SOB_EXIT_SIGNAL, which
 * the caller reports.
 */
int
sob_backup_verdict(const SobBackupRead *rd, bool report_ok)
{
	if (rd->gz == SOB_GZ_STOPPED)
		return SOB_EXIT_SIGNAL;
	if (rd->gz == SOB_GZ_READ_ERROR)
	{
		pg_log_error("%s", rd->errbuf);
		return SOB_EXIT_IO;
	}
	/* the hash is of the whole file even when the stream is damaged */
	if (rd->expected_hex[0] != '\0' && strcmp(rd->actual_hex, rd->expected_hex) != 0)
	{
		char	   *cpath = sob_checksum_path(rd->path);

		pg_log_error("checksum mismatch: \"%s\" has sha256 %s, which \"%s\" does not record",
					 rd->path, rd->actual_hex, cpath);
		pg_free(cpath);
		return SOB_EXIT_VERIFY;
	}
	if (rd->gz == SOB_GZ_DAMAGED)
	{
		pg_log_error("%s", rd->errbuf);
		return SOB_EXIT_VERIFY;
	}
	if (!sob_scan_complete(&rd->scan))
	{
		pg_log_error("\"%s\" does not hold a complete pg_dump output (no end-of-dump comment)",
					 rd->path);
		return SOB_EXIT_VERIFY;
	}
	if (report_ok)
	{
		char		size1[SOB_HUMAN_LEN];
		char		size2[SOB_HUMAN_LEN];

		if (rd->expected_hex[0] != '\0')
			printf("  Checksum: ok (sha256 %s)\n", rd->actual_hex);
		else
			printf("  Checksum: not checked (--no-checksum)\n");
		printf("  gzip stream: ok (%s compressed, %s of SQL)\n",
			   sob_human_size(rd->compressed, size1),
			   sob_human_size(rd->scan.bytes, size2));
	}
	return SOB_EXIT_OK;
}

/* Release what a read allocated. */
void
sob_backup_read_free(SobBackupRead *rd)
{
	sob_scan_free(&rd->scan);
}
