/*-------------------------------------------------------------------------
 *
 * backup_dir.h
 *		The backup directory of snapshot_ops_backup: backup and temporary
 *		file names, scanning, and the write lock of a running backup.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/backup_dir.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_BACKUP_DIR_H
#define SOB_BACKUP_DIR_H

#include <sys/types.h>
#include <time.h>

/* One backup file in a directory. */
typedef struct SobBackupFile
{
	char	   *name;			/* base name */
	char	   *path;			/* dir/name */
	char	   *database;		/* whose backup it is; see backup_dir.c */
	bool		recorded;		/* database is recorded in the file */
	int			group;			/* index of database in the directory */
	off_t		size;
	time_t		mtime;
} SobBackupFile;

extern bool sob_is_backup_name(const char *name);
extern char *sob_file_prefix(const char *db);
extern char *sob_backup_comment(const char *db);
extern bool sob_is_backup_of(const SobBackupFile *file, const char *db);
extern int	sob_scan_dir(const char *dir, SobBackupFile **files, int *nfiles,
						 int *ndatabases);
extern void sob_free_files(SobBackupFile *files, int nfiles);
extern int	sob_make_dir(const char *dir);
extern char *sob_temp_path(const char *path);
extern int	sob_create_temp(const char *path);
extern bool sob_remove_stale(const char *dir, time_t now, int *removed);

#endif							/* SOB_BACKUP_DIR_H */
