/*-------------------------------------------------------------------------
 *
 * compat.h
 *		The PostgreSQL-version-specific calls of snapshot_ops, in one place.
 *
 * snapshot_ops is built and tested against PostgreSQL 15 only, so only 15
 * is claimed.  Every call whose name or signature differs between major
 * versions goes through this header; a port to another major version
 * starts (and should end) here.  Known differences, for the porter:
 *
 *	- InitMaterializedSRF(): new in 15 (SetSingleFuncCall() in 14).
 *	- MarkGUCPrefixReserved(): new in 15 (EmitWarningsOnPlaceholders() before).
 *	- shmem_request_hook: required from 15 for RequestAddinShmemSpace().
 *	- pg_analyze_and_rewrite_fixedparams(): new in 15; the worker runs
 *	  VACUUM through it and a portal, so vacuum()'s own signature (changed
 *	  in 16) is never called directly.
 *	- get_extension_schema(): static in 15, exported from 16.
 *	- pg_database_ownercheck(): object_ownercheck() from 16.
 *	- SPI_commit() starts the next transaction itself from 15
 *	  (SPI_start_transaction() before).
 *	- DecodeInterval() takes a struct pg_itm_in from 15.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SNAPSHOT_OPS_COMPAT_H
#define SNAPSHOT_OPS_COMPAT_H

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 160000
#error "snapshot_ops is built and tested with PostgreSQL 15 only; a port to another major version starts in src/compat.h"
#endif

#include "funcapi.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/guc.h"

/* Set-returning functions: a tuplestore in rsinfo, materialize mode. */
#define so_init_materialized_srf(fcinfo, flags) \
	InitMaterializedSRF((fcinfo), (flags))

/* Placeholders of snapshot_ops.* that no GUC defines are refused. */
#define so_mark_guc_prefix_reserved(prefix) \
	MarkGUCPrefixReserved(prefix)

/* Parse analysis of one raw statement without parameters. */
#define so_analyze_and_rewrite(raw, sql) \
	pg_analyze_and_rewrite_fixedparams((raw), (sql), NULL, 0, NULL)

/* Does roleid own (or have the privileges of the owner of) a database? */
#define so_database_ownercheck(dboid, roleid) \
	pg_database_ownercheck((dboid), (roleid))

#endif							/* SNAPSHOT_OPS_COMPAT_H */
