/*-------------------------------------------------------------------------
 *
 * backup_dir.c
 *		The backup directory of snapshot_ops_backup: backup and temporary
 *		file names, scanning, and the write lock of a running backup.
 *
 * A backup is a file named <prefix>_backup_YYYYMMDD_HHMMSS.sql.gz with a
 * checksum file <name>.sha256 beside it (checksum.c).  The prefix is the
 * database's name with every character other than a letter, a digit, "_",
 * "-" and "." replaced by "_" (sob_file_prefix()), so two databases can
 * share one ("a b" and "a_b").  The name itself is therefore also recorded
 * in the comment of the backup's gzip header (sob_backup_comment()), where
 * the checksum covers it and gunzip ignores it.  sob_scan_dir() reads it
 * back and groups the backups of a directory by database: by the recorded
 * name, and for a backup that records none (made by an earlier version of
 * the tool, or by hand) by its prefix, taken to be the name.
 *
 * A backup being
 * written is <name>.tmp.<pid> (and <name>.sha256.tmp.<pid>), created here
 * with O_EXCL, mode 0600, and an fcntl() write lock that its writer holds
 * for as long as it lives.  rotate removes a temporary file only when it can
 * take that lock itself, i.e. when its writer is gone, and the file is older
 * than a minute; so it never pulls a file from under a running backup.  Both
 * halves of that protocol are in this file.
 *
 * Ages are taken from the file's modification time, so that a backup copied
 * back with its time kept (cp -p, rsync -t) keeps its age.
 *
 * Copyright (c) 2026, snapshot_ops developers
 *
 * IDENTIFICATION
 *	  tools/snapshot_ops_backup/backup_dir.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"

#include "backup_dir.h"
#include "checksum.h"
#include "gzip_stream.h"

#define BACKUP_INFIX		"_backup_"
#define BACKUP_SUFFIX		".sql.gz"
#define CHECKSUM_SUFFIX		".sha256"
#define TEMP_INFIX			".tmp."
#define STALE_SECONDS		60
/* how the gzip header's comment of a backup begins; the name follows */
#define DATABASE_TAG		"snapshot_ops_backup database: "

/* Do the characters at s match the pattern ("9" stands for a digit)? */
static bool
dir_match(const char *s, const char *pattern)
{
	for (; *pattern; s++, pattern++)
	{
		if (*pattern == '9' ? !isdigit((unsigned char) *s) : *s != *pattern)
			return false;
	}
	return true;
}

/* Is name <something>_backup_YYYYMMDD_HHMMSS.sql.gz? */
bool
sob_is_backup_name(const char *name)
{
	static const char pattern[] = BACKUP_INFIX "99999999_999999" BACKUP_SUFFIX;
	size_t		len = strlen(name);
	size_t		plen = strlen(pattern);

	return len > plen && dir_match(name + len - plen, pattern);
}

/*
 * The prefix of the file names of backups of database db (palloc'd): db
 * made safe as part of a file name, see the file header.
 */
char *
sob_file_prefix(const char *db)
{
	char	   *s = pg_strdup(db);
	char	   *p;

	for (p = s; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			*p = '_';
	}
	if (s[0] == '.')
		s[0] = '_';
	return s;
}

/* The gzip header comment of a backup of database db (palloc'd). */
char *
sob_backup_comment(const char *db)
{
	return psprintf("%s%s", DATABASE_TAG, db);
}

/*
 * Is file a backup of database db?  If it records its database, that must
 * be db; if not, its prefix must be db's.
 */
bool
sob_is_backup_of(const SobBackupFile *file, const char *db)
{
	char	   *prefix;
	bool		result;

	if (file->recorded)
		return strcmp(file->database, db) == 0;
	prefix = sob_file_prefix(db);
	result = strcmp(file->database, prefix) == 0;
	pg_free(prefix);
	return result;
}

/*
 * Set file's database: the name its gzip header records, else the prefix
 * of its name (the part before "_backup_YYYYMMDD_HHMMSS.sql.gz").
 */
static void
dir_set_database(SobBackupFile *file)
{
	/* a database name has at most NAMEDATALEN - 1 bytes; room for more */
	char		comment[256];
	size_t		tlen = strlen(DATABASE_TAG);

	if (sob_gz_header_comment(file->path, comment, sizeof(comment)) &&
		strncmp(comment, DATABASE_TAG, tlen) == 0 && comment[tlen] != '\0')
	{
		file->database = pg_strdup(comment + tlen);
		file->recorded = true;
	}
	else
	{
		file->database = pnstrdup(file->name,
								  strlen(file->name) -
								  strlen(BACKUP_INFIX "99999999_999999" BACKUP_SUFFIX));
		file->recorded = false;
	}
}

/* Is name a temporary file of a backup: <backup name>[.sha256].tmp.<pid>? */
static bool
dir_is_temp_name(const char *name)
{
	const char *tmp = strstr(name, TEMP_INFIX);
	char	   *base;
	bool		result;
	size_t		i;

	if (tmp == NULL || tmp[strlen(TEMP_INFIX)] == '\0')
		return false;
	for (i = strlen(TEMP_INFIX); tmp[i]; i++)
	{
		if (!isdigit((unsigned char) tmp[i]))
			return false;
	}
	base = pnstrdup(name, tmp - name);
	i = strlen(base);
	if (i > strlen(CHECKSUM_SUFFIX) &&
		strcmp(base + i - strlen(CHECKSUM_SUFFIX), CHECKSUM_SUFFIX) == 0)
		base[i - strlen(CHECKSUM_SUFFIX)] = '\0';
	result = sob_is_backup_name(base);
	pg_free(base);
	return result;
}

/* Newest first; equal times by name, newest name first. */
static int
dir_compare(const void *a, const void *b)
{
	const SobBackupFile *fa = a;
	const SobBackupFile *fb = b;

	if (fa->mtime != fb->mtime)
		return fa->mtime > fb->mtime ? -1 : 1;
	return -strcmp(fa->name, fb->name);
}

/* By database (group), then newest first. */
static int
dir_compare_grouped(const void *a, const void *b)
{
	const SobBackupFile *fa = a;
	const SobBackupFile *fb = b;

	if (fa->group != fb->group)
		return fa->group < fb->group ? -1 : 1;
	return dir_compare(a, b);
}

/*
 * The backups in dir, each with its database (see the file header), by
 * database and within a database newest first.  Their group numbers the
 * databases 0 .. *ndatabases - 1 in the order of their newest backups, so
 * the first file is the newest of all.  Returns 0, or -1 after printing an
 * error (the directory cannot be read); files is set either way.
 */
int
sob_scan_dir(const char *dir, SobBackupFile **files, int *nfiles,
			 int *ndatabases)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	int			max = 16;
	int			i;

	*files = pg_malloc_array(SobBackupFile, max);
	*nfiles = 0;
	*ndatabases = 0;
	if (d == NULL)
	{
		pg_log_error("could not open directory \"%s\": %m", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
	{
		struct stat st;
		char	   *path;

		if (!sob_is_backup_name(de->d_name))
			continue;
		path = psprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		{
			pg_free(path);
			continue;
		}
		if (*nfiles == max)
		{
			max *= 2;
			*files = pg_realloc_array(*files, SobBackupFile, max);
		}
		(*files)[*nfiles].name = pg_strdup(de->d_name);
		(*files)[*nfiles].path = path;
		(*files)[*nfiles].size = st.st_size;
		(*files)[*nfiles].mtime = st.st_mtime;
		dir_set_database(&(*files)[*nfiles]);
		(*nfiles)++;
	}
	closedir(d);
	qsort(*files, *nfiles, sizeof(SobBackupFile), dir_compare);

	/* number the databases in the order of their newest backups */
	for (i = 0; i < *nfiles; i++)
	{
		int			j;

		for (j = 0; j < i; j++)
		{
			if (strcmp((*files)[j].database, (*files)[i].database) == 0)
				break;
		}
		(*files)[i].group = j < i ? (*files)[j].group : (*ndatabases)++;
	}
	qsort(*files, *nfiles, sizeof(SobBackupFile), dir_compare_grouped);
	return 0;
}

/* Release what sob_scan_dir returned. */
void
sob_free_files(SobBackupFile *files, int nfiles)
{
	int			i;

	for (i = 0; i < nfiles; i++)
	{
		pg_free(files[i].name);
		pg_free(files[i].path);
		pg_free(files[i].database);
	}
	pg_free(files);
}

/*
 * Create the backup directory and its missing parents, mode 0700 (the
 * process umask is 077, see main(), which pg_mkdir_p() applies to the
 * parents).  Directories that exist are left as they are.  Returns 0, or -1
 * with errno set.
 */
int
sob_make_dir(const char *dir)
{
	char	   *path = pg_strdup(dir);
	int			rc = pg_mkdir_p(path, S_IRWXU);

	pg_free(path);
	return rc;
}

/* The temporary name of a backup file being written, path.tmp.<pid>. */
char *
sob_temp_path(const char *path)
{
	return psprintf("%s%s%d", path, TEMP_INFIX, (int) getpid());
}

/*
 * Create a temporary file O_EXCL with mode 0600 and take its write lock,
 * which tells rotate that its writer is alive.  Returns the descriptor or
 * -1 after printing an error.
 */
int
sob_create_temp(const char *path)
{
	struct flock lock;
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
	{
		pg_log_error("could not create \"%s\": %m", path);
		return -1;
	}
	memset(&lock, 0, sizeof(lock));
	lock.l_type = F_WRLCK;
	lock.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &lock) < 0 || fchmod(fd, 0600) < 0)
	{
		pg_log_error("could not lock \"%s\": %m", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/*
 * Remove the temporary file at path if its writer is gone (we can take its
 * lock) and it is older than a minute.  Returns false if a removal failed.
 */
static bool
dir_remove_stale_temp(const char *path, const char *name, time_t now, int *removed)
{
	struct flock lock;
	struct stat st;
	bool		ok = true;
	int			fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return true;			/* gone, or not ours to judge */
	memset(&lock, 0, sizeof(lock));
	lock.l_type = F_WRLCK;
	lock.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &lock) == 0 &&
		fstat(fd, &st) == 0 && now - st.st_mtime >= STALE_SECONDS)
	{
		if (unlink(path) == 0)
		{
			printf("  removed stale temporary file %s\n", name);
			(*removed)++;
		}
		else
		{
			pg_log_error("could not remove \"%s\": %m", path);
			ok = false;
		}
	}
	close(fd);
	return ok;
}

/*
 * Remove temporary files whose writer is gone (see the file header) and
 * checksum files whose backup is gone.  Returns false if a removal failed.
 */
bool
sob_remove_stale(const char *dir, time_t now, int *removed)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	bool		ok = true;
	size_t		slen = strlen(CHECKSUM_SUFFIX);

	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
	{
		size_t		len = strlen(de->d_name);
		char	   *path;

		if (dir_is_temp_name(de->d_name))
		{
			path = psprintf("%s/%s", dir, de->d_name);
			if (!dir_remove_stale_temp(path, de->d_name, now, removed))
				ok = false;
			pg_free(path);
		}
		else if (len > slen && strcmp(de->d_name + len - slen, CHECKSUM_SUFFIX) == 0)
		{
			char	   *base = pnstrdup(de->d_name, len - slen);
			char	   *bpath = psprintf("%s/%s", dir, base);
			struct stat st;

			path = psprintf("%s/%s", dir, de->d_name);
			if (sob_is_backup_name(base) && lstat(bpath, &st) < 0 && errno == ENOENT)
			{
				if (unlink(path) == 0)
				{
					printf("  removed orphaned checksum file %s\n", de->d_name);
					(*removed)++;
				}
				else
				{
					pg_log_error("could not remove \"%s\": %m", path);
					ok = false;
				}
			}
			pg_free(base);
			pg_free(bpath);
			pg_free(path);
		}
	}
	closedir(d);
	return ok;
}
