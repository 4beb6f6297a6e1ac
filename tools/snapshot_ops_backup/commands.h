/*-------------------------------------------------------------------------
 *
 * commands.h
 *		The commands of snapshot_ops_backup, one per cmd_*.c file; main()
 *		dispatches to them.  Each returns one of the SOB_EXIT_* codes.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/commands.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_COMMANDS_H
#define SOB_COMMANDS_H

#include "snapshot_ops_backup.h"

extern int	sob_cmd_backup(const SobOptions *opts);
extern int	sob_cmd_list(const SobOptions *opts);
extern int	sob_cmd_rotate(const SobOptions *opts);
extern int	sob_cmd_restore(const SobOptions *opts);
extern int	sob_cmd_verify(const SobOptions *opts);

#endif							/* SOB_COMMANDS_H */
