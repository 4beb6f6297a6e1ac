/*-------------------------------------------------------------------------
 *
 * gzip_stream.c
 *		gzip streams of snapshot_ops_backup: compress pg_dump's output into
 *		a file, and read a backup back, checking it completely.
 *
 * The writer produces one gzip member (RFC 1952) with zlib's deflate, the
 * original file name in the header, so that "gunzip -N" and "gunzip | psql"
 * work on every backup.  It hashes the compressed bytes as it writes them,
 * so the checksum costs no second read.  The reader hashes the file and
 * inflates it to the end; zlib then checks the CRC-32 and length in the gzip
 * trailer, so a truncated or damaged file is always detected.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/gzip_stream.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "snapshot_ops_backup.h"

/* Write all of buf to fd, retrying after short writes and EINTR. */
static int
gz_write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, buf, len);

		if (n < 0)
		{
			if (errno == EINTR && !sob_interrupted)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

/* Run deflate with the given flush mode and write what it produced. */
static int
gz_deflate(SobGzWriter *w, int flush)
{
	z_stream   *zs = w->zs;
	int			rc;

	do
	{
		size_t		have;

		zs->next_out = w->out;
		zs->avail_out = SOB_BUFSIZE;
		rc = deflate(zs, flush);
		if (rc == Z_STREAM_ERROR)
		{
			w->saved_errno = EINVAL;
			return -1;
		}
		have = SOB_BUFSIZE - zs->avail_out;
		if (have > 0)
		{
			if (gz_write_all(w->fd, w->out, have) < 0)
			{
				w->saved_errno = errno;
				return -1;
			}
			sob_sha256_update(&w->sha, w->out, have);
			w->written += have;
		}
	} while (zs->avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));

	return 0;
}

/*
 * Start a gzip member on fd.  name and mtime go into the gzip header.
 * Returns 0, or -1 when zlib cannot be initialized.
 */
int
sob_gz_writer_init(SobGzWriter *w, int fd, int level, const char *name,
				   time_t mtime)
{
	z_stream   *zs = sob_malloc(sizeof(z_stream));
	gz_header  *head = sob_malloc(sizeof(gz_header));

	memset(w, 0, sizeof(*w));
	memset(zs, 0, sizeof(*zs));
	memset(head, 0, sizeof(*head));
	w->fd = fd;
	w->zs = zs;
	w->out = sob_malloc(SOB_BUFSIZE);
	sob_sha256_init(&w->sha);

	/* windowBits 15 + 16: gzip wrapper; memLevel 8 as gzip(1) uses */
	if (deflateInit2(zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;

	/* The header must outlive the stream until the header is written. */
	w->head = head;
	head->name = (Bytef *) sob_strdup(name);
	head->time = (uLong) mtime;
	head->os = 3;				/* Unix */
	if (deflateSetHeader(zs, head) != Z_OK)
		return -1;
	return 0;
}

/* Compress len bytes.  Returns 0, or -1 with w->saved_errno set. */
int
sob_gz_write(SobGzWriter *w, const char *buf, size_t len)
{
	z_stream   *zs = w->zs;

	zs->next_in = (Bytef *) buf;
	zs->avail_in = (uInt) len;
	if (gz_deflate(w, Z_NO_FLUSH) < 0)
		return -1;
	return 0;
}

/* Write the rest of the stream and the trailer.  0 or -1 as above. */
int
sob_gz_finish(SobGzWriter *w)
{
	z_stream   *zs = w->zs;

	zs->next_in = NULL;
	zs->avail_in = 0;
	return gz_deflate(w, Z_FINISH);
}

/* Release zlib's state; the file descriptor is the caller's. */
void
sob_gz_writer_free(SobGzWriter *w)
{
	if (w->zs)
	{
		deflateEnd(w->zs);
		free(w->zs);
		w->zs = NULL;
	}
	if (w->head)
	{
		free(((gz_header *) w->head)->name);
		free(w->head);
		w->head = NULL;
	}
	free(w->out);
	w->out = NULL;
}

/*
 * Read the gzip file at path to its end.  The compressed bytes go into sha
 * (if not NULL); the decompressed bytes go to consume (if not NULL), which
 * returns 0 to go on or -1 to stop.  Concatenated gzip members are accepted,
 * as gunzip accepts them; anything else after the last member is damage.
 *
 * Returns 0 when the whole stream is intact, -1 on a read error of the file
 * (errno set, message in errbuf), -2 when the stream is damaged or
 * truncated (message in errbuf), -3 when consume stopped.
 */
int
sob_gz_read(const char *path, SobSha256 *sha, SobConsumer consume, void *arg,
			unsigned long long *compressed, char *errbuf, size_t errlen)
{
	unsigned char *in = sob_malloc(SOB_BUFSIZE);
	unsigned char *out = sob_malloc(SOB_BUFSIZE);
	z_stream	zs;
	int			fd;
	int			result = 0;
	bool		ended = false;	/* the last member ended */
	bool		any = false;	/* at least one byte of input */
	unsigned long long total = 0;

	memset(&zs, 0, sizeof(zs));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		snprintf(errbuf, errlen, "could not open \"%s\": %s", path, strerror(errno));
		free(in);
		free(out);
		return -1;
	}
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
	{
		snprintf(errbuf, errlen, "could not initialize zlib");
		close(fd);
		free(in);
		free(out);
		return -1;
	}

	for (;;)
	{
		ssize_t		n = read(fd, in, SOB_BUFSIZE);

		if (n < 0)
		{
			if (errno == EINTR && !sob_interrupted)
				continue;
			snprintf(errbuf, errlen, "could not read \"%s\": %s", path, strerror(errno));
			result = -1;
			break;
		}
		if (n == 0)
		{
			if (!any)
			{
				snprintf(errbuf, errlen, "\"%s\" is empty", path);
				result = -2;
			}
			else if (!ended)
			{
				snprintf(errbuf, errlen,
						 "\"%s\" is truncated: the gzip stream ends after %llu bytes without its trailer",
						 path, total);
				result = -2;
			}
			break;
		}
		any = true;
		total += (unsigned long long) n;
		if (sha)
			sob_sha256_update(sha, in, (size_t) n);

		zs.next_in = in;
		zs.avail_in = (uInt) n;
		zs.avail_out = 1;		/* enter the loop */
		while (result == 0 &&
			   (zs.avail_in > 0 || (zs.avail_out == 0 && !ended)))
		{
			int			rc;
			size_t		have;

			if (ended)
			{
				/* another member must start with the gzip magic */
				if (zs.next_in[0] != 0x1f)
				{
					snprintf(errbuf, errlen,
							 "\"%s\" is damaged: unexpected data after the end of the gzip stream",
							 path);
					result = -2;
					break;
				}
				inflateReset(&zs);
				ended = false;
			}
			zs.next_out = out;
			zs.avail_out = SOB_BUFSIZE;
			rc = inflate(&zs, Z_NO_FLUSH);
			if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			{
				snprintf(errbuf, errlen, "\"%s\" is damaged: %s", path,
						 zs.msg ? zs.msg : "invalid gzip data");
				result = -2;
				break;
			}
			have = SOB_BUFSIZE - zs.avail_out;
			if (have > 0 && consume && consume(arg, (const char *) out, have) < 0)
			{
				result = -3;
				break;
			}
			if (rc == Z_STREAM_END)
				ended = true;
			if (sob_interrupted)
			{
				snprintf(errbuf, errlen, "interrupted");
				result = -3;
			}
		}
		if (result != 0)
			break;
	}

	if (compressed)
		*compressed = total;
	inflateEnd(&zs);
	close(fd);
	free(in);
	free(out);
	return result;
}
