/*-------------------------------------------------------------------------
 *
 * backup_dir.c
 *		The backup directory of snapshot_ops_backup: backup and temporary
 *		file names, scanning, and the write lock of a running backup.
 *
 * A backup is a file named <db>_backup_YYYYMMDD_HHMMSS.sql.gz with a
 * checksum file <name>.sha256 beside it (checksum.c).  A backup being
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

#define BACKUP_SUFFIX		".sql.gz"
#define CHECKSUM_SUFFIX		".sha256"
#define TEMP_INFIX			".tmp."
#define STALE_SECONDS		60

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
	static const char pattern[] = "_backup_99999999_999999" BACKUP_SUFFIX;
	size_t		len = strlen(name);
	size_t		plen = strlen(pattern);

	return len > plen && dir_match(name + len - plen, pattern);
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

/*
 * The backups in dir, newest first.  Returns 0, or -1 after printing an
 * error (the directory cannot be read); files is set either way.
 */
int
sob_scan_dir(const char *dir, SobBackupFile **files, int *nfiles)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	int			max = 16;

	*files = pg_malloc_array(SobBackupFile, max);
	*nfiles = 0;
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
		(*nfiles)++;
	}
	closedir(d);
	qsort(*files, *nfiles, sizeof(SobBackupFile), dir_compare);
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
