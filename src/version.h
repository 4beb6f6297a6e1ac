/*-------------------------------------------------------------------------
 *
 * version.h
 *		Which version of the extension's SQL a database has, and what the
 *		library does about it.
 *
 * The library serves every SQL version it knows, so that a database keeps
 * working between installing a new package and ALTER EXTENSION UPDATE.  It
 * reads the version from pg_extension.extversion; it never infers it.  A C
 * function whose SQL contract changed checks the version and fails with a
 * hint to update instead of misbehaving.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/version.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_VERSION_H
#define SNAPSHOT_OPS_VERSION_H

/* SQL versions, as major * 100 + minor. */
#define SO_SQL_1_0		100
#define SO_SQL_1_1		101
#define SO_SQL_NEWEST	SO_SQL_1_1

/* The extension in the current database, from pg_extension. */
typedef struct SoExtension
{
	Oid			oid;			/* InvalidOid: not installed */
	Oid			nspid;			/* schema of the user objects */
	Oid			owner;			/* the extension's owner */
	int			version;		/* SO_SQL_*, 0 when not installed */
	char		version_text[NAMEDATALEN];	/* extversion as stored */
} SoExtension;

/*
 * Look the extension up (a catalog scan; needs a transaction).  An
 * extversion this library does not know gives version -1.
 */
extern void so_extension_lookup(SoExtension *ext);

/*
 * ERROR (SQLSTATE 55000, hint ALTER EXTENSION snapshot_ops UPDATE) unless
 * the installed SQL is at least min_version; "what" names the function in
 * the message.  Also refuses SQL newer than the library.
 */
extern void so_require_version(int min_version, const char *what);

/* "1.1" for SO_SQL_1_1. */
extern const char *so_version_name(int version);

#endif							/* SNAPSHOT_OPS_VERSION_H */
