/*-------------------------------------------------------------------------
 *
 * gzip_stream.c
 *		gzip streams of snapshot_ops_backup: compress pg_dump's output into
 *		a file, and read a backup back, checking it completely.
 *
 * The writer produces one gzip member (RFC 1952) with zlib's deflate, the
 * original file name in the header, so that "gunzip -N" and "gunzip | psql"
 * work on every backup, and a comment that the caller chooses (backup_dir.c
 * records the database's name there).  It hashes the compressed bytes as it
 * writes them, so the checksum costs no second read.  Only the header is
 * read back by sob_gz_header_comment(): list and rotate read the comment of
 * every backup without inflating it.
 *
 * The reader hashes every byte it reads and inflates it to the end; zlib
 * then checks the CRC-32 and length in each member's trailer, so a
 * truncated or damaged file is always detected.  The hash and the
 * decompressed bytes handed to the consumer come from the same read, so a
 * caller can check a checksum over exactly the bytes it consumed.  zlib's
 * gz* file API is not used: it passes non-gzip input through unchanged and
 * ignores trailing garbage, both of which must count as damage here.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/gzip_stream.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <unistd.h>

#include <zlib.h>

#include "common/logging.h"

#include "checksum.h"
#include "gzip_stream.h"
#include "interrupt.h"
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
			sob_sha256_add(w->sha, w->out, have);
			w->written += have;
		}
	} while (zs->avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));

	return 0;
}

/*
 * Start a gzip member on fd.  name, comment (may be NULL) and mtime go into
 * the gzip header.  zlib fails to initialize only when out of memory, which
 * ends the program as pg_malloc() does.
 */
void
sob_gz_writer_init(SobGzWriter *w, int fd, int level, const char *name,
				   const char *comment, time_t mtime)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->zs = pg_malloc0(sizeof(z_stream));
	w->head = pg_malloc0(sizeof(gz_header));
	w->out = pg_malloc(SOB_BUFSIZE);
	w->sha = sob_sha256_begin();

	/* windowBits 15 + 16: gzip wrapper; memLevel 8 as gzip(1) uses */
	if (deflateInit2(w->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		pg_fatal("could not initialize zlib: %s", w->zs->msg ? w->zs->msg : "out of memory");

	/* The header must outlive the stream until the header is written. */
	w->head->name = (Bytef *) pg_strdup(name);
	if (comment)
		w->head->comment = (Bytef *) pg_strdup(comment);
	w->head->time = (uLong) mtime;
	w->head->os = 3;			/* Unix */
	if (deflateSetHeader(w->zs, w->head) != Z_OK)
		pg_fatal("could not initialize zlib: %s", w->zs->msg ? w->zs->msg : "bad header");
}

/* Compress len bytes.  Returns 0, or -1 with w->saved_errno set. */
int
sob_gz_write(SobGzWriter *w, const char *buf, size_t len)
{
	w->zs->next_in = (Bytef *) buf;
	w->zs->avail_in = (uInt) len;
	return gz_deflate(w, Z_NO_FLUSH);
}

/*
 * Write the rest of the stream and the trailer.  hex (SOB_SHA256_HEX_LEN +
 * 1 bytes) receives the SHA-256 of the whole file.  Returns 0, or -1 with
 * w->saved_errno set.
 */
int
sob_gz_finish(SobGzWriter *w, char *hex)
{
	w->zs->next_in = NULL;
	w->zs->avail_in = 0;
	if (gz_deflate(w, Z_FINISH) < 0)
		return -1;
	sob_sha256_end(w->sha, hex);
	w->sha = NULL;
	return 0;
}

/* Release zlib's state and the hash; the file descriptor is the caller's. */
void
sob_gz_writer_free(SobGzWriter *w)
{
	if (w->zs)
	{
		deflateEnd(w->zs);
		pg_free(w->zs);
		w->zs = NULL;
	}
	if (w->head)
	{
		pg_free(w->head->name);
		pg_free(w->head->comment);
		pg_free(w->head);
		w->head = NULL;
	}
	if (w->sha)
	{
		pg_cryptohash_free(w->sha);
		w->sha = NULL;
	}
	pg_free(w->out);
	w->out = NULL;
}

/*
 * The comment in the gzip header of the file at path, read with zlib
 * without inflating any data: comment (size bytes) receives it, cut to
 * size - 1 bytes.  Returns false if the file cannot be read, is not gzip,
 * or its header has no comment.
 */
bool
sob_gz_header_comment(const char *path, char *comment, size_t size)
{
	unsigned char in[1024];
	unsigned char out[64];
	gz_header	head;
	z_stream	zs;
	size_t		total = 0;
	int			fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	memset(&zs, 0, sizeof(zs));
	memset(&head, 0, sizeof(head));
	head.comment = (Bytef *) comment;
	head.comm_max = (uInt) size;
	if (inflateInit2(&zs, 15 + 16) != Z_OK || inflateGetHeader(&zs, &head) != Z_OK)
		pg_fatal("could not initialize zlib: %s", zs.msg ? zs.msg : "out of memory");

	/* the header is a few dozen bytes; 64 kB of it is not one of ours */
	while (head.done == 0 && total < 64 * 1024)
	{
		ssize_t		n = read(fd, in, sizeof(in));

		if (n < 0 && errno == EINTR && !sob_interrupted)
			continue;
		if (n <= 0)
			break;
		total += (size_t) n;
		zs.next_in = in;
		zs.avail_in = (uInt) n;
		while (zs.avail_in > 0 && head.done == 0)
		{
			int			rc;

			zs.next_out = out;
			zs.avail_out = sizeof(out);
			/* Z_BLOCK: return at the end of the header, before any data */
			rc = inflate(&zs, Z_BLOCK);
			if (rc != Z_OK && rc != Z_BUF_ERROR)
				break;
		}
		if (zs.avail_in > 0 && head.done == 0)
			break;				/* not a gzip header */
	}
	inflateEnd(&zs);
	close(fd);
	if (head.done != 1 || head.comment == Z_NULL || size == 0)
		return false;
	comment[size - 1] = '\0';
	return true;
}

/*
 * Read the gzip file open on fd (path names it in messages) to its end.
 * Every byte read goes into sha (if not NULL), the decompressed bytes to
 * consume (if not NULL).  Concatenated gzip members are accepted, as gunzip
 * accepts them; anything else after the last member is damage.  After
 * damage is found nothing more is decompressed, but the rest of the file is
 * still read into sha, so that the hash is always that of the whole file.
 *
 * compressed receives the bytes read; errbuf a message for any result but
 * SOB_GZ_OK (for SOB_GZ_READ_ERROR, errno is set too).
 */
SobGzResult
sob_gz_read(int fd, const char *path, pg_cryptohash_ctx *sha,
			SobGzConsumer consume, void *arg, uint64 *compressed,
			char *errbuf, size_t errlen)
{
	unsigned char *in = pg_malloc(SOB_BUFSIZE);
	unsigned char *out = pg_malloc(SOB_BUFSIZE);
	z_stream	zs;
	SobGzResult result = SOB_GZ_OK;
	bool		damaged = false;	/* stop inflating, keep hashing */
	bool		ended = false;	/* the last member ended */
	uint64		total = 0;
	int			save_errno = 0;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		pg_fatal("could not initialize zlib: %s", zs.msg ? zs.msg : "out of memory");

	for (;;)
	{
		ssize_t		n = read(fd, in, SOB_BUFSIZE);

		if (sob_interrupted)
		{
			snprintf(errbuf, errlen, "interrupted");
			result = SOB_GZ_STOPPED;
			break;
		}
		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			save_errno = errno;
			snprintf(errbuf, errlen, "could not read \"%s\": %m", path);
			result = SOB_GZ_READ_ERROR;
			break;
		}
		if (n == 0)
		{
			if (damaged)
				result = SOB_GZ_DAMAGED;
			else if (total == 0)
			{
				snprintf(errbuf, errlen, "\"%s\" is empty", path);
				result = SOB_GZ_DAMAGED;
			}
			else if (!ended)
			{
				snprintf(errbuf, errlen,
						 "\"%s\" is truncated: the gzip stream ends after %llu bytes without its trailer",
						 path, (unsigned long long) total);
				result = SOB_GZ_DAMAGED;
			}
			break;
		}
		total += (uint64) n;
		if (sha)
			sob_sha256_add(sha, in, (size_t) n);
		if (damaged)
			continue;

		zs.next_in = in;
		zs.avail_in = (uInt) n;
		zs.avail_out = 1;		/* enter the loop */
		while (zs.avail_in > 0 || (zs.avail_out == 0 && !ended))
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
					damaged = true;
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
				damaged = true;
				break;
			}
			have = SOB_BUFSIZE - zs.avail_out;
			if (have > 0 && consume && consume(arg, (const char *) out, have) < 0)
			{
				snprintf(errbuf, errlen, "stopped");
				result = SOB_GZ_STOPPED;
				break;
			}
			if (rc == Z_STREAM_END)
				ended = true;
		}
		if (result != SOB_GZ_OK)
			break;
		/* without a hash to finish, the verdict is known now */
		if (damaged && sha == NULL)
		{
			result = SOB_GZ_DAMAGED;
			break;
		}
	}

	if (compressed)
		*compressed = total;
	inflateEnd(&zs);
	pg_free(in);
	pg_free(out);
	errno = save_errno;
	return result;
}
