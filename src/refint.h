/*-------------------------------------------------------------------------
 *
 * refint.h
 *		Referential integrity between session_snapshots and its three child
 *		tables, kept by triggers (src/refint.c), and the rule that tells a
 *		bulk load (COPY FROM) from an ordinary insert.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/refint.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_REFINT_H
#define SNAPSHOT_OPS_REFINT_H

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/relcache.h"

/* The referenced table and the key every child carries. */
#define SO_PARENT_TABLE		"session_snapshots"
#define SO_KEY_COLUMN		"snapshot_id"

/* A child table and the name of its (trigger) constraint. */
typedef struct SoChildTable
{
	const char *table;
	const char *constraint;
} SoChildTable;

#define SO_NUM_CHILDREN		3
extern const SoChildTable so_child_tables[SO_NUM_CHILDREN];

/* The operations a trigger function accepts (so_trigger_data). */
#define SO_TRIG_INSERT		0x01
#define SO_TRIG_UPDATE		0x02
#define SO_TRIG_DELETE		0x04
#define SO_TRIG_TRUNCATE	0x08

/*
 * The TriggerData of a call, after checking that the function was called by
 * the trigger manager AFTER one of the operations in ops, for each row
 * (for_row) or for each statement; ERROR (39P01) otherwise.
 */
extern TriggerData *so_trigger_data(FunctionCallInfo fcinfo,
									const char *funcname, bool for_row,
									int ops);

/*
 * Is the statement being executed a COPY FROM into rel?  True only while
 * the top-level statement of the session (the active portal) is COPY ...
 * FROM naming rel; see the file header of src/refint.c for why that is the
 * test.  Rows such a statement loads are not checked, and the load records
 * a retention hold (src/holds.c).
 */
extern bool so_bulk_load_into(Relation rel);

/*
 * How many rows of each child table (so_child_tables order) reference a
 * snapshot_id that session_snapshots does not hold, in the active
 * snapshot, with the caller's privileges.  Connects to SPI itself.
 */
extern void so_refint_count_orphans(Oid nspid, int64 *orphans);

#endif							/* SNAPSHOT_OPS_REFINT_H */
