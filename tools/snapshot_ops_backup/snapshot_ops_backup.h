/*-------------------------------------------------------------------------
 *
 * snapshot_ops_backup.h
 *		Shared declarations of snapshot_ops_backup, the backup tool of the
 *		snapshot_ops extension.
 *
 * The tool is split by concern: option parsing and dispatch
 * (snapshot_ops_backup.c), the backup command (cmd_backup.c), restore and
 * verify (cmd_restore.c), the backup directory with the list and rotate
 * commands (backup_dir.c), the gzip streams (gzip_stream.c), the dump
 * scanner that counts COPY rows (dump_scan.c), libpq connections
 * (database.c), pg_dump and psql as child processes (pg_programs.c) and
 * SHA-256 (sha256.c).
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "libpq-fe.h"

#include "sha256.h"

#define SOB_PROGNAME		"snapshot_ops_backup"
#define SOB_VERSION			"1.0"

/* Exit codes; documented in --help and doc/backup.md */
#define SOB_EXIT_OK			0	/* success */
#define SOB_EXIT_USAGE		1	/* bad command line */
#define SOB_EXIT_SERVER		2	/* connection, pg_dump, psql or SQL failure */
#define SOB_EXIT_VERIFY		3	/* checksum, gzip stream or row counts wrong */
#define SOB_EXIT_REFUSED	4	/* target not empty, database exists, ... */
#define SOB_EXIT_IO			5	/* local file error (disk full, permission) */
#define SOB_EXIT_SIGNAL		6	/* interrupted by SIGINT or SIGTERM */

#define SOB_DEFAULT_DIR		"backups/postgres"
#define SOB_BUFSIZE			(256 * 1024)

/* The four tables of the extension whose rows are counted. */
#define SOB_NTABLES			4
extern const char *const sob_tables[SOB_NTABLES];

/* Command line, after parsing. */
typedef struct SobOptions
{
	const char *command;
	const char *conninfo;		/* -d; NULL means libpq defaults */
	const char *dir;			/* --dir */
	const char *restore_file;	/* --restore-file */
	int			keep_days;		/* --keep-days */
	int			keep_min;		/* --keep-min */
	int			level;			/* --level, gzip level 1..9 */
	bool		clean;			/* --clean */
	bool		create;			/* --create */
	bool		no_restore;		/* verify --no-restore */
	bool		no_checksum;	/* restore/verify --no-checksum */
} SobOptions;

/* Rows per table found in a dump stream (dumpscan.c). */
typedef struct SobTableRows
{
	char	   *name;			/* qualified name as pg_dump printed it */
	long long	rows;
} SobTableRows;

typedef struct SobDumpScan
{
	bool		in_copy;		/* between "COPY ... FROM stdin;" and "\." */
	int			current;		/* index into tables while in_copy */
	bool		expect_copy;	/* a TABLE DATA comment came last */
	char	   *line;			/* current line outside COPY data */
	size_t		linelen;
	size_t		linecap;
	size_t		datalen;		/* length of the current COPY data line */
	char		datahead[3];	/* its first bytes */
	SobTableRows *tables;
	int			ntables;
	int			maxtables;
	unsigned long long bytes;	/* uncompressed bytes seen */
	char		tail[256];		/* last bytes of the stream */
	size_t		taillen;
} SobDumpScan;

/* A compressing writer (gzstream.c). */
typedef struct SobGzWriter
{
	int			fd;
	void	   *zs;				/* z_stream */
	void	   *head;			/* gz_header, needed until the end */
	unsigned char *out;
	SobSha256	sha;			/* of the compressed bytes written */
	unsigned long long written; /* compressed bytes written */
	int			saved_errno;	/* errno of a failed write, else 0 */
} SobGzWriter;

/* A parsed connection string (conn.c). */
typedef struct SobConnInfo
{
	int			n;
	char	  **keywords;
	char	  **values;
	char	   *password;		/* kept out of child command lines */
} SobConnInfo;

/* One backup file in a directory (files.c). */
typedef struct SobBackupFile
{
	char	   *name;			/* base name */
	char	   *path;			/* dir/name */
	off_t		size;
	time_t		mtime;
} SobBackupFile;

typedef enum SobChecksumStatus
{
	SOB_CHECKSUM_OK,
	SOB_CHECKSUM_MISMATCH,
	SOB_CHECKSUM_MISSING,
	SOB_CHECKSUM_ERROR			/* the backup itself could not be read */
} SobChecksumStatus;

/* snapshot_ops_backup.c */
extern void sob_error(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void sob_warning(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void *sob_malloc(size_t size);
extern char *sob_strdup(const char *s);
extern char *sob_psprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern double sob_now(void);
extern char *sob_size(unsigned long long bytes, char *buf, size_t len);
extern volatile int sob_interrupted;

/* backup.c */
extern int	sob_cmd_backup(const SobOptions *opts);

/* files.c */
extern int	sob_cmd_list(const SobOptions *opts);
extern int	sob_cmd_rotate(const SobOptions *opts);
extern bool sob_is_backup_name(const char *name);
extern int	sob_scan_dir(const char *dir, SobBackupFile **files, int *nfiles);
extern void sob_free_files(SobBackupFile *files, int nfiles);
extern char *sob_checksum_path(const char *path);
extern SobChecksumStatus sob_checksum_check(const char *path, char *actual_hex);
extern int	sob_fsync_dir(const char *dir);
extern int	sob_mkdir_p(const char *dir, mode_t mode);

/* restore.c */
extern int	sob_cmd_restore(const SobOptions *opts);
extern int	sob_cmd_verify(const SobOptions *opts);

/* gzstream.c */
extern int	sob_gz_writer_init(SobGzWriter *w, int fd, int level,
							   const char *name, time_t mtime);
extern int	sob_gz_write(SobGzWriter *w, const char *buf, size_t len);
extern int	sob_gz_finish(SobGzWriter *w);
extern void sob_gz_writer_free(SobGzWriter *w);
typedef int (*SobConsumer) (void *arg, const char *buf, size_t len);
extern int	sob_gz_read(const char *path, SobSha256 *sha, SobConsumer consume,
						void *arg, unsigned long long *compressed,
						char *errbuf, size_t errlen);

/* dumpscan.c */
extern void sob_scan_init(SobDumpScan *scan);
extern void sob_scan_feed(SobDumpScan *scan, const char *buf, size_t len);
extern bool sob_scan_complete(const SobDumpScan *scan);
extern long long sob_scan_rows(const SobDumpScan *scan, const char *qualname);
extern void sob_scan_free(SobDumpScan *scan);

/* conn.c */
extern bool sob_conninfo_parse(const char *conninfo, SobConnInfo *ci);
extern const char *sob_conninfo_get(const SobConnInfo *ci, const char *keyword);
extern char *sob_conninfo_string(const SobConnInfo *ci, const char *dbname);
extern PGconn *sob_connect(const SobConnInfo *ci, const char *dbname);
extern PGconn *sob_connect_maintenance(const SobConnInfo *ci);
extern char *sob_default_dbname(const SobConnInfo *ci);
extern int	sob_exec_command(PGconn *conn, const char *sql);
extern int	sob_table_counts(PGconn *conn, char **qualnames, long long *counts);
extern int	sob_target_contents(PGconn *conn, bool *has_extension,
								long long *nrelations, char **example);
extern void sob_conninfo_free(SobConnInfo *ci);

/* child.c */
extern pid_t sob_spawn(const char *program, const char *const *args,
					   int stdin_fd, int stdout_fd, const char *password);
extern int	sob_pipe(int fds[2], bool keep_read);
extern int	sob_wait(pid_t pid, const char *program);
extern const char *sob_program_path(const char *program);

#endif							/* SNAPSHOT_OPS_BACKUP_H */
