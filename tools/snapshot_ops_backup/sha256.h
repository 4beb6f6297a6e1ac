/*-------------------------------------------------------------------------
 *
 * sha256.h
 *		SHA-256 (FIPS 180-4) for the backup checksums of snapshot_ops_backup.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/sha256.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_SHA256_H
#define SOB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SOB_SHA256_DIGEST_LENGTH	32
#define SOB_SHA256_HEX_LENGTH		64

typedef struct SobSha256
{
	uint32_t	state[8];
	uint64_t	bitcount;
	unsigned char block[64];
	size_t		blocklen;
} SobSha256;

extern void sob_sha256_init(SobSha256 *ctx);
extern void sob_sha256_update(SobSha256 *ctx, const void *data, size_t len);
extern void sob_sha256_final(SobSha256 *ctx, unsigned char *digest);
extern void sob_sha256_hex(SobSha256 *ctx, char *hex);

#endif							/* SOB_SHA256_H */
