/*-------------------------------------------------------------------------
 *
 * snapshot_ops_backup.c
 *		Command line, help and dispatch of snapshot_ops_backup.
 *
 * snapshot_ops_backup makes, lists, rotates, restores and verifies
 * compressed plain-format pg_dump backups of a database that uses the
 * snapshot_ops extension:
 *
 *	 snapshot_ops_backup backup  [-d CONNINFO] [--dir DIR] [--level N]
 *	 snapshot_ops_backup list    [--dir DIR]
 *	 snapshot_ops_backup rotate  [--dir DIR] [--keep-days N] [--keep-min M]
 *	 snapshot_ops_backup restore --restore-file FILE [-d CONNINFO] [--clean] [--create]
 *	 snapshot_ops_backup verify  [--restore-file FILE | --backup-of DBNAME] [--dir DIR] [-d CONNINFO]
 *
 * This file parses the command line and dispatches; each command lives in
 * its own cmd_*.c file, and snapshot_ops_backup.h lists every part.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/snapshot_ops_backup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <getopt.h>
#include <sys/stat.h>

#include "common/logging.h"

#include "commands.h"
#include "interrupt.h"
#include "pg_programs.h"
#include "snapshot_ops_backup.h"

/* Print --help to out. */
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
			"  %s verify  [--restore-file FILE | --backup-of DBNAME] [--dir DIR]\n"
			"                              [-d CONNINFO] [--no-restore]\n"
			"\n"
			"Commands:\n"
			"  backup    pg_dump (plain SQL) compressed with gzip into\n"
			"            DIR/<db>_backup_YYYYMMDD_HHMMSS.sql.gz, with a .sha256 file\n"
			"  list      backups by database, newest first, with size, age and\n"
			"            checksum status\n"
			"  rotate    remove backups older than N days, keeping for each database\n"
			"            at least M and always its newest backup whose checksum is good\n"
			"  restore   load FILE with psql in one transaction, reading it once;\n"
			"            it commits only if FILE matches its checksum and is intact\n"
			"  verify    check FILE (default: the newest backup in DIR, of any database\n"
			"            or of DBNAME) and test-restore it into a temporary database\n"
			"\n"
			"list, rotate and verify take a backup's database from the name recorded\n"
			"in its gzip header, or, in a backup of an earlier version that records\n"
			"none, from the <db> part of its file name.  There, characters other\n"
			"than letters, digits, _, - and . become _, so \"a b\" and \"a_b\" share a\n"
			"file name prefix, and only the recorded names tell their backups apart.\n"
			"\n"
			"Options:\n"
			"  -d, --dbname=CONNINFO   database to back up or restore into (connection\n"
			"                          string or URI; default: libpq's environment)\n"
			"      --dir=DIR           backup directory (default: %s)\n"
			"      --level=N           gzip level 1-9 (default: 6, as gzip)\n"
			"      --keep-days=N       rotate: keep backups younger than N days (default: 30)\n"
			"      --keep-min=M        rotate: never keep fewer than M backups of a\n"
			"                          database (default: 1)\n"
			"      --restore-file=FILE backup file to restore or verify\n"
			"      --backup-of=DBNAME  verify: the newest backup of database DBNAME\n"
			"      --clean             restore: drop the snapshot_ops extension in the\n"
			"                          target first, and its schema if that is one of its\n"
			"                          own, in the restore's transaction\n"
			"      --create            restore: create the target database first\n"
			"      --no-checksum       restore, verify: do not check the .sha256 file (missing,\n"
			"                          stale or damaged); the gzip check remains\n"
			"      --no-restore        verify: check checksum and gzip stream only\n"
			"  -V, --version           print the version and exit\n"
			"  -h, --help              print this help and exit\n"
			"\n"
			"pg_dump and psql never get a password on their command lines: a password\n"
			"inside CONNINFO reaches them through the environment.  It is on this\n"
			"program's own command line, though, which other local users can read (ps,\n"
			"/proc): keep passwords in ~/.pgpass or a PGPASSFILE, or use a service file\n"
			"(-d service=NAME), instead.\n"
			"\n"
			"Exit status:\n"
			"  0  success\n"
			"  1  usage error\n"
			"  2  connection, pg_dump, psql or SQL failure\n"
			"  3  verification failure: checksum, gzip stream or row counts\n"
			"  4  refused: the target database is not empty, or already exists, or\n"
			"     (--clean) the extension's schema holds other objects\n"
			"  5  local file error (disk full, permission, missing file)\n"
			"  6  interrupted by a signal\n",
			SOB_PROGNAME, SOB_PROGNAME, SOB_PROGNAME, SOB_PROGNAME, SOB_PROGNAME,
			SOB_PROGNAME, SOB_DEFAULT_DIR);
}

/*
 * Parse an integer option that must lie in [min, max]; false, after
 * printing why, if it does not.
 */
static bool
sob_parse_int(const char *name, const char *arg, int min, int max, int *result)
{
	char	   *end;
	long		val;

	errno = 0;
	val = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || val < min || val > max)
	{
		pg_log_error("invalid value \"%s\" for --%s: must be an integer from %d to %d",
					 arg, name, min, max);
		return false;
	}
	*result = (int) val;
	return true;
}

/* Parse the command line, set up the process, run the command. */
int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"dir", required_argument, NULL, 'D'},
		{"restore-file", required_argument, NULL, 'f'},
		{"backup-of", required_argument, NULL, 'b'},
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
	const char *cmd;
	const char *bad = NULL;		/* an option given to the wrong command */
	int			c;

	pg_logging_init(argv[0]);
	sob_programs_init(argv[0]);
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
		pg_log_error("unknown command \"%s\"", cmd);
		pg_log_error_hint("Try \"%s --help\" for more information.", SOB_PROGNAME);
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
			case 'b':
				opts.backup_of = optarg;
				if (strcmp(cmd, "verify") != 0)
					bad = "--backup-of";
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
				pg_log_error_hint("Try \"%s --help\" for more information.", SOB_PROGNAME);
				return SOB_EXIT_USAGE;
		}
	}
	if (optind < argc - 1)
	{
		pg_log_error("too many command-line arguments (first is \"%s\")", argv[optind + 1]);
		return SOB_EXIT_USAGE;
	}
	if (bad)
	{
		pg_log_error("option %s cannot be used with the %s command", bad, cmd);
		return SOB_EXIT_USAGE;
	}
	if (strcmp(cmd, "restore") == 0 && opts.restore_file == NULL)
	{
		pg_log_error("restore needs --restore-file");
		return SOB_EXIT_USAGE;
	}
	if (opts.backup_of && opts.restore_file)
	{
		pg_log_error("options --backup-of and --restore-file cannot be used together");
		return SOB_EXIT_USAGE;
	}
	if (opts.dir[0] == '\0')
	{
		pg_log_error("--dir must not be empty");
		return SOB_EXIT_USAGE;
	}

	sob_interrupt_setup();
	setvbuf(stdout, NULL, _IOLBF, 0);	/* keep stdout and stderr in order */
	/* backups, checksum files and new directories are the owner's alone */
	umask(S_IRWXG | S_IRWXO);

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
