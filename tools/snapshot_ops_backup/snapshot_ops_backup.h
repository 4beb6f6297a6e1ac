/*-------------------------------------------------------------------------
 *
 * snapshot_ops_backup.h
 *		Definitions every part of snapshot_ops_backup shares: the exit codes,
 *		the parsed command line, the default directory and the I/O buffer
 *		size.
 *
 * snapshot_ops_backup is a PostgreSQL front-end program: it logs through
 * common/logging.h (pg_log_error, pg_log_warning, pg_log_info), allocates
 * with common/fe_memutils.h (pg_malloc, pg_strdup, psprintf) and exits on
 * out-of-memory as they do.  Its parts, one module each with its own
 * header:
 *
 *	 snapshot_ops_backup.c	command line, help, dispatch (commands.h)
 *	 cmd_backup.c			the backup command
 *	 cmd_list.c				the list command
 *	 cmd_rotate.c			the rotate command
 *	 cmd_restore.c			the restore and verify commands
 *	 restore_stream.c		feeding a backup to psql in one read, committing
 *							only a backup that passed its check
 *	 backup_read.c			reading a backup once: checksum, gzip stream, dump
 *	 backup_dir.c			the backup directory: backup and temporary file
 *							names, scanning, the database of a backup, the
 *							write lock of a running backup
 *	 checksum.c				SHA-256 (pg_cryptohash) and .sha256 files
 *	 gzip_stream.c			writing and reading gzip streams (zlib)
 *	 dump_scan.c			row counts and completeness of a pg_dump stream
 *	 database.c				connection strings, connections, the tool's queries
 *	 pg_programs.c			running pg_dump and psql
 *	 interrupt.c			SIGINT and SIGTERM
 *	 human_units.c			sizes and ages as the tool prints them
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/snapshot_ops_backup.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_BACKUP_H
#define SNAPSHOT_OPS_BACKUP_H

#define SOB_PROGNAME		"snapshot_ops_backup"
#define SOB_VERSION			"1.0"

/* Exit codes; documented in --help and the README */
#define SOB_EXIT_OK			0	/* success */
#define SOB_EXIT_USAGE		1	/* bad command line */
#define SOB_EXIT_SERVER		2	/* connection, pg_dump, psql or SQL failure */
#define SOB_EXIT_VERIFY		3	/* checksum, gzip stream or row counts wrong */
#define SOB_EXIT_REFUSED	4	/* target not empty, database exists, ... */
#define SOB_EXIT_IO			5	/* local file error (disk full, permission) */
#define SOB_EXIT_SIGNAL		6	/* interrupted by SIGINT or SIGTERM */

#define SOB_DEFAULT_DIR		"backups/postgres"
#define SOB_BUFSIZE			(256 * 1024)

/* Command line, after parsing. */
typedef struct SobOptions
{
	const char *command;
	const char *conninfo;		/* -d; NULL means libpq defaults */
	const char *dir;			/* --dir */
	const char *restore_file;	/* --restore-file */
	const char *backup_of;		/* verify --backup-of */
	int			keep_days;		/* --keep-days */
	int			keep_min;		/* --keep-min */
	int			level;			/* --level, gzip level 1..9 */
	bool		clean;			/* --clean */
	bool		create;			/* --create */
	bool		no_restore;		/* verify --no-restore */
	bool		no_checksum;	/* restore/verify --no-checksum */
} SobOptions;

#endif							/* SNAPSHOT_OPS_BACKUP_H */
