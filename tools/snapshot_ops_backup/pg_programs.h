/*-------------------------------------------------------------------------
 *
 * pg_programs.h
 *		Running pg_dump and psql from snapshot_ops_backup.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/pg_programs.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SOB_PG_PROGRAMS_H
#define SOB_PG_PROGRAMS_H

#include <sys/types.h>

extern const char *sob_program_path(const char *program);
extern pid_t sob_spawn(const char *program, const char *const *args,
					   int stdin_fd, int stdout_fd, const char *password);
extern int	sob_pipe(int fds[2], bool keep_read);
extern int	sob_wait(pid_t pid, const char *program);

#endif							/* SOB_PG_PROGRAMS_H */
