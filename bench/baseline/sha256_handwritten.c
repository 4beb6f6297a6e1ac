/*-------------------------------------------------------------------------
 *
 * sha256_handwritten.c
 *		The hand-written SHA-256 that snapshot_ops_backup 1.0 carried
 *		(tools/sha256.c and sha256.h as of commit c02994e, unchanged), with a
 *		main() that hashes one file the way the tool read backups: 256 kB
 *		read() calls.
 *
 * It is no part of the tool any more, which hashes through PostgreSQL's
 * pg_cryptohash (OpenSSL's EVP).  bench/backup_bench.sh compiles it with
 * -O2 and measures it against "snapshot_ops_backup list" on the same file:
 * the baseline of the hashing figure.
 *
 *	 sha256_handwritten FILE		prints "<sha256>  FILE", as sha256sum does
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  bench/baseline/sha256_handwritten.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOB_SHA256_DIGEST_LENGTH	32
#define SOB_SHA256_HEX_LENGTH		64

typedef struct SobSha256
{
	uint32_t	state[8];
	uint64_t	bitcount;
	unsigned char block[64];
	size_t		blocklen;
} SobSha256;

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROTR(x, n)	(((x) >> (n)) | ((x) << (32 - (n))))

/* Process one 64-byte block. */
static void
sha256_block(SobSha256 *ctx, const unsigned char *p)
{
	uint32_t	w[64];
	uint32_t	a,
				b,
				c,
				d,
				e,
				f,
				g,
				h;
	int			i;

	for (i = 0; i < 16; i++)
		w[i] = ((uint32_t) p[i * 4] << 24) | ((uint32_t) p[i * 4 + 1] << 16) |
			((uint32_t) p[i * 4 + 2] << 8) | (uint32_t) p[i * 4 + 3];
	for (i = 16; i < 64; i++)
	{
		uint32_t	s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t	s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}

	a = ctx->state[0];
	b = ctx->state[1];
	c = ctx->state[2];
	d = ctx->state[3];
	e = ctx->state[4];
	f = ctx->state[5];
	g = ctx->state[6];
	h = ctx->state[7];

	for (i = 0; i < 64; i++)
	{
		uint32_t	S1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
		uint32_t	ch = (e & f) ^ (~e & g);
		uint32_t	t1 = h + S1 + ch + sha256_k[i] + w[i];
		uint32_t	S0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
		uint32_t	maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t	t2 = S0 + maj;

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}

	ctx->state[0] += a;
	ctx->state[1] += b;
	ctx->state[2] += c;
	ctx->state[3] += d;
	ctx->state[4] += e;
	ctx->state[5] += f;
	ctx->state[6] += g;
	ctx->state[7] += h;
}

/* Start a new digest. */
static void
sob_sha256_init(SobSha256 *ctx)
{
	static const uint32_t init[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};

	memcpy(ctx->state, init, sizeof(init));
	ctx->bitcount = 0;
	ctx->blocklen = 0;
}

/* Add len bytes to the digest. */
static void
sob_sha256_update(SobSha256 *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;

	ctx->bitcount += (uint64_t) len * 8;

	if (ctx->blocklen > 0)
	{
		size_t		n = 64 - ctx->blocklen;

		if (n > len)
			n = len;
		memcpy(ctx->block + ctx->blocklen, p, n);
		ctx->blocklen += n;
		p += n;
		len -= n;
		if (ctx->blocklen < 64)
			return;
		sha256_block(ctx, ctx->block);
		ctx->blocklen = 0;
	}
	while (len >= 64)
	{
		sha256_block(ctx, p);
		p += 64;
		len -= 64;
	}
	if (len > 0)
	{
		memcpy(ctx->block, p, len);
		ctx->blocklen = len;
	}
}

/* Finish the digest into 32 bytes. */
static void
sob_sha256_final(SobSha256 *ctx, unsigned char *digest)
{
	uint64_t	bits = ctx->bitcount;
	unsigned char pad = 0x80;
	unsigned char zero = 0;
	unsigned char len[8];
	int			i;

	sob_sha256_update(ctx, &pad, 1);
	while (ctx->blocklen != 56)
		sob_sha256_update(ctx, &zero, 1);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char) (bits >> (56 - 8 * i));
	sob_sha256_update(ctx, len, 8);

	for (i = 0; i < 8; i++)
	{
		digest[i * 4] = (unsigned char) (ctx->state[i] >> 24);
		digest[i * 4 + 1] = (unsigned char) (ctx->state[i] >> 16);
		digest[i * 4 + 2] = (unsigned char) (ctx->state[i] >> 8);
		digest[i * 4 + 3] = (unsigned char) ctx->state[i];
	}
}

/* Finish the digest as 64 lower-case hex digits plus a terminating zero. */
static void
sob_sha256_hex(SobSha256 *ctx, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char digest[SOB_SHA256_DIGEST_LENGTH];
	int			i;

	sob_sha256_final(ctx, digest);
	for (i = 0; i < SOB_SHA256_DIGEST_LENGTH; i++)
	{
		hex[i * 2] = digits[digest[i] >> 4];
		hex[i * 2 + 1] = digits[digest[i] & 0x0f];
	}
	hex[SOB_SHA256_HEX_LENGTH] = '\0';
}

/* Hash the file named on the command line and print its SHA-256. */
int
main(int argc, char **argv)
{
	static unsigned char buf[256 * 1024];
	char		hex[SOB_SHA256_HEX_LENGTH + 1];
	SobSha256	ctx;
	ssize_t		n;
	int			fd;

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 1;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
	{
		fprintf(stderr, "%s: could not open \"%s\": %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	sob_sha256_init(&ctx);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sob_sha256_update(&ctx, buf, (size_t) n);
	if (n < 0)
	{
		fprintf(stderr, "%s: could not read \"%s\": %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	sob_sha256_hex(&ctx, hex);
	printf("%s  %s\n", hex, argv[1]);
	return 0;
}
