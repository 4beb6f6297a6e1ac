/*-------------------------------------------------------------------------
 *
 * interrupt.c
 *		SIGINT and SIGTERM in snapshot_ops_backup: finish the current step,
 *		clean up, exit with SOB_EXIT_SIGNAL.
 *
 * The handler only records the signal; every loop of the tool checks
 * sob_interrupted, and so does the wait for a child (pg_programs.c), which
 * then stops the child: psql would otherwise go on for as long as the
 * dump's post-data part takes.  It is installed with sigaction() without SA_RESTART
 * (libpgport's pqsignal() sets SA_RESTART), so that a read or write blocked
 * on pg_dump's or psql's pipe returns EINTR and the loop sees the flag.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/interrupt.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <signal.h>

#include "interrupt.h"

volatile sig_atomic_t sob_interrupted = 0;
volatile sig_atomic_t sob_interrupt_count = 0;

/* SIGINT and SIGTERM: remember which one came, and count them. */
static void
interrupt_handler(int signo)
{
	sob_interrupted = signo;
	sob_interrupt_count++;
}

/*
 * Install the signal dispositions of the tool: SIGINT and SIGTERM set the
 * flag; SIGPIPE and SIGXFSZ are ignored, so that writing to a pipe whose
 * reader (psql) died fails with EPIPE and a write beyond a file size limit
 * fails with EFBIG, and the caller cleans up instead of being killed.
 */
void
sob_interrupt_setup(void)
{
	struct sigaction sa;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = interrupt_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
