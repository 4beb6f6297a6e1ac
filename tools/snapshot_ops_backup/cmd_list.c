/*-------------------------------------------------------------------------
 *
 * cmd_list.c
 *		The list command: every backup in the directory, grouped by
 *		database, newest first, with its size, age and checksum status.
 *
 * The databases come in the order of their newest backups, each with a
 * line naming it before its backups, so that what rotate treats as one
 * database (backup_dir.c) is visible.  The checksum status reads every
 * backup whole (checksum.c); that is what makes list take time on a large
 * directory.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/cmd_list.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "backup_dir.h"
#include "checksum.h"
#include "commands.h"
#include "human_units.h"

/*
 * Print the line that names the database of the n backups at files, and
 * how many they are.  A name that none of them records is the prefix of
 * their file names.
 */
static void
list_database(const SobBackupFile *files, int n)
{
	bool		recorded = false;
	int			i;

	for (i = 0; i < n; i++)
		recorded |= files[i].recorded;
	printf("database \"%s\"%s: %d backup%s\n", files[0].database,
		   recorded ? "" : " (from the file names)", n, n == 1 ? "" : "s");
}

/* list: see the file header. */
int
sob_cmd_list(const SobOptions *opts)
{
	SobBackupFile *files;
	int			nfiles;
	int			ndatabases;
	int			i;
	time_t		now = time(NULL);

	if (sob_scan_dir(opts->dir, &files, &nfiles, &ndatabases) < 0)
	{
		sob_free_files(files, nfiles);
		return SOB_EXIT_IO;
	}
	if (nfiles == 0)
	{
		printf("No backups in %s\n", opts->dir);
		sob_free_files(files, nfiles);
		return SOB_EXIT_OK;
	}
	printf("%-50s %12s %10s  %s\n", "BACKUP", "SIZE", "AGE", "CHECKSUM");
	for (i = 0; i < nfiles; i++)
	{
		char		age[SOB_HUMAN_LEN];
		char		size[SOB_HUMAN_LEN];
		char		hex[SOB_SHA256_HEX_LEN + 1];

		/* the backups of a database are together, newest first */
		if (i == 0 || files[i].group != files[i - 1].group)
		{
			int			n = 1;

			while (i + n < nfiles && files[i + n].group == files[i].group)
				n++;
			list_database(&files[i], n);
		}
		printf("%-50s %12s %10s  %s\n", files[i].name,
			   sob_human_size((uint64) files[i].size, size),
			   sob_human_age(now - files[i].mtime, age),
			   sob_checksum_status_name(sob_checksum_file(files[i].path, hex)));
	}
	printf("%d backup%s of %d database%s in %s\n", nfiles, nfiles == 1 ? "" : "s",
		   ndatabases, ndatabases == 1 ? "" : "s", opts->dir);
	sob_free_files(files, nfiles);
	return SOB_EXIT_OK;
}
