/*-------------------------------------------------------------------------
 *
 * checksum.h
 *		SHA-256 of backups and their .sha256 files.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/checksum.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_CHECKSUM_H
#define SOB_CHECKSUM_H

#include "common/cryptohash.h"
#include "common/sha2.h"

/* A SHA-256 in hex, without the terminating zero byte */
#define SOB_SHA256_HEX_LEN	(PG_SHA256_DIGEST_LENGTH * 2)

/* What comparing a backup with its checksum file found. */
typedef enum SobChecksumStatus
{
	SOB_CHECKSUM_OK,
	SOB_CHECKSUM_MISMATCH,
	SOB_CHECKSUM_MISSING,		/* no .sha256 file, or it holds no SHA-256 */
	SOB_CHECKSUM_ERROR			/* the backup itself could not be read */
} SobChecksumStatus;

/* A running SHA-256 */
extern pg_cryptohash_ctx *sob_sha256_begin(void);
extern void sob_sha256_add(pg_cryptohash_ctx *ctx, const void *data, size_t len);
extern void sob_sha256_end(pg_cryptohash_ctx *ctx, char *hex);

/* Checksum files */
extern char *sob_checksum_path(const char *backup_path);
extern char *sob_checksum_line(const char *hex, const char *backup_name);
extern bool sob_checksum_expected(const char *backup_path, char *hex);
extern SobChecksumStatus sob_checksum_file(const char *backup_path, char *actual_hex);
extern const char *sob_checksum_status_name(SobChecksumStatus status);

#endif							/* SOB_CHECKSUM_H */
