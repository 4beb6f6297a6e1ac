/*-------------------------------------------------------------------------
 *
 * dump_scan.c
 *		Count the rows of every table in a plain-format pg_dump stream.
 *
 * pg_dump writes the data of a table as a comment block naming it ("-- Data
 * for Name: ...; Type: TABLE DATA; ..."), then "COPY name (columns) FROM
 * stdin;", one line per row (newlines inside values are escaped as \n) and a
 * line "\.".  Counting those lines while the stream passes gives the row
 * counts that the backup holds, without a second query and exactly as of
 * pg_dump's snapshot; verify and restore compare them with the counts of the
 * restored tables.  A COPY line is only taken as one when the TABLE DATA
 * comment came right before it, so that a function body containing such a
 * line does not confuse the count.  The scanner also keeps the last bytes of
 * the stream, to check that the dump ran to its end: pg_dump ends with the
 * comment "-- PostgreSQL database dump complete" (since 15.14 followed by a
 * \unrestrict line with a 64-character key).
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/dump_scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "dump_scan.h"

#define SCAN_DATA_COMMENT	"-- Data for Name: "
#define SCAN_DATA_TYPE		"; Type: TABLE DATA;"
#define SCAN_COPY_END		" FROM stdin;"
#define SCAN_DUMP_COMPLETE	"-- PostgreSQL database dump complete"

/* Start scanning a new stream. */
void
sob_scan_init(SobDumpScan *scan)
{
	memset(scan, 0, sizeof(*scan));
	scan->linecap = 1024;
	scan->line = pg_malloc(scan->linecap);
}

/*
 * Return the length of the (possibly schema-qualified, possibly quoted)
 * table name at the start of s, as pg_dump prints it, or 0 if there is none.
 */
static size_t
scan_qualified_name(const char *s, size_t len)
{
	size_t		i = 0;

	for (;;)
	{
		size_t		start = i;

		if (i < len && s[i] == '"')
		{
			i++;
			for (;;)
			{
				if (i >= len)
					return 0;
				if (s[i] == '"')
				{
					if (i + 1 < len && s[i + 1] == '"')
						i += 2;
					else
					{
						i++;
						break;
					}
				}
				else
					i++;
			}
		}
		else
		{
			while (i < len && s[i] != '.' && s[i] != ' ' && s[i] != '(')
				i++;
		}
		if (i == start)
			return 0;
		if (i < len && s[i] == '.')
		{
			i++;
			continue;
		}
		return i;
	}
}

/* Look at one complete line outside COPY data. */
static void
scan_line(SobDumpScan *scan, const char *line, size_t len)
{
	size_t		namelen;
	size_t		endlen = strlen(SCAN_COPY_END);
	int			i;

	if (len == 0)
		return;					/* blank lines keep the expectation */
	if (len >= 2 && line[0] == '-' && line[1] == '-')
	{
		if (len > strlen(SCAN_DATA_COMMENT) &&
			strncmp(line, SCAN_DATA_COMMENT, strlen(SCAN_DATA_COMMENT)) == 0 &&
			memmem(line, len, SCAN_DATA_TYPE, strlen(SCAN_DATA_TYPE)) != NULL)
			scan->expect_copy = true;
		return;
	}

	if (!scan->expect_copy || len < 5 + endlen || strncmp(line, "COPY ", 5) != 0 ||
		memcmp(line + len - endlen, SCAN_COPY_END, endlen) != 0)
	{
		scan->expect_copy = false;
		return;
	}
	scan->expect_copy = false;

	namelen = scan_qualified_name(line + 5, len - 5 - endlen);
	if (namelen == 0)
		return;

	for (i = 0; i < scan->ntables; i++)
	{
		if (strlen(scan->tables[i].name) == namelen &&
			memcmp(scan->tables[i].name, line + 5, namelen) == 0)
			break;
	}
	if (i == scan->ntables)
	{
		if (scan->ntables == scan->maxtables)
		{
			scan->maxtables = scan->maxtables ? scan->maxtables * 2 : 16;
			scan->tables = pg_realloc_array(scan->tables, SobTableRows, scan->maxtables);
		}
		scan->tables[i].name = pnstrdup(line + 5, namelen);
		scan->tables[i].rows = 0;
		scan->ntables++;
	}
	scan->in_copy = true;
	scan->current = i;
	scan->datalen = 0;
}

/* Feed the next len bytes of the stream. */
void
sob_scan_feed(SobDumpScan *scan, const char *buf, size_t len)
{
	const char *p = buf;

	scan->bytes += len;

	/* keep the last bytes of the stream */
	if (len >= sizeof(scan->tail))
	{
		memcpy(scan->tail, buf + len - sizeof(scan->tail), sizeof(scan->tail));
		scan->taillen = sizeof(scan->tail);
	}
	else
	{
		size_t		keep = sizeof(scan->tail) - len;

		if (keep > scan->taillen)
			keep = scan->taillen;
		memmove(scan->tail, scan->tail + scan->taillen - keep, keep);
		memcpy(scan->tail + keep, buf, len);
		scan->taillen = keep + len;
	}

	while (len > 0)
	{
		const char *nl = memchr(p, '\n', len);
		size_t		seg = nl ? (size_t) (nl - p) : len;

		if (scan->in_copy)
		{
			size_t		i;

			for (i = 0; scan->datalen + i < sizeof(scan->datahead) && i < seg; i++)
				scan->datahead[scan->datalen + i] = p[i];
			scan->datalen += seg;
			if (nl)
			{
				if (scan->datalen == 2 && scan->datahead[0] == '\\' &&
					scan->datahead[1] == '.')
					scan->in_copy = false;
				else
					scan->tables[scan->current].rows++;
				scan->datalen = 0;
			}
		}
		else
		{
			if (scan->linelen + seg + 1 > scan->linecap)
			{
				while (scan->linelen + seg + 1 > scan->linecap)
					scan->linecap *= 2;
				scan->line = pg_realloc(scan->line, scan->linecap);
			}
			memcpy(scan->line + scan->linelen, p, seg);
			scan->linelen += seg;
			if (nl)
			{
				scan->line[scan->linelen] = '\0';
				scan_line(scan, scan->line, scan->linelen);
				scan->linelen = 0;
			}
		}
		if (!nl)
			break;
		p += seg + 1;
		len -= seg + 1;
	}
}

/* Did the stream end the way a complete pg_dump output ends? */
bool
sob_scan_complete(const SobDumpScan *scan)
{
	return !scan->in_copy &&
		memmem(scan->tail, scan->taillen, SCAN_DUMP_COMPLETE,
			   strlen(SCAN_DUMP_COMPLETE)) != NULL;
}

/* Rows of the table qualname in the stream, or -1 if it had no data. */
long long
sob_scan_rows(const SobDumpScan *scan, const char *qualname)
{
	int			i;

	for (i = 0; i < scan->ntables; i++)
	{
		if (strcmp(scan->tables[i].name, qualname) == 0)
			return scan->tables[i].rows;
	}
	return -1;
}

/* Release what the scanner allocated. */
void
sob_scan_free(SobDumpScan *scan)
{
	int			i;

	for (i = 0; i < scan->ntables; i++)
		pg_free(scan->tables[i].name);
	pg_free(scan->tables);
	pg_free(scan->line);
	memset(scan, 0, sizeof(*scan));
}
