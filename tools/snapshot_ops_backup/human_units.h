/*-------------------------------------------------------------------------
 *
 * human_units.h
 *		Sizes and ages as snapshot_ops_backup prints them.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/human_units.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_HUMAN_UNITS_H
#define SOB_HUMAN_UNITS_H

#include <time.h>

/* Room for any result of the functions below. */
#define SOB_HUMAN_LEN		32

extern char *sob_human_size(uint64 bytes, char *buf);
extern char *sob_human_age(time_t age, char *buf);

#endif							/* SOB_HUMAN_UNITS_H */
