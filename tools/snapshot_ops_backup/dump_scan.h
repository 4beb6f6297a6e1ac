/*-------------------------------------------------------------------------
 *
 * dump_scan.h
 *		Row counts and completeness of a plain-format pg_dump stream.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/dump_scan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_DUMP_SCAN_H
#define SOB_DUMP_SCAN_H

/* Rows of one table found in a dump stream. */
typedef struct SobTableRows
{
	char	   *name;			/* qualified name as pg_dump printed it */
	long long	rows;
} SobTableRows;

/* The state of a scan; see dump_scan.c. */
typedef struct SobDumpScan
{
	bool		in_copy;		/* between "COPY ... FROM stdin;" and "\." */
	int			current;		/* index into tables while in_copy */
	bool		expect_copy;	/* a TABLE DATA comment came last */
	char	   *line;			/* current line outside COPY data */
	size_t		linelen;
	size_t		linecap;
	size_t		datalen;		/* length of the current COPY data line */
	char		datahead[3];	/* its first bytes */
	SobTableRows *tables;
	int			ntables;
	int			maxtables;
	uint64		bytes;			/* uncompressed bytes seen */
	char		tail[256];		/* last bytes of the stream */
	size_t		taillen;
} SobDumpScan;

extern void sob_scan_init(SobDumpScan *scan);
extern void sob_scan_feed(SobDumpScan *scan, const char *buf, size_t len);
extern bool sob_scan_complete(const SobDumpScan *scan);
extern long long sob_scan_rows(const SobDumpScan *scan, const char *qualname);
extern void sob_scan_free(SobDumpScan *scan);

#endif							/* SOB_DUMP_SCAN_H */
