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

#include "dbhook.h"
#include "guc.h"
#include "launcher.h"
#include "shmem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Module load: define the GUCs in every backend that loads the library.
 * Loaded through shared_preload_libraries, also reserve the shared memory,
 * register the launcher of the background workers and the hook that keeps
 * them from blocking DROP DATABASE.
 */
void
_PG_init(void)
{
	so_guc_init();

	if (!process_shared_preload_libraries_in_progress)
		return;

	so_shmem_init();
	so_launcher_register();
	so_dbhook_init();
}
