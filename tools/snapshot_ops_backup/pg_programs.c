/*-------------------------------------------------------------------------
 *
 * pg_programs.c
 *		Run pg_dump and psql as child processes, without a shell.
 *
 * The programs are looked up next to the server binaries of the PostgreSQL
 * the tool was built against (pg_config --bindir, compiled in as
 * SOB_PGBINDIR), so that pg_dump's major version matches the server's; if
 * they are not there, PATH is searched.  Arguments are passed as a vector to
 * execv(), so nothing is ever interpreted by a shell, and a password given
 * in the connection string is handed over in the environment (PGPASSWORD of
 * the child only), never on a command line where ps(1) would show it.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/pg_programs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/logging.h"

#include "pg_programs.h"
#include "snapshot_ops_backup.h"

#ifndef SOB_PGBINDIR
#define SOB_PGBINDIR ""
#endif

/*
 * The path to run program from: SOB_PGBINDIR/program when that is
 * executable, else the bare name, to be searched in PATH by execvp().
 * The environment variable SNAPSHOT_OPS_PG_BINDIR overrides the compiled-in
 * directory.
 */
const char *
sob_program_path(const char *program)
{
	static char path[MAXPGPATH];
	const char *bindir = getenv("SNAPSHOT_OPS_PG_BINDIR");

	if (bindir == NULL || bindir[0] == '\0')
		bindir = SOB_PGBINDIR;
	if (bindir[0] != '\0' &&
		snprintf(path, sizeof(path), "%s/%s", bindir, program) < (int) sizeof(path) &&
		access(path, X_OK) == 0)
		return path;
	return program;
}

/*
 * Start program with args (args[0] is the program name, the vector ends
 * with NULL).  stdin_fd and stdout_fd, if not -1, become the child's
 * standard input and output; stderr is shared, so the child's messages
 * reach the user directly.  password, if not NULL, is put into the child's
 * PGPASSWORD.  Returns the pid, or -1 if fork failed.
 */
pid_t
sob_spawn(const char *program, const char *const *args, int stdin_fd,
		  int stdout_fd, const char *password)
{
	const char *path = sob_program_path(program);
	pid_t		pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
	{
		pg_log_error("could not start %s: %m", program);
		return -1;
	}
	if (pid > 0)
		return pid;

	/* child */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (stdin_fd >= 0 && stdin_fd != STDIN_FILENO)
	{
		if (dup2(stdin_fd, STDIN_FILENO) < 0)
			_exit(127);
		close(stdin_fd);
	}
	if (stdout_fd >= 0 && stdout_fd != STDOUT_FILENO)
	{
		if (dup2(stdout_fd, STDOUT_FILENO) < 0)
			_exit(127);
		close(stdout_fd);
	}
	if (password != NULL && setenv("PGPASSWORD", password, 1) != 0)
		_exit(127);

	if (strchr(path, '/') != NULL)
		execv(path, (char *const *) args);
	else
		execvp(path, (char *const *) args);
	pg_log_error("could not execute \"%s\": %m", path);
	_exit(127);
}

/*
 * Create a pipe to or from a child.  The end this process keeps
 * (keep_read: the read end) is close-on-exec, so that the child does not
 * hold it open.  On Linux the pipe is enlarged to 1 MB, so that the two
 * processes are less often blocked on each other on a busy machine.
 * Returns 0, or -1 with errno set.
 */
int
sob_pipe(int fds[2], bool keep_read)
{
	if (pipe(fds) < 0)
		return -1;
	(void) fcntl(fds[keep_read ? 0 : 1], F_SETFD, FD_CLOEXEC);
#ifdef F_SETPIPE_SZ
	(void) fcntl(fds[0], F_SETPIPE_SZ, 1024 * 1024);
#endif
	return 0;
}

/*
 * Wait for a child and tell how it ended.  Returns 0 if it exited with
 * status 0, else -1 after printing what happened.
 */
int
sob_wait(pid_t pid, const char *program)
{
	int			status;

	while (waitpid(pid, &status, 0) < 0)
	{
		if (errno != EINTR)
		{
			pg_log_error("could not wait for %s: %m", program);
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* the form the tests and scripts know for the common case; else libpgcommon's */
	if (WIFEXITED(status) && WEXITSTATUS(status) != 127)
		pg_log_error("%s failed with exit status %d", program, WEXITSTATUS(status));
	else
		pg_log_error("%s failed: %s", program, wait_result_to_str(status));
	return -1;
}
