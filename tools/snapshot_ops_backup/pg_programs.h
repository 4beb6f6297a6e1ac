/*-------------------------------------------------------------------------
 *
 * pg_programs.h
 *		pg_dump and psql: finding them, checking their version, running
 *		them.
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

extern void sob_programs_init(const char *argv0);
extern bool sob_find_program(const char *program, int server_version, char *path);
extern pid_t sob_spawn(const char *path, const char *const *args,
					   int stdin_fd, int stdout_fd, const char *password);
extern int	sob_pipe(int fds[2], bool keep_read);
extern bool sob_wait_quietly(pid_t pid);
extern bool sob_wait_unless_interrupted(pid_t pid, int *status);
extern bool sob_stop_child(pid_t pid, int signo, int *status);
extern bool sob_child_succeeded(int status);
extern void sob_report_child(const char *program, int status);

#endif							/* SOB_PG_PROGRAMS_H */
