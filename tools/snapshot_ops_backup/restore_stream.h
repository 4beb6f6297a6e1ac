/*-------------------------------------------------------------------------
 *
 * restore_stream.h
 *		Feeding a backup to psql in one read, committing only a backup
 *		that passed its check.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/restore_stream.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_RESTORE_STREAM_H
#define SOB_RESTORE_STREAM_H

#include "backup_read.h"
#include "database.h"

extern int	sob_restore_stream(SobBackupRead *rd, int fd, const SobConnInfo *ci,
							   const char *dbname, const char *psql,
							   const char *prefix, bool report_ok,
							   bool *committed);

#endif							/* SOB_RESTORE_STREAM_H */
