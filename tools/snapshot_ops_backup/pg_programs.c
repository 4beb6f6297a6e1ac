/*-------------------------------------------------------------------------
 *
 * pg_programs.c
 *		pg_dump and psql: finding them, checking that their version fits
 *		the server, and running them as child processes without a shell.
 *
 * The programs are looked for as PostgreSQL's own programs look for each
 * other (pg_dumpall for pg_dump, pg_upgrade for the new cluster's
 * binaries): in the directory of the tool's own executable, found with
 * find_my_exec(); an installed tool sits in the bindir of its PostgreSQL.
 * A tool run from elsewhere (its build directory) falls back to the bindir
 * it was built for (pg_config --bindir, compiled in as SOB_PGBINDIR), and
 * the environment variable SNAPSHOT_OPS_PG_BINDIR names a directory
 * explicitly.  PATH is not searched.
 *
 * A program fits the server when its major version is at least the
 * server's: pg_dump refuses to dump a newer server, and a psql older than
 * the server may not understand the dump of a newer pg_dump.  A newer minor
 * release, or a newer major one, is fine.  find_other_exec() is not used
 * for this: it accepts only the exact version string of the build ("pg_dump
 * (PostgreSQL) 15.20"), which every minor update of the PostgreSQL packages
 * would break until the extension is rebuilt, and it runs "pg_dump -V"
 * through popen(), i.e. a shell.  Its parts are used instead:
 * find_my_exec(), validate_exec(), and the path functions of libpgport.
 *
 * Every child, "-V" included, gets an argument vector through execv(), so
 * nothing is ever interpreted by a shell, and a password given in the
 * connection string is handed over in the environment (PGPASSWORD of the
 * child only), never on a command line where ps(1) would show it.
 *
 * A child that the tool waits for while a signal may come is waited for as
 * pg_ctl waits for the postmaster: waitpid(WNOHANG), then a short sleep,
 * which a signal cuts short.  When SIGINT or SIGTERM comes, the caller
 * stops the child with sob_stop_child(): a signal of the caller's choice
 * first (SIGINT makes psql cancel the statement its server runs and roll
 * back), then, if the child has not exited after SOB_STOP_GRACE_MS or when
 * another SIGINT or SIGTERM comes, SIGKILL.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/pg_programs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/logging.h"
#include "portability/instr_time.h"

#include "interrupt.h"
#include "pg_programs.h"
#include "snapshot_ops_backup.h"

#ifndef SOB_PGBINDIR
#define SOB_PGBINDIR ""
#endif

/* How often a waiting tool looks at its child, and how long a stop takes */
#define PROG_POLL_MS		100
#define SOB_STOP_GRACE_MS	10000

/* The wait status of a child that cannot be waited for: exit status 127 */
#define PROG_LOST_STATUS	(127 << 8)

/* The directory of our own executable, or "" if it cannot be found. */
static char prog_my_dir[MAXPGPATH];

/*
 * Remember the directory of our own executable, where pg_dump and psql are
 * looked for first.  argv0 is main()'s argv[0].
 */
void
sob_programs_init(const char *argv0)
{
	if (find_my_exec(argv0, prog_my_dir) < 0)
	{
		prog_my_dir[0] = '\0';
		return;
	}
	get_parent_directory(prog_my_dir);
}

/*
 * Read the first line "path -V" prints into line.  Returns false if the
 * program could not be run or printed nothing.
 */
static bool
prog_version_line(const char *path, const char *program, char *line, size_t size)
{
	const char *args[3] = {program, "-V", NULL};
	size_t		len = 0;
	int			fds[2];
	pid_t		pid;
	char	   *nl;

	if (sob_pipe(fds, true) < 0)
	{
		pg_log_error("could not create pipe: %m");
		return false;
	}
	pid = sob_spawn(path, args, -1, fds[1], NULL);
	close(fds[1]);
	if (pid < 0)
	{
		close(fds[0]);
		return false;
	}
	while (len < size - 1)
	{
		ssize_t		n = read(fds[0], line + len, size - 1 - len);

		if (n < 0 && errno == EINTR && !sob_interrupted)
			continue;
		if (n <= 0)
			break;
		len += (size_t) n;
	}
	close(fds[0]);
	line[len] = '\0';
	if (!sob_wait_quietly(pid))
		return false;
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	return len > 0;
}

/*
 * The major version in "<program> (PostgreSQL) 15.20 (Debian ...)", or -1
 * if line is not what a PostgreSQL program prints for -V.
 */
static int
prog_major_version(const char *line, const char *program)
{
	char	   *expected = psprintf("%s (PostgreSQL) ", program);
	size_t		len = strlen(expected);
	int			major = -1;

	if (strncmp(line, expected, len) == 0 && isdigit((unsigned char) line[len]))
		major = atoi(line + len);
	pg_free(expected);
	return major;
}

/*
 * Find program (see the file header) and check that it fits a server of
 * version server_version (PQserverVersion()).  path (MAXPGPATH bytes)
 * receives where it is.  Returns false after printing why it cannot be
 * used.
 */
bool
sob_find_program(const char *program, int server_version, char *path)
{
	const char *env = getenv("SNAPSHOT_OPS_PG_BINDIR");
	const char *dirs[2];
	char		line[MAXPGPATH];
	int			ndirs = 0;
	int			server_major = server_version / 10000;
	int			major;
	int			i;

	if (env != NULL && env[0] != '\0')
		dirs[ndirs++] = env;
	else
	{
		if (prog_my_dir[0] != '\0')
			dirs[ndirs++] = prog_my_dir;
		if (SOB_PGBINDIR[0] != '\0' && strcmp(SOB_PGBINDIR, prog_my_dir) != 0)
			dirs[ndirs++] = SOB_PGBINDIR;
	}
	for (i = 0; i < ndirs; i++)
	{
		join_path_components(path, dirs[i], program);
		if (validate_exec(path) == 0)
			break;
	}
	if (i == ndirs)
	{
		if (ndirs == 0)
			pg_log_error("program \"%s\" is needed by %s but no directory to look for it is known",
						 program, SOB_PROGNAME);
		else if (ndirs == 1)
			pg_log_error("program \"%s\" is needed by %s but was not found in \"%s\"",
						 program, SOB_PROGNAME, dirs[0]);
		else
			pg_log_error("program \"%s\" is needed by %s but was not found in \"%s\" nor in \"%s\"",
						 program, SOB_PROGNAME, dirs[0], dirs[1]);
		pg_log_error_hint("Set SNAPSHOT_OPS_PG_BINDIR to the directory of PostgreSQL's programs.");
		return false;
	}

	if (!prog_version_line(path, program, line, sizeof(line)) ||
		(major = prog_major_version(line, program)) < 0)
	{
		pg_log_error("\"%s\" is not a usable %s: its -V printed no PostgreSQL version",
					 path, program);
		return false;
	}
	if (major < server_major)
	{
		pg_log_error("%s at \"%s\" is too old for the server: %s, server major version %d",
					 program, path, line, server_major);
		pg_log_error_hint("Use a %s of major version %d or later; SNAPSHOT_OPS_PG_BINDIR names its directory.",
						  program, server_major);
		return false;
	}
	return true;
}

/*
 * Start the program at path with args (args[0] is the program's name, the
 * vector ends with NULL).  stdin_fd and stdout_fd, if not -1, become the
 * child's standard input and output; stderr is shared, so the child's
 * messages reach the user directly.  password, if not NULL, is put into
 * the child's PGPASSWORD.  Returns the pid, or -1 after printing why fork
 * failed.
 */
pid_t
sob_spawn(const char *path, const char *const *args, int stdin_fd,
		  int stdout_fd, const char *password)
{
	pid_t		pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
	{
		pg_log_error("could not start %s: %m", args[0]);
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

	execv(path, (char *const *) args);
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

/* waitpid() through signals; returns 0, or -1 with errno set. */
static int
prog_waitpid(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
	{
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* Did a child that ended with wait status status succeed (exit status 0)? */
bool
sob_child_succeeded(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Print how program, which ended with wait status status, failed. */
void
sob_report_child(const char *program, int status)
{
	/* the form the tests and scripts know for the common case; else libpgcommon's */
	if (WIFEXITED(status) && WEXITSTATUS(status) != 127)
		pg_log_error("%s failed with exit status %d", program, WEXITSTATUS(status));
	else
		pg_log_error("%s failed: %s", program, wait_result_to_str(status));
}

/* Wait for a child; true if it exited with status 0.  Prints nothing. */
bool
sob_wait_quietly(pid_t pid)
{
	int			status;

	return prog_waitpid(pid, &status) == 0 && sob_child_succeeded(status);
}

/*
 * Wait for a child until it exits, until more than count SIGINTs and
 * SIGTERMs have come (count < 0: do not watch for them) or until timeout_ms
 * have passed (-1: no limit).  Returns true, with *status set, once the
 * child has exited.  A child that cannot be waited for (it is not ours,
 * which cannot happen) counts as failed, PROG_LOST_STATUS.
 */
static bool
prog_wait_until(pid_t pid, int *status, int count, long timeout_ms)
{
	instr_time	start;
	instr_time	now;

	INSTR_TIME_SET_CURRENT(start);
	for (;;)
	{
		pid_t		rc = waitpid(pid, status, WNOHANG);

		if (rc == pid)
			return true;
		if (rc < 0 && errno != EINTR)
		{
			*status = PROG_LOST_STATUS;
			return true;
		}
		if (count >= 0 && sob_interrupt_count > count)
			return false;
		INSTR_TIME_SET_CURRENT(now);
		INSTR_TIME_SUBTRACT(now, start);
		if (timeout_ms >= 0 && INSTR_TIME_GET_MILLISEC(now) >= timeout_ms)
			return false;
		/* a signal cuts the sleep short */
		pg_usleep(PROG_POLL_MS * 1000L);
	}
}

/*
 * Wait for a child unless SIGINT or SIGTERM came or comes first.  Returns
 * true, with *status set, if the child exited; false if the tool was asked
 * to stop while the child still runs (see sob_stop_child()).
 */
bool
sob_wait_unless_interrupted(pid_t pid, int *status)
{
	if (sob_interrupted)
	{
		/* it may have exited already, on the same Ctrl-C */
		return waitpid(pid, status, WNOHANG) == pid;
	}
	return prog_wait_until(pid, status, 0, -1);
}

/*
 * Stop a child: send it signo, give it SOB_STOP_GRACE_MS to exit, and kill
 * it with SIGKILL if it has not, or at once when another SIGINT or SIGTERM
 * comes meanwhile.  *status receives how it ended.  Returns whether it had
 * to be killed with SIGKILL.  Prints nothing: the caller knows why it
 * stopped the child, and that the child's end is no error of its own.
 */
bool
sob_stop_child(pid_t pid, int signo, int *status)
{
	int			count = sob_interrupt_count;

	(void) kill(pid, signo);
	if (signo == SIGKILL || !prog_wait_until(pid, status, count, SOB_STOP_GRACE_MS))
	{
		(void) kill(pid, SIGKILL);
		if (prog_waitpid(pid, status) < 0)
			*status = PROG_LOST_STATUS;
	}
	return WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL;
}
