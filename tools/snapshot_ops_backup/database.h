/*-------------------------------------------------------------------------
 *
 * database.h
 *		Connection strings, connections and the queries of
 *		snapshot_ops_backup.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/database.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_DATABASE_H
#define SOB_DATABASE_H

#include "libpq-fe.h"

/* The four tables of the extension whose rows are counted. */
#define SOB_NTABLES			4
extern const char *const sob_tables[SOB_NTABLES];

/* A parsed connection string. */
typedef struct SobConnInfo
{
	int			n;
	char	  **keywords;
	char	  **values;
	char	   *password;		/* kept out of child command lines */
} SobConnInfo;

extern bool sob_conninfo_parse(const char *conninfo, SobConnInfo *ci);
extern const char *sob_conninfo_get(const SobConnInfo *ci, const char *keyword);
extern char *sob_conninfo_string(const SobConnInfo *ci, const char *dbname);
extern char *sob_default_dbname(const SobConnInfo *ci);
extern void sob_conninfo_free(SobConnInfo *ci);

extern PGconn *sob_connect(const SobConnInfo *ci, const char *dbname);
extern PGconn *sob_connect_maintenance(const SobConnInfo *ci);
extern int	sob_exec_command(PGconn *conn, const char *sql);
extern int	sob_table_counts(PGconn *conn, char **qualnames, long long *counts);
extern int	sob_target_contents(PGconn *conn, bool *has_extension,
								long long *nrelations, char **example);
extern int	sob_extension_schema(PGconn *conn, char **schema,
								 long long *nothers, char **example);
extern int	sob_create_database(PGconn *conn, const char *name);
extern int	sob_drop_database(PGconn *conn, const char *name);

#endif							/* SOB_DATABASE_H */
