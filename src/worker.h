/*-------------------------------------------------------------------------
 *
 * worker.h
 *		The per-database snapshot_ops worker.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/worker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_WORKER_H
#define SNAPSHOT_OPS_WORKER_H

#include "fmgr.h"

/* Longest sleep of an idle worker, in milliseconds. */
#define SO_WORKER_NAP_MS	1000

extern PGDLLEXPORT void so_worker_main(Datum main_arg);

#endif							/* SNAPSHOT_OPS_WORKER_H */
