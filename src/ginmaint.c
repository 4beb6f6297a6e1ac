/*-------------------------------------------------------------------------
 *
 * ginmaint.c
 *		Keeping the GIN indexes of the snapshot tables from growing for ever.
 *
 * A GIN index never removes a key from its entry tree: VACUUM empties the
 * posting list of a key whose rows are gone but leaves the key itself in
 * place.  The report's GIN indexes cover whole JSON documents, whose values
 * (trade and order ids, prices, quantities) are mostly unique, so under a
 * retention policy the entry tree keeps every value ever saved and grows
 * without bound while the table stays flat (t/016_worker_gin_rebuild.pl:
 * 20,000 live positions after 20,000 were deleted, 9.6 MB; rebuilt, 3.1 MB).
 *
 * The vacuum job therefore measures, after its VACUUM, the share of empty
 * entries of each GIN index of the four tables (reading the entry tree's
 * leaf pages, as VACUUM's own cleanup pass reads the index) and rebuilds an
 * index with REINDEX INDEX CONCURRENTLY when that share reaches
 * snapshot_ops.gin_rebuild_threshold.  Applications keep reading and
 * writing during the rebuild.  A rebuild that fails (lock timeout, cancel,
 * crash) leaves an invalid index named <index>_ccnew or <index>_ccold,
 * which every insert would still maintain; the job drops such leftovers of
 * its own indexes first.
 *
 * snapshot_ops.gin_index_bloat() shows the same figures to a DBA.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/ginmaint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/gin_private.h"
#include "access/genam.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "ginmaint.h"
#include "guc.h"
#include "jobs.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(snapshot_ops_gin_index_bloat);

/* Indexes smaller than this are never rebuilt: the gain would be nil. */
#define SO_GIN_REBUILD_MIN_BLOCKS	((BlockNumber) (1024 * 1024 / BLCKSZ))

/*
 * Count the entries of a GIN index's entry tree and those whose posting
 * list is empty, reading every page once in physical order with a bulk-read
 * strategy.  Keys with a posting tree count as live (an emptied posting
 * tree keeps its root, and such keys are the frequent ones).  Pending-list
 * pages are not counted: VACUUM has just moved them into the tree.
 */
static void
so_gin_count(Relation index, SoGinIndexInfo *info)
{
	BufferAccessStrategy strategy = GetAccessStrategy(BAS_BULKREAD);
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	info->blocks = nblocks;
	info->entries = 0;
	info->empty_entries = 0;

	for (BlockNumber blkno = GIN_ROOT_BLKNO; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		LockBuffer(buf, GIN_SHARE);
		page = BufferGetPage(buf);
		if (!PageIsNew(page) && !GinPageIsDeleted(page) && GinPageIsLeaf(page) &&
			!GinPageIsData(page) && !GinPageIsList(page))
		{
			OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
			{
				IndexTuple	itup = (IndexTuple) PageGetItem(page, PageGetItemId(page, off));

				info->entries++;
				if (!GinIsPostingTree(itup) && GinGetNPosting(itup) == 0)
					info->empty_entries++;
			}
		}
		UnlockReleaseBuffer(buf);
	}
	FreeAccessStrategy(strategy);
}

/* The entry counts of a valid GIN index of table_name, allocated here. */
static SoGinIndexInfo *
so_gin_info(const char *table_name, Relation index)
{
	SoGinIndexInfo *info = palloc0(sizeof(SoGinIndexInfo));

	info->table_name = table_name;
	info->index_name = pstrdup(RelationGetRelationName(index));
	so_gin_count(index, info);
	info->empty_fraction = info->entries > 0 ?
		(double) info->empty_entries / info->entries : 0.0;
	info->rebuild_due = so_gin_rebuild_threshold > 0 &&
		info->blocks >= SO_GIN_REBUILD_MIN_BLOCKS &&
		info->empty_fraction >= so_gin_rebuild_threshold;
	return info;
}

/*
 * Whether an invalid index is named as REINDEX INDEX CONCURRENTLY names the
 * copies it builds: <name>_ccnew or <name>_ccold, optionally numbered.
 */
static bool
so_is_reindex_leftover(const char *name)
{
	const char *suffix = strstr(name, "_ccnew");

	if (suffix == NULL)
		suffix = strstr(name, "_ccold");
	return suffix != NULL &&
		strspn(suffix + 6, "0123456789") == strlen(suffix + 6);
}

void
so_gin_scan(Oid nspid, bool leftovers, MemoryContext cxt, SoGinScan *scan)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

	memset(scan, 0, sizeof(*scan));
	for (int t = 0; t < SO_NUM_TABLES; t++)
	{
		Oid			relid = get_relname_relid(so_table_names[t], nspid);
		Relation	rel;
		ListCell   *lc;

		if (!OidIsValid(relid))
			continue;
		rel = table_open(relid, AccessShareLock);
		foreach(lc, RelationGetIndexList(rel))
		{
			Relation	index = index_open(lfirst_oid(lc), AccessShareLock);

			if (index->rd_rel->relam == GIN_AM_OID)
			{
				const char *name = RelationGetRelationName(index);

				if (index->rd_index->indisvalid)
					scan->indexes = lappend(scan->indexes,
											so_gin_info(so_table_names[t], index));
				else if (leftovers && so_is_reindex_leftover(name))
					scan->leftovers = lappend(scan->leftovers, pstrdup(name));
			}
			index_close(index, AccessShareLock);
		}
		table_close(rel, AccessShareLock);
	}
	MemoryContextSwitchTo(oldcxt);
}

BlockNumber
so_index_blocks(Oid nspid, const char *index_name)
{
	Oid			indexoid = get_relname_relid(index_name, nspid);
	Relation	index;
	BlockNumber blocks;

	if (!OidIsValid(indexoid))
		return InvalidBlockNumber;
	index = index_open(indexoid, AccessShareLock);
	blocks = RelationGetNumberOfBlocks(index);
	index_close(index, AccessShareLock);
	return blocks;
}

/*
 * snapshot_ops.gin_index_bloat() RETURNS TABLE(table_name text, index_name
 *	   text, index_bytes bigint, entries bigint, empty_entries bigint,
 *	   empty_fraction float8, rebuild_due boolean)
 *
 * Reads every page of each GIN index: as costly as a sequential scan of
 * the indexes.
 */
Datum
snapshot_ops_gin_index_bloat(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SoGinScan	scan;
	ListCell   *lc;

	so_init_materialized_srf(fcinfo, 0);
	so_gin_scan(so_extension_schema(), false, CurrentMemoryContext, &scan);
	foreach(lc, scan.indexes)
	{
		SoGinIndexInfo *info = lfirst(lc);
		Datum		values[7];
		bool		nulls[7] = {0};

		values[0] = CStringGetTextDatum(info->table_name);
		values[1] = CStringGetTextDatum(info->index_name);
		values[2] = Int64GetDatum((int64) info->blocks * BLCKSZ);
		values[3] = Int64GetDatum(info->entries);
		values[4] = Int64GetDatum(info->empty_entries);
		values[5] = Float8GetDatum(info->empty_fraction);
		values[6] = BoolGetDatum(info->rebuild_due);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
