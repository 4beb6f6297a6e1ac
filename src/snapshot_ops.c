/*-------------------------------------------------------------------------
 *
 * snapshot_ops.c
 *		Module entry point of the snapshot_ops extension.
 *
 * Defines the extension's configuration parameters and, when loaded through
 * shared_preload_libraries, registers the shared memory and the background
 * worker launcher that run scheduled retention and VACUUM.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  src/snapshot_ops.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Module load: define the GUCs in every backend that loads the library.
 */
void
_PG_init(void)
{
	so_guc_init();
}
