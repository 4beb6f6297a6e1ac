/*-------------------------------------------------------------------------
 *
 * ginmaint.h
 *		Empty entries of the GIN indexes, and their rebuild by the vacuum
 *		job.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/ginmaint.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_GINMAINT_H
#define SNAPSHOT_OPS_GINMAINT_H

#include "nodes/pg_list.h"
#include "storage/block.h"

typedef struct SoGinIndexInfo
{
	const char *table_name;
	char	   *index_name;
	BlockNumber blocks;
	int64		entries;		/* keys in the entry tree */
	int64		empty_entries;	/* keys whose rows are all gone */
	double		empty_fraction;
	bool		rebuild_due;	/* past snapshot_ops.gin_rebuild_threshold */
} SoGinIndexInfo;

/*
 * The valid GIN indexes of the four tables in schema nspid with their
 * entry counts (a List of SoGinIndexInfo), allocated in cxt.  Reads every
 * page of each; needs a transaction.
 */
extern List *so_gin_indexes(Oid nspid, MemoryContext cxt);

/*
 * Names of invalid GIN indexes on the four tables left by an unfinished
 * REINDEX INDEX CONCURRENTLY (<name>_ccnew, <name>_ccold), allocated in cxt.
 */
extern List *so_gin_leftovers(Oid nspid, MemoryContext cxt);

#endif							/* SNAPSHOT_OPS_GINMAINT_H */
