/*-------------------------------------------------------------------------
 *
 * backup_read.h
 *		Reading a backup once: its SHA-256, its gzip stream and the dump
 *		inside, and the verdict on them.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/backup_read.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_BACKUP_READ_H
#define SOB_BACKUP_READ_H

#include "checksum.h"
#include "dump_scan.h"
#include "gzip_stream.h"

/* One read of a backup and what it found. */
typedef struct SobBackupRead
{
	const char *path;
	char		expected_hex[SOB_SHA256_HEX_LEN + 1];	/* "" with --no-checksum */
	char		actual_hex[SOB_SHA256_HEX_LEN + 1];
	SobGzResult gz;
	int			read_errno;		/* errno of SOB_GZ_READ_ERROR */
	char		errbuf[1024];
	uint64		compressed;		/* bytes read */
	SobDumpScan scan;			/* row counts and completeness */
	SobGzConsumer consume;		/* gets the SQL too, if not NULL */
	void	   *consume_arg;
} SobBackupRead;

extern int	sob_backup_open(SobBackupRead *rd, const char *path, bool no_checksum,
							int *fd);
extern int	sob_backup_reopen(SobBackupRead *rd, const SobBackupRead *first, int fd);
extern void sob_backup_read(SobBackupRead *rd, int fd, SobGzConsumer consume,
							void *arg);
extern int	sob_backup_verdict(const SobBackupRead *rd, bool report_ok);
extern void sob_backup_read_free(SobBackupRead *rd);

#endif							/* SOB_BACKUP_READ_H */
