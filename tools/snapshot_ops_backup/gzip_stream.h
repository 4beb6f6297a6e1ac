/*-------------------------------------------------------------------------
 *
 * gzip_stream.h
 *		Writing and reading the gzip streams of snapshot_ops_backup.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/gzip_stream.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_GZIP_STREAM_H
#define SOB_GZIP_STREAM_H

#include <time.h>

#include "common/cryptohash.h"

struct z_stream_s;
struct gz_header_s;

/* A compressing writer. */
typedef struct SobGzWriter
{
	int			fd;
	struct z_stream_s *zs;
	struct gz_header_s *head;	/* needed until the header is written */
	unsigned char *out;
	pg_cryptohash_ctx *sha;		/* of the compressed bytes written */
	uint64		written;		/* compressed bytes written */
	int			saved_errno;	/* errno of a failed write, else 0 */
} SobGzWriter;

/* What reading a gzip file found. */
typedef enum SobGzResult
{
	SOB_GZ_OK,					/* the whole stream is intact */
	SOB_GZ_READ_ERROR,			/* the file could not be read */
	SOB_GZ_DAMAGED,				/* damaged or truncated stream */
	SOB_GZ_STOPPED				/* the consumer or a signal stopped it */
} SobGzResult;

/* Receives decompressed bytes; returns 0 to go on, -1 to stop. */
typedef int (*SobGzConsumer) (void *arg, const char *buf, size_t len);

extern void sob_gz_writer_init(SobGzWriter *w, int fd, int level,
							   const char *name, const char *comment,
							   time_t mtime);
extern int	sob_gz_write(SobGzWriter *w, const char *buf, size_t len);
extern int	sob_gz_finish(SobGzWriter *w, char *hex);
extern void sob_gz_writer_free(SobGzWriter *w);

extern bool sob_gz_header_comment(const char *path, char *comment, size_t size);
extern SobGzResult sob_gz_read(int fd, const char *path, pg_cryptohash_ctx *sha,
							   SobGzConsumer consume, void *arg,
							   uint64 *compressed, char *errbuf, size_t errlen);

#endif							/* SOB_GZIP_STREAM_H */
