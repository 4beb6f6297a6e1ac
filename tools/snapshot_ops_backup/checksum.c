/*-------------------------------------------------------------------------
 *
 * checksum.c
 *		SHA-256 of backups and their .sha256 files.
 *
 * Every backup has a checksum file <backup>.sha256 beside it, in the
 * format of sha256sum(1) ("<64 hex digits>  <name>\n"), so that
 * "sha256sum -c <backup>.sha256" checks a backup without this tool.  The
 * hash is computed while the backup is written (gzip_stream.c), and over
 * the whole file by list, rotate and verify.
 *
 * The hash is PostgreSQL's pg_cryptohash (common/cryptohash.h), the
 * interface PostgreSQL's own front-end programs use for their checksums.
 * libpgcommon is built with OpenSSL here (--with-ssl=openssl), so this is
 * OpenSSL's EVP SHA-256 underneath, with its CPU-specific code (SHA
 * extensions, AVX2); against a PostgreSQL built without OpenSSL it is
 * PostgreSQL's own sha2.c instead, and the tool still builds.  Calling EVP
 * directly would gain nothing but a second error convention.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/checksum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/logging.h"

#include "checksum.h"
#include "interrupt.h"
#include "snapshot_ops_backup.h"

#define CHECKSUM_SUFFIX		".sha256"

/*
 * Start a SHA-256.  The hash cannot fail short of running out of memory or
 * a broken OpenSSL; those end the program, as pg_malloc() does.
 */
pg_cryptohash_ctx *
sob_sha256_begin(void)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL)
		pg_fatal("out of memory");
	if (pg_cryptohash_init(ctx) < 0)
		pg_fatal("could not initialize SHA-256: %s", pg_cryptohash_error(ctx));
	return ctx;
}

/* Add len bytes to a SHA-256. */
void
sob_sha256_add(pg_cryptohash_ctx *ctx, const void *data, size_t len)
{
	if (pg_cryptohash_update(ctx, data, len) < 0)
		pg_fatal("could not compute SHA-256: %s", pg_cryptohash_error(ctx));
}

/*
 * Finish a SHA-256: hex (SOB_SHA256_HEX_LEN + 1 bytes) receives it in
 * lower-case hex, as sha256sum prints it.  ctx is freed.
 */
void
sob_sha256_end(pg_cryptohash_ctx *ctx, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	int			i;

	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		pg_fatal("could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		hex[i * 2] = digits[digest[i] >> 4];
		hex[i * 2 + 1] = digits[digest[i] & 0x0f];
	}
	hex[SOB_SHA256_HEX_LEN] = '\0';
}

/* The checksum file of a backup (palloc'd). */
char *
sob_checksum_path(const char *backup_path)
{
	return psprintf("%s%s", backup_path, CHECKSUM_SUFFIX);
}

/* The content of a checksum file, in sha256sum's format (palloc'd). */
char *
sob_checksum_line(const char *hex, const char *backup_name)
{
	return psprintf("%s  %s\n", hex, backup_name);
}

/*
 * Read the SHA-256 that the checksum file of the backup at backup_path
 * records into hex (SOB_SHA256_HEX_LEN + 1 bytes, lower case).  Returns
 * false if the file is missing or does not start with a SHA-256.
 */
bool
sob_checksum_expected(const char *backup_path, char *hex)
{
	char	   *path = sob_checksum_path(backup_path);
	FILE	   *f = fopen(path, "r");
	char		line[256];
	bool		found;
	int			i;

	pg_free(path);
	if (f == NULL)
		return false;
	found = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!found)
		return false;
	for (i = 0; i < SOB_SHA256_HEX_LEN; i++)
	{
		if (!isxdigit((unsigned char) line[i]))
			return false;
		hex[i] = (char) tolower((unsigned char) line[i]);
	}
	hex[SOB_SHA256_HEX_LEN] = '\0';
	return line[SOB_SHA256_HEX_LEN] == ' ' || line[SOB_SHA256_HEX_LEN] == '\n';
}

/*
 * Compare the backup at backup_path, read whole, with its checksum file.
 * actual_hex (SOB_SHA256_HEX_LEN + 1 bytes) receives the file's SHA-256
 * when it could be read.  On SOB_CHECKSUM_ERROR, errno tells why.
 */
SobChecksumStatus
sob_checksum_file(const char *backup_path, char *actual_hex)
{
	char		expected[SOB_SHA256_HEX_LEN + 1];
	pg_cryptohash_ctx *ctx;
	char	   *buf;
	int			fd;
	ssize_t		n;

	actual_hex[0] = '\0';
	if (!sob_checksum_expected(backup_path, expected))
		return SOB_CHECKSUM_MISSING;

	fd = open(backup_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SOB_CHECKSUM_ERROR;
	buf = pg_malloc(SOB_BUFSIZE);
	ctx = sob_sha256_begin();
	while ((n = read(fd, buf, SOB_BUFSIZE)) != 0)
	{
		if (n < 0)
		{
			int			save_errno = errno;

			if (save_errno == EINTR && !sob_interrupted)
				continue;
			pg_cryptohash_free(ctx);
			pg_free(buf);
			close(fd);
			errno = save_errno;
			return SOB_CHECKSUM_ERROR;
		}
		sob_sha256_add(ctx, buf, (size_t) n);
	}
	pg_free(buf);
	close(fd);
	sob_sha256_end(ctx, actual_hex);
	return strcmp(actual_hex, expected) == 0 ? SOB_CHECKSUM_OK : SOB_CHECKSUM_MISMATCH;
}

/* A checksum status as list prints it. */
const char *
sob_checksum_status_name(SobChecksumStatus status)
{
	switch (status)
	{
		case SOB_CHECKSUM_OK:
			return "ok";
		case SOB_CHECKSUM_MISMATCH:
			return "MISMATCH";
		case SOB_CHECKSUM_MISSING:
			return "missing";
		case SOB_CHECKSUM_ERROR:
			break;
	}
	return "unreadable";
}
