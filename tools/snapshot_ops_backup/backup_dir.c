/*-------------------------------------------------------------------------
 *
 * backup_dir.c
 *		The backup directory: the list and rotate commands, checksum files,
 *		and the file system helpers the other commands share.
 *
 * A backup is a file named <db>_backup_YYYYMMDD_HHMMSS.sql.gz with a
 * checksum file <name>.sha256 beside it, in the format of sha256sum(1).  A
 * backup being written is <name>.tmp.<pid> (and <name>.sha256.tmp.<pid>),
 * holding an fcntl() write lock for as long as its writer lives; rotate
 * removes a temporary file only when it can take that lock itself, i.e.
 * when its writer is gone, so it never pulls a file from under a running
 * backup.
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
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot_ops_backup.h"

#define SOB_SUFFIX			".sql.gz"
#define SOB_CHECKSUM_SUFFIX ".sha256"
#define SOB_STALE_SECONDS	60

/* Do the n characters at s match the pattern ("9" stands for a digit)? */
static bool
files_match(const char *s, const char *pattern)
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
	static const char pattern[] = "_backup_99999999_999999" SOB_SUFFIX;
	size_t		len = strlen(name);
	size_t		plen = strlen(pattern);

	return len > plen && files_match(name + len - plen, pattern);
}

/* Is name a temporary file of a backup: <backup name>[.sha256].tmp.<pid>? */
static bool
files_is_temp_name(const char *name)
{
	const char *tmp = strstr(name, ".tmp.");
	char	   *base;
	bool		result;
	size_t		i;

	if (tmp == NULL || tmp[5] == '\0')
		return false;
	for (i = 5; tmp[i]; i++)
	{
		if (!isdigit((unsigned char) tmp[i]))
			return false;
	}
	base = sob_strdup(name);
	base[tmp - name] = '\0';
	i = strlen(base);
	if (i > strlen(SOB_CHECKSUM_SUFFIX) &&
		strcmp(base + i - strlen(SOB_CHECKSUM_SUFFIX), SOB_CHECKSUM_SUFFIX) == 0)
		base[i - strlen(SOB_CHECKSUM_SUFFIX)] = '\0';
	result = sob_is_backup_name(base);
	free(base);
	return result;
}

/* Newest first; equal times by name, newest name first. */
static int
files_compare(const void *a, const void *b)
{
	const SobBackupFile *fa = a;
	const SobBackupFile *fb = b;

	if (fa->mtime != fb->mtime)
		return fa->mtime > fb->mtime ? -1 : 1;
	return -strcmp(fa->name, fb->name);
}

/*
 * The backups in dir, newest first.  Returns 0, or -1 after printing an
 * error (the directory cannot be read).
 */
int
sob_scan_dir(const char *dir, SobBackupFile **files, int *nfiles)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	int			max = 16;

	*files = sob_malloc(sizeof(SobBackupFile) * max);
	*nfiles = 0;
	if (d == NULL)
	{
		sob_error("could not open directory \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL)
	{
		struct stat st;
		char	   *path;

		if (!sob_is_backup_name(de->d_name))
			continue;
		path = sob_psprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		{
			free(path);
			continue;
		}
		if (*nfiles == max)
		{
			SobBackupFile *grown = sob_malloc(sizeof(SobBackupFile) * max * 2);

			memcpy(grown, *files, sizeof(SobBackupFile) * max);
			free(*files);
			*files = grown;
			max *= 2;
		}
		(*files)[*nfiles].name = sob_strdup(de->d_name);
		(*files)[*nfiles].path = path;
		(*files)[*nfiles].size = st.st_size;
		(*files)[*nfiles].mtime = st.st_mtime;
		(*nfiles)++;
	}
	closedir(d);
	qsort(*files, *nfiles, sizeof(SobBackupFile), files_compare);
	return 0;
}

/* Release what sob_scan_dir returned. */
void
sob_free_files(SobBackupFile *files, int nfiles)
{
	int			i;

	for (i = 0; i < nfiles; i++)
	{
		free(files[i].name);
		free(files[i].path);
	}
	free(files);
}

/* The checksum file of a backup (malloc'd). */
char *
sob_checksum_path(const char *path)
{
	return sob_psprintf("%s%s", path, SOB_CHECKSUM_SUFFIX);
}

/*
 * Read the checksum file of the backup at path into expected (65 bytes).
 * Returns false if it is missing or holds no SHA-256.
 */
static bool
files_read_checksum(const char *path, char *expected)
{
	char	   *cpath = sob_checksum_path(path);
	FILE	   *f = fopen(cpath, "r");
	char		line[256];
	int			i;

	free(cpath);
	if (f == NULL)
		return false;
	if (fgets(line, sizeof(line), f) == NULL)
	{
		fclose(f);
		return false;
	}
	fclose(f);
	for (i = 0; i < SOB_SHA256_HEX_LENGTH; i++)
	{
		if (!isxdigit((unsigned char) line[i]))
			return false;
		expected[i] = (char) tolower((unsigned char) line[i]);
	}
	expected[SOB_SHA256_HEX_LENGTH] = '\0';
	return line[SOB_SHA256_HEX_LENGTH] == ' ' || line[SOB_SHA256_HEX_LENGTH] == '\n';
}

/*
 * Compare the backup at path with its checksum file.  actual_hex (65 bytes)
 * receives the file's SHA-256 when it could be read.
 */
SobChecksumStatus
sob_checksum_check(const char *path, char *actual_hex)
{
	char		expected[SOB_SHA256_HEX_LENGTH + 1];
	unsigned char *buf;
	SobSha256	sha;
	int			fd;
	ssize_t		n;

	actual_hex[0] = '\0';
	if (!files_read_checksum(path, expected))
		return SOB_CHECKSUM_MISSING;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SOB_CHECKSUM_ERROR;
	buf = sob_malloc(SOB_BUFSIZE);
	sob_sha256_init(&sha);
	while ((n = read(fd, buf, SOB_BUFSIZE)) != 0)
	{
		if (n < 0)
		{
			if (errno == EINTR && !sob_interrupted)
				continue;
			free(buf);
			close(fd);
			return SOB_CHECKSUM_ERROR;
		}
		sob_sha256_update(&sha, buf, (size_t) n);
	}
	free(buf);
	close(fd);
	sob_sha256_hex(&sha, actual_hex);
	return strcmp(actual_hex, expected) == 0 ? SOB_CHECKSUM_OK : SOB_CHECKSUM_MISMATCH;
}

static const char *
files_status_name(SobChecksumStatus st)
{
	switch (st)
	{
		case SOB_CHECKSUM_OK:
			return "ok";
		case SOB_CHECKSUM_MISMATCH:
			return "MISMATCH";
		case SOB_CHECKSUM_MISSING:
			return "missing";
		case SOB_CHECKSUM_ERROR:
			break;
	}
	return "unreadable";
}

/* An age as "12m", "5h 03m" or "3d 07h". */
static void
files_format_age(time_t age, char *buf, size_t len)
{
	if (age < 0)
		age = 0;
	if (age < 3600)
		snprintf(buf, len, "%ldm", (long) (age / 60));
	else if (age < 86400)
		snprintf(buf, len, "%ldh %02ldm", (long) (age / 3600), (long) (age % 3600 / 60));
	else
		snprintf(buf, len, "%ldd %02ldh", (long) (age / 86400), (long) (age % 86400 / 3600));
}

/* fsync a directory, so that renames and removals in it are durable. */
int
sob_fsync_dir(const char *dir)
{
	int			fd = open(dir, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fsync(fd) < 0 && errno != EINVAL)
	{
		int			save = errno;

		close(fd);
		errno = save;
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Create dir and its missing parents with mode.  Directories that exist are
 * left as they are.  Returns 0, or -1 with errno set.
 */
int
sob_mkdir_p(const char *dir, mode_t mode)
{
	char	   *path = sob_strdup(dir);
	char	   *p = path;
	struct stat st;

	for (;;)
	{
		char		save;

		while (*p == '/')
			p++;
		while (*p && *p != '/')
			p++;
		save = *p;
		*p = '\0';
		if (mkdir(path, mode) < 0)
		{
			if (errno != EEXIST || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			{
				if (errno == EEXIST)
					errno = ENOTDIR;
				free(path);
				return -1;
			}
		}
		*p = save;
		if (save == '\0')
			break;
	}
	free(path);
	return 0;
}

/* list: every backup, newest first, with size, age and checksum status. */
int
sob_cmd_list(const SobOptions *opts)
{
	SobBackupFile *files;
	int			nfiles;
	int			i;
	time_t		now = time(NULL);

	if (sob_scan_dir(opts->dir, &files, &nfiles) < 0)
	{
		sob_free_files(files, nfiles);
		return SOB_EXIT_IO;
	}
	if (nfiles == 0)
	{
		printf("No backups in %s\n", opts->dir);
		sob_free_files(files, nfiles);
		return SOB_EXIT_OK;
	}
	printf("%-50s %12s %10s  %s\n", "BACKUP", "SIZE", "AGE", "CHECKSUM");
	for (i = 0; i < nfiles; i++)
	{
		char		age[32];
		char		size[32];
		char		hex[SOB_SHA256_HEX_LENGTH + 1];

		files_format_age(now - files[i].mtime, age, sizeof(age));
		printf("%-50s %12s %10s  %s\n", files[i].name,
			   sob_size((unsigned long long) files[i].size, size, sizeof(size)), age,
			   files_status_name(sob_checksum_check(files[i].path, hex)));
	}
	printf("%d backup%s in %s\n", nfiles, nfiles == 1 ? "" : "s", opts->dir);
	sob_free_files(files, nfiles);
	return SOB_EXIT_OK;
}

/*
 * Remove temporary files whose writer is gone (see the file header) and
 * checksum files whose backup is gone.  Returns false if a removal failed.
 */
static bool
files_remove_stale(const char *dir, time_t now, int *removed)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	bool		ok = true;

	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
	{
		char	   *path;
		struct stat st;
		size_t		len = strlen(de->d_name);
		size_t		slen = strlen(SOB_CHECKSUM_SUFFIX);

		if (files_is_temp_name(de->d_name))
		{
			struct flock lock;
			int			fd;

			path = sob_psprintf("%s/%s", dir, de->d_name);
			fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd >= 0)
			{
				memset(&lock, 0, sizeof(lock));
				lock.l_type = F_WRLCK;
				lock.l_whence = SEEK_SET;
				if (fcntl(fd, F_SETLK, &lock) == 0 &&
					fstat(fd, &st) == 0 && now - st.st_mtime >= SOB_STALE_SECONDS)
				{
					if (unlink(path) == 0)
					{
						printf("  removed stale temporary file %s\n", de->d_name);
						(*removed)++;
					}
					else
					{
						sob_error("could not remove \"%s\": %s", path, strerror(errno));
						ok = false;
					}
				}
				close(fd);
			}
			free(path);
		}
		else if (len > slen && strcmp(de->d_name + len - slen, SOB_CHECKSUM_SUFFIX) == 0)
		{
			char	   *base = sob_strdup(de->d_name);
			char	   *bpath;

			base[len - slen] = '\0';
			bpath = sob_psprintf("%s/%s", dir, base);
			path = sob_psprintf("%s/%s", dir, de->d_name);
			if (sob_is_backup_name(base) && lstat(bpath, &st) < 0 && errno == ENOENT)
			{
				if (unlink(path) == 0)
				{
					printf("  removed orphaned checksum file %s\n", de->d_name);
					(*removed)++;
				}
				else
				{
					sob_error("could not remove \"%s\": %s", path, strerror(errno));
					ok = false;
				}
			}
			free(base);
			free(bpath);
			free(path);
		}
	}
	closedir(d);
	return ok;
}

/*
 * rotate: remove backups older than --keep-days, but keep the --keep-min
 * newest ones and always the newest backup whose checksum is good.
 */
int
sob_cmd_rotate(const SobOptions *opts)
{
	SobBackupFile *files;
	int			nfiles;
	int			good = -1;
	int			removed = 0;
	int			kept = 0;
	int			i;
	bool		ok = true;
	time_t		now = time(NULL);
	time_t		cutoff = now - (time_t) opts->keep_days * 86400;

	if (sob_scan_dir(opts->dir, &files, &nfiles) < 0)
	{
		sob_free_files(files, nfiles);
		return SOB_EXIT_IO;
	}
	printf("[ROTATE] %s: keeping %d day%s, at least %d backup%s\n", opts->dir,
		   opts->keep_days, opts->keep_days == 1 ? "" : "s",
		   opts->keep_min, opts->keep_min == 1 ? "" : "s");

	for (i = 0; i < nfiles && good < 0; i++)
	{
		char		hex[SOB_SHA256_HEX_LENGTH + 1];

		if (sob_checksum_check(files[i].path, hex) == SOB_CHECKSUM_OK)
			good = i;
	}
	if (nfiles > 0 && good < 0)
		sob_warning("no backup in \"%s\" has a good checksum", opts->dir);

	for (i = 0; i < nfiles; i++)
	{
		char		age[32];
		char		size[32];
		char	   *cpath;

		if (i < opts->keep_min || i == good || files[i].mtime >= cutoff)
		{
			kept++;
			continue;
		}
		files_format_age(now - files[i].mtime, age, sizeof(age));
		if (unlink(files[i].path) < 0)
		{
			sob_error("could not remove \"%s\": %s", files[i].path, strerror(errno));
			ok = false;
			kept++;
			continue;
		}
		cpath = sob_checksum_path(files[i].path);
		if (unlink(cpath) < 0 && errno != ENOENT)
		{
			sob_error("could not remove \"%s\": %s", cpath, strerror(errno));
			ok = false;
		}
		free(cpath);
		printf("  removed %s (%s, age %s)\n", files[i].name,
			   sob_size((unsigned long long) files[i].size, size, sizeof(size)), age);
		removed++;
	}

	if (!files_remove_stale(opts->dir, now, &removed))
		ok = false;
	if (removed > 0 && sob_fsync_dir(opts->dir) < 0)
	{
		sob_error("could not fsync directory \"%s\": %s", opts->dir, strerror(errno));
		ok = false;
	}
	if (good >= 0)
		printf("  newest good backup: %s\n", files[good].name);
	printf("  %d backup%s kept, %d file%s removed\n", kept, kept == 1 ? "" : "s",
		   removed, removed == 1 ? "" : "s");
	sob_free_files(files, nfiles);
	return ok ? SOB_EXIT_OK : SOB_EXIT_IO;
}
