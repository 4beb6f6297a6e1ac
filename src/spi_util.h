/*-------------------------------------------------------------------------
 *
 * spi_util.h
 *		The extension's schema, SPI plans kept across calls, and clipping of
 *		caller-supplied values quoted in messages.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/spi_util.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_SPI_UTIL_H
#define SNAPSHOT_OPS_SPI_UTIL_H

#include "executor/spi.h"

/*
 * A plan prepared once per backend and kept (SPI_keepplan).  The SQL is
 * built for one schema; the plan is prepared again when the extension's
 * schema changes (DROP and CREATE EXTENSION ... SCHEMA other).
 */
typedef struct SoKeptPlan
{
	SPIPlanPtr	plan;
	Oid			nspid;			/* schema the plan was built for */
} SoKeptPlan;

/* Builds the SQL text of a plan for the given (quoted) schema name. */
typedef char *(*SoSqlBuilder) (const char *qschema);

/*
 * The same for a family of plans that differ in one more value (which of
 * the tables a statement works on, say): build(qschema, arg).
 */
typedef char *(*SoSqlBuilderArg) (const char *qschema, int arg);

/* OID of the schema of extension snapshot_ops; ERROR if it is not installed. */
extern Oid	so_extension_schema(void);

/* quote_identifier()'d name of a schema. */
extern char *so_quoted_schema(Oid nspid);

/*
 * The kept plan of *kp for schema nspid, prepared with build() first if
 * needed.  Call while connected to SPI.
 */
extern SPIPlanPtr so_kept_plan(SoKeptPlan *kp, Oid nspid, SoSqlBuilder build,
							   int nargs, Oid *argtypes);

/* The same, with SQL from build(qschema, arg); one SoKeptPlan per arg. */
extern SPIPlanPtr so_kept_plan_arg(SoKeptPlan *kp, Oid nspid,
								   SoSqlBuilderArg build, int arg,
								   int nargs, Oid *argtypes);

/* Execute a kept plan; elog(ERROR) unless SPI returns expected_rc. */
extern void so_execute_plan(SPIPlanPtr plan, Datum *values, const char *nulls,
							bool read_only, long count, int expected_rc);

/*
 * At most SO_MSG_CLIP_BYTES of a caller-supplied string, cut at a character
 * boundary and marked with "..." when cut: what an error message quotes of a
 * value that may be megabytes long.  len < 0 means NUL-terminated.
 */
#define SO_MSG_CLIP_BYTES 64
extern char *so_clip(const char *s, int len);

/* How many of the len bytes of s so_clip() keeps. */
extern int	so_clip_len(const char *s, int len);

#endif							/* SNAPSHOT_OPS_SPI_UTIL_H */
