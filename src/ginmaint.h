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
#include "utils/palloc.h"

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

typedef struct SoGinScan
{
	List	   *indexes;		/* valid GIN indexes, as SoGinIndexInfo */
	List	   *leftovers;		/* names of invalid <name>_ccnew/_ccold ones */
} SoGinScan;

/*
 * The GIN indexes of the four tables in schema nspid: the valid ones with
 * their entry counts (reading every page of each) and, with leftovers,
 * the invalid copies an unfinished REINDEX INDEX CONCURRENTLY left.  All
 * allocated in cxt, so that it outlives the transaction the scan needs.
 */
extern void so_gin_scan(Oid nspid, bool leftovers, MemoryContext cxt,
						SoGinScan *scan);

/* Size of an index of schema nspid; InvalidBlockNumber if there is none. */
extern BlockNumber so_index_blocks(Oid nspid, const char *index_name);

#endif							/* SNAPSHOT_OPS_GINMAINT_H */
