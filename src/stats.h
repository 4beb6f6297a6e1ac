/*-------------------------------------------------------------------------
 *
 * stats.h
 *		get_snapshot_table_stats(), test_query_performance() and
 *		snapshot_storage_projection(); SQL-callable only.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/stats.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_STATS_H
#define SNAPSHOT_OPS_STATS_H

#include "fmgr.h"

extern Datum snapshot_ops_get_snapshot_table_stats(PG_FUNCTION_ARGS);
extern Datum snapshot_ops_test_query_performance(PG_FUNCTION_ARGS);
extern Datum snapshot_ops_snapshot_storage_projection(PG_FUNCTION_ARGS);

#endif							/* SNAPSHOT_OPS_STATS_H */
