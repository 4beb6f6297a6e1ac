/*-------------------------------------------------------------------------
 *
 * cmd_rotate.c
 *		The rotate command: remove backups older than --keep-days, but keep
 *		the --keep-min newest ones of each database and always each
 *		database's newest backup whose checksum is good.
 *
 * One directory may hold the backups of several databases; rotate treats
 * each database on its own, so that the backups of a database that is no
 * longer backed up are not removed because another database has newer
 * ones.  Which database a backup belongs to is decided in backup_dir.c: the
 * name recorded in the backup, else the prefix of its file name.
 *
 * It also removes what failed backups left behind: temporary files whose
 * writer is gone and checksum files whose backup is gone (backup_dir.c).
 * Only files named like backups are ever touched.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/cmd_rotate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "common/file_utils.h"
#include "common/logging.h"

#include "backup_dir.h"
#include "checksum.h"
#include "commands.h"
#include "human_units.h"

/*
 * Remove one backup and its checksum file: the backup first, so that a
 * failure never leaves a backup without its checksum.  Returns whether the
 * backup is gone; *ok becomes false after any error, which is printed.
 */
static bool
rotate_remove(const SobBackupFile *file, time_t now, bool *ok)
{
	char		age[SOB_HUMAN_LEN];
	char		size[SOB_HUMAN_LEN];
	char	   *cpath;

	if (unlink(file->path) < 0)
	{
		pg_log_error("could not remove \"%s\": %m", file->path);
		*ok = false;
		return false;
	}
	cpath = sob_checksum_path(file->path);
	if (unlink(cpath) < 0 && errno != ENOENT)
	{
		pg_log_error("could not remove \"%s\": %m", cpath);
		*ok = false;
	}
	pg_free(cpath);
	printf("  removed %s (%s, age %s)\n", file->name,
		   sob_human_size((uint64) file->size, size),
		   sob_human_age(now - file->mtime, age));
	return true;
}

/*
 * Rotate the n backups of one database at files, newest first: keep the
 * keep_min newest, the newest with a good checksum and those not older
 * than cutoff, remove the rest.  Adds to *kept and *removed; *ok becomes
 * false after an error.
 */
static void
rotate_database(const SobOptions *opts, SobBackupFile *files, int n,
				time_t now, time_t cutoff, int *kept, int *removed, bool *ok)
{
	const char *db = files[0].database;
	int			good = -1;
	int			i;

	for (i = 0; i < n && good < 0; i++)
	{
		char		hex[SOB_SHA256_HEX_LEN + 1];

		if (sob_checksum_file(files[i].path, hex) == SOB_CHECKSUM_OK)
			good = i;
	}
	if (good >= 0)
		printf("  database \"%s\": newest good backup: %s\n", db, files[good].name);
	else
	{
		printf("  database \"%s\": no good backup\n", db);
		pg_log_warning("no backup of database \"%s\" in \"%s\" has a good checksum",
					   db, opts->dir);
	}

	for (i = 0; i < n; i++)
	{
		if (i < opts->keep_min || i == good || files[i].mtime >= cutoff)
		{
			(*kept)++;
			continue;
		}
		if (rotate_remove(&files[i], now, ok))
			(*removed)++;
		else
			(*kept)++;
	}
}

/* rotate: see the file header. */
int
sob_cmd_rotate(const SobOptions *opts)
{
	SobBackupFile *files;
	int			nfiles;
	int			ndatabases;
	int			removed = 0;
	int			kept = 0;
	int			first;
	bool		ok = true;
	time_t		now = time(NULL);
	time_t		cutoff = now - (time_t) opts->keep_days * 86400;

	if (sob_scan_dir(opts->dir, &files, &nfiles, &ndatabases) < 0)
	{
		sob_free_files(files, nfiles);
		return SOB_EXIT_IO;
	}
	printf("[ROTATE] %s: keeping %d day%s, at least %d backup%s of each database\n",
		   opts->dir, opts->keep_days, opts->keep_days == 1 ? "" : "s",
		   opts->keep_min, opts->keep_min == 1 ? "" : "s");

	/* the backups of a database are together, newest first */
	for (first = 0; first < nfiles;)
	{
		int			n = 1;

		while (first + n < nfiles && files[first + n].group == files[first].group)
			n++;
		rotate_database(opts, &files[first], n, now, cutoff, &kept, &removed, &ok);
		first += n;
	}

	if (!sob_remove_stale(opts->dir, now, &removed))
		ok = false;
	/* make the removals durable; fsync_fname() prints its own error */
	if (removed > 0 && fsync_fname(opts->dir, true) != 0)
		ok = false;
	printf("  %d backup%s of %d database%s kept, %d file%s removed\n",
		   kept, kept == 1 ? "" : "s", ndatabases, ndatabases == 1 ? "" : "s",
		   removed, removed == 1 ? "" : "s");
	sob_free_files(files, nfiles);
	return ok ? SOB_EXIT_OK : SOB_EXIT_IO;
}
