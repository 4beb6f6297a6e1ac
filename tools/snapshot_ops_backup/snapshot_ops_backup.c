/*-------------------------------------------------------------------------
 *
 * snapshot_ops_backup.c
 *		Command line, help and shared helpers of snapshot_ops_backup.
 *
 * snapshot_ops_backup makes, lists, rotates, restores and verifies
 * compressed plain-format pg_dump backups of a database that uses the
 * snapshot_ops extension:
 *
 *	 snapshot_ops_backup backup  [-d CONNINFO] [--dir DIR] [--level N]
 *	 snapshot_ops_backup list    [--dir DIR]
 *	 snapshot_ops_backup rotate  [--dir DIR] [--keep-days N] [--keep-min M]
 *	 snapshot_ops_backup restore --restore-file FILE [-d CONNINFO] [--clean] [--create]
 *	 snapshot_ops_backup verify  [--restore-file FILE] [--dir DIR] [-d CONNINFO]
 *
 * This file parses the command line and dispatches; each command lives in
 * its own file (see snapshot_ops_backup.h).
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/snapshot_ops_backup.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "snapshot_ops_backup.h"

volatile int sob_interrupted = 0;

/*
 * Print an error message, prefixed with the program name.  A trailing
 * newline (libpq's messages have one) is dropped, so that every message
 * ends with exactly one.
 */
void
sob_error(const char *fmt,...)
{
	va_list		ap;
	char		buf[4096];
	size_t		len;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	fprintf(stderr, "%s: error: %s\n", SOB_PROGNAME, buf);
}

/* Print a warning, prefixed with the program name. */
void
sob_warning(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "%s: warning: ", SOB_PROGNAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* malloc that exits on failure: there is nothing sensible to do then. */
void *
sob_malloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "%s: error: out of memory\n", SOB_PROGNAME);
		exit(SOB_EXIT_IO);
	}
	return p;
}

/* strdup that exits on failure. */
char *
sob_strdup(const char *s)
{
	size_t		len = strlen(s) + 1;
	char	   *p = sob_malloc(len);

	memcpy(p, s, len);
	return p;
}

/* sprintf into a malloc'd string. */
char *
sob_psprintf(const char *fmt,...)
{
	va_list		ap;
	int			len;
	char	   *p;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p = sob_malloc((size_t) len + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t) len + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* Wall clock in seconds, for elapsed times. */
double
sob_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1000000.0;
}

/*
 * A size for people: "2.45 MB" as in the report's output (MB = 2^20 bytes),
 * kB below 100 kB.  Returns buf.
 */
char *
sob_size(unsigned long long bytes, char *buf, size_t len)
{
	if (bytes < 100 * 1024)
		snprintf(buf, len, "%.1f kB", bytes / 1024.0);
	else if (bytes < 10ULL * 1024 * 1024 * 1024)
		snprintf(buf, len, "%.2f MB", bytes / (1024.0 * 1024.0));
	else
		snprintf(buf, len, "%.2f GB", bytes / (1024.0 * 1024.0 * 1024.0));
	return buf;
}

/* SIGINT and SIGTERM: finish the current step, clean up, exit. */
static void
sob_handle_signal(int signo)
{
	sob_interrupted = signo;
}

static void
sob_usage(FILE *out)
{
	fprintf(out,
			"%s makes, checks and restores gzip-compressed pg_dump backups of a\n"
			"database that uses the snapshot_ops extension.\n"
			"\n"
			"Usage:\n"
			"  %s backup  [-d CONNINFO] [--dir DIR] [--level N]\n"
			"  %s list    [--dir DIR]\n"
			"  %s rotate  [--dir DIR] [--keep-days N] [--keep-min M]\n"
			"  %s restore --restore-file FILE [-d CONNINFO] [--clean] [--create]\n"
			"  %s verify  [--restore-file FILE] [--dir DIR] [-d CONNINFO] [--no-restore]\n"
			"\n"
			"Commands:\n"
			"  backup    pg_dump (plain SQL) compressed with gzip into\n"
			"            DIR/<db>_backup_YYYYMMDD_HHMMSS.sql.gz, with a .sha256 file\n"
			"  list      backups, newest first, with size, age and checksum status\n"
			"  rotate    remove backups older than N days, keeping at least M and\n"
			"            always the newest backup whose checksum is good\n"
			"  restore   check FILE, then load it with psql in one transaction\n"
			"  verify    check FILE (default: the newest backup in DIR) and\n"
			"            test-restore it into a temporary database\n"
			"\n"
			"Options:\n"
			"  -d, --dbname=CONNINFO   database to back up or restore into (connection\n"
			"                          string or URI; default: libpq's environment)\n"
			"      --dir=DIR           backup directory (default: %s)\n"
			"      --level=N           gzip level 1-9 (default: 6, as gzip)\n"
			"      --keep-days=N       rotate: keep backups younger than N days (default: 30)\n"
			"      --keep-min=M        rotate: never keep fewer than M backups (default: 1)\n"
			"      --restore-file=FILE backup file to restore or verify\n"
			"      --clean             restore: drop the snapshot_ops extension in the\n"
			"                          target first, in the restore's transaction\n"
			"      --create            restore: create the target database first\n"
			"      --no-checksum       restore, verify: accept a backup without .sha256\n"
			"      --no-restore        verify: check checksum and gzip stream only\n"
			"  -V, --version           print the version and exit\n"
			"  -h, --help              print this help and exit\n"
			"\n"
			"Passwords are never put on a command line: use PGPASSWORD, ~/.pgpass or\n"
			"PGPASSFILE (a password inside CONNINFO is passed on through the environment).\n"
			"\n"
			"Exit status:\n"
			"  0  success\n"
			"  1  usage error\n"
			"  2  connection, pg_dump, psql or SQL failure\n"
			"  3  verification failure: checksum, gzip stream or row counts\n"
			"  4  refused: the target database is not empty, or already exists\n"
			"  5  local file error (disk full, permission, missing file)\n"
			"  6  interrupted by a signal\n",
			SOB_PROGNAME, SOB_PROGNAME, SOB_PROGNAME, SOB_PROGNAME, SOB_PROGNAME,
			SOB_PROGNAME, SOB_DEFAULT_DIR);
}

/* Parse an integer option that must lie in [min, max]; false if it does not. */
static bool
sob_parse_int(const char *name, const char *arg, int min, int max, int *result)
{
	char	   *end;
	long		val;

	errno = 0;
	val = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || val < min || val > max)
	{
		sob_error("invalid value \"%s\" for --%s: must be an integer from %d to %d",
				  arg, name, min, max);
		return false;
	}
	*result = (int) val;
	return true;
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"dir", required_argument, NULL, 'D'},
		{"restore-file", required_argument, NULL, 'f'},
		{"keep-days", required_argument, NULL, 'k'},
		{"keep-min", required_argument, NULL, 'm'},
		{"level", required_argument, NULL, 'l'},
		{"clean", no_argument, NULL, 'c'},
		{"create", no_argument, NULL, 'C'},
		{"no-restore", no_argument, NULL, 'n'},
		{"no-checksum", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	SobOptions	opts;
	struct sigaction sa;
	const char *cmd;
	const char *bad = NULL;		/* an option given to the wrong command */
	int			c;

	memset(&opts, 0, sizeof(opts));
	opts.dir = SOB_DEFAULT_DIR;
	opts.keep_days = 30;
	opts.keep_min = 1;
	opts.level = 6;

	if (argc < 2)
	{
		sob_usage(stderr);
		return SOB_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "help") == 0)
	{
		sob_usage(stdout);
		return SOB_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
	{
		printf("%s (snapshot_ops) %s\n", SOB_PROGNAME, SOB_VERSION);
		return SOB_EXIT_OK;
	}

	cmd = argv[1];
	if (strcmp(cmd, "backup") != 0 && strcmp(cmd, "list") != 0 &&
		strcmp(cmd, "rotate") != 0 && strcmp(cmd, "restore") != 0 &&
		strcmp(cmd, "verify") != 0)
	{
		sob_error("unknown command \"%s\"", cmd);
		fprintf(stderr, "Try \"%s --help\" for more information.\n", SOB_PROGNAME);
		return SOB_EXIT_USAGE;
	}
	opts.command = cmd;

	/* options follow the command */
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "d:hV", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				opts.conninfo = optarg;
				if (strcmp(cmd, "list") == 0 || strcmp(cmd, "rotate") == 0)
					bad = "-d";
				break;
			case 'D':
				opts.dir = optarg;
				if (strcmp(cmd, "restore") == 0)
					bad = "--dir";
				break;
			case 'f':
				opts.restore_file = optarg;
				if (strcmp(cmd, "restore") != 0 && strcmp(cmd, "verify") != 0)
					bad = "--restore-file";
				break;
			case 'k':
				if (!sob_parse_int("keep-days", optarg, 0, 100000, &opts.keep_days))
					return SOB_EXIT_USAGE;
				if (strcmp(cmd, "rotate") != 0)
					bad = "--keep-days";
				break;
			case 'm':
				if (!sob_parse_int("keep-min", optarg, 0, 1000000, &opts.keep_min))
					return SOB_EXIT_USAGE;
				if (strcmp(cmd, "rotate") != 0)
					bad = "--keep-min";
				break;
			case 'l':
				if (!sob_parse_int("level", optarg, 1, 9, &opts.level))
					return SOB_EXIT_USAGE;
				if (strcmp(cmd, "backup") != 0)
					bad = "--level";
				break;
			case 'c':
				opts.clean = true;
				if (strcmp(cmd, "restore") != 0)
					bad = "--clean";
				break;
			case 'C':
				opts.create = true;
				if (strcmp(cmd, "restore") != 0)
					bad = "--create";
				break;
			case 'n':
				opts.no_restore = true;
				if (strcmp(cmd, "verify") != 0)
					bad = "--no-restore";
				break;
			case 'N':
				opts.no_checksum = true;
				if (strcmp(cmd, "restore") != 0 && strcmp(cmd, "verify") != 0)
					bad = "--no-checksum";
				break;
			case 'h':
				sob_usage(stdout);
				return SOB_EXIT_OK;
			case 'V':
				printf("%s (snapshot_ops) %s\n", SOB_PROGNAME, SOB_VERSION);
				return SOB_EXIT_OK;
			default:
				fprintf(stderr, "Try \"%s --help\" for more information.\n", SOB_PROGNAME);
				return SOB_EXIT_USAGE;
		}
	}
	if (optind < argc - 1)
	{
		sob_error("too many command-line arguments (first is \"%s\")", argv[optind + 1]);
		return SOB_EXIT_USAGE;
	}
	if (bad)
	{
		sob_error("option %s cannot be used with the %s command", bad, cmd);
		return SOB_EXIT_USAGE;
	}
	if (strcmp(cmd, "restore") == 0 && opts.restore_file == NULL)
	{
		sob_error("restore needs --restore-file");
		return SOB_EXIT_USAGE;
	}
	if (opts.dir[0] == '\0')
	{
		sob_error("--dir must not be empty");
		return SOB_EXIT_USAGE;
	}

	/*
	 * A write to a pipe whose reader (psql) died must fail with EPIPE, not
	 * kill us before we clean up.  SIGINT and SIGTERM set a flag that every
	 * loop checks; no SA_RESTART, so that a blocked read or write returns.
	 */
	signal(SIGPIPE, SIG_IGN);
	/* likewise a file size limit: write() fails with EFBIG, we clean up */
	signal(SIGXFSZ, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);	/* keep stdout and stderr in order */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sob_handle_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (strcmp(cmd, "backup") == 0)
		return sob_cmd_backup(&opts);
	if (strcmp(cmd, "list") == 0)
		return sob_cmd_list(&opts);
	if (strcmp(cmd, "rotate") == 0)
		return sob_cmd_rotate(&opts);
	if (strcmp(cmd, "restore") == 0)
		return sob_cmd_restore(&opts);
	return sob_cmd_verify(&opts);
}
