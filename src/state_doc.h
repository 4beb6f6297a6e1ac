/*-------------------------------------------------------------------------
 *
 * state_doc.h
 *		Checking a state document and turning it into the parameters of the
 *		save statement.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/state_doc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_STATE_DOC_H
#define SNAPSHOT_OPS_STATE_DOC_H

#include "utils/jsonb.h"

/*
 * Parameters of the save statement: $1-$8 the session row (snapshot_type
 * last), $9-$13 arrays of position keys, trades, orders a and b and open
 * times, $14-$24 the metrics row, $25-$31 the risk_guard row.
 */
#define SO_SAVE_NARGS	31

typedef struct SoSaveArgs
{
	Datum		values[SO_SAVE_NARGS];
	char		nulls[SO_SAVE_NARGS];	/* 'n' or ' ', as SPI wants */
} SoSaveArgs;

extern const Oid so_save_argtypes[SO_SAVE_NARGS];

/* ERROR unless snapshot_type satisfies the table's CHECK. */
extern void so_check_snapshot_type(const char *snapshot_type);

/* Check a whole document (ERROR naming the JSON path) and fill *args. */
extern void so_doc_to_save_args(Jsonb *state, const char *snapshot_type,
								SoSaveArgs *args);

#endif							/* SNAPSHOT_OPS_STATE_DOC_H */
