/*-------------------------------------------------------------------------
 *
 * interrupt.h
 *		SIGINT and SIGTERM in snapshot_ops_backup.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/interrupt.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_INTERRUPT_H
#define SOB_INTERRUPT_H

#include <signal.h>

/* The signal that asked us to stop, or 0. */
extern volatile sig_atomic_t sob_interrupted;

/* How many SIGINTs and SIGTERMs came (a second one asks for haste). */
extern volatile sig_atomic_t sob_interrupt_count;

extern void sob_interrupt_setup(void);

#endif							/* SOB_INTERRUPT_H */
