/*-------------------------------------------------------------------------
 *
 * dbhook.h
 *		Keeps the snapshot_ops worker from blocking DROP DATABASE and the
 *		other commands that need a database without sessions.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/dbhook.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_DBHOOK_H
#define SNAPSHOT_OPS_DBHOOK_H

extern void so_dbhook_init(void);

#endif							/* SNAPSHOT_OPS_DBHOOK_H */
