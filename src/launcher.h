/*-------------------------------------------------------------------------
 *
 * launcher.h
 *		The snapshot_ops launcher: starts one worker per database that has
 *		the extension.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/launcher.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_LAUNCHER_H
#define SNAPSHOT_OPS_LAUNCHER_H

#include "fmgr.h"

/* Seconds before a worker that exited unexpectedly is started again. */
#define SO_RETRY_SECONDS	10

/* Register the launcher; from _PG_init during shared_preload_libraries. */
extern void so_launcher_register(void);

/* Does snapshot_ops.databases allow a worker in this database? */
extern bool so_database_listed(const char *dbname);

extern PGDLLEXPORT void so_launcher_main(Datum main_arg);

#endif							/* SNAPSHOT_OPS_LAUNCHER_H */
