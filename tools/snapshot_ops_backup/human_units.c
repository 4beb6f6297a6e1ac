/*-------------------------------------------------------------------------
 *
 * human_units.c
 *		Sizes and ages as snapshot_ops_backup prints them, in the format of
 *		the report it replaces ("25.00 MB", "3d 07h").
 *
 * Front-end libpgcommon has no size formatter (pg_size_pretty() is the
 * server's, and prints "25 MB", not the report's "25.00 MB").
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/human_units.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "human_units.h"

/*
 * A size: "2.45 MB" (MB = 2^20 bytes), kB below 100 kB, GB from 10 GB.
 * buf has SOB_HUMAN_LEN bytes; returns it.
 */
char *
sob_human_size(uint64 bytes, char *buf)
{
	if (bytes < 100 * 1024)
		snprintf(buf, SOB_HUMAN_LEN, "%.1f kB", bytes / 1024.0);
	else if (bytes < UINT64CONST(10) * 1024 * 1024 * 1024)
		snprintf(buf, SOB_HUMAN_LEN, "%.2f MB", bytes / (1024.0 * 1024.0));
	else
		snprintf(buf, SOB_HUMAN_LEN, "%.2f GB", bytes / (1024.0 * 1024.0 * 1024.0));
	return buf;
}

/*
 * An age in seconds as "12m", "5h 03m" or "3d 07h"; a negative age (a file
 * from the future) is 0m.  buf has SOB_HUMAN_LEN bytes; returns it.
 */
char *
sob_human_age(time_t age, char *buf)
{
	if (age < 0)
		age = 0;
	if (age < 3600)
		snprintf(buf, SOB_HUMAN_LEN, "%ldm", (long) (age / 60));
	else if (age < 86400)
		snprintf(buf, SOB_HUMAN_LEN, "%ldh %02ldm", (long) (age / 3600),
				 (long) (age % 3600 / 60));
	else
		snprintf(buf, SOB_HUMAN_LEN, "%ldd %02ldh", (long) (age / 86400),
				 (long) (age % 86400 / 3600));
	return buf;
}
