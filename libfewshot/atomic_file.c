/*
 * Files written whole or not at all. Each writer gets its own temporary file beside the target
 * (mkstemp: PATH.XXXXXX, so concurrent writers never share one), writes, flushes, syncs and
 * renames it over the target; readers see the old file or the new one, never a half-written
 * one, and a full disk leaves the old file in place. Every error names the step that failed.
 *
 * Only a regular file is replaced that way. A symbolic link is followed, so the file it names
 * is replaced and the link stays. Anything else (/dev/null, a FIFO, a terminal, /dev/stdout
 * and other links into /proc) is written in place: renamed over, the device node or link
 * itself would be replaced by a regular file. Run as root, `-o /dev/null` did exactly that.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fewshot/error.h"
#include "internal.h"

/* What writing path does (see above): *target is the regular file to replace (path, or the
 * file its links name), or NULL to write path in place. 0, or FEWSHOT_ENOMEM. */
static int target_of(const char *path, char **target)
{
    struct stat sb;
    *target = NULL;
    int exists = lstat(path, &sb) == 0;
    if (exists && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode) && !S_ISLNK(sb.st_mode))
        return 0;                   /* a device, FIFO or socket (a directory: rename says so) */
    if (exists && S_ISLNK(sb.st_mode)) {
        char link[8];
        ssize_t len = readlink(path, link, sizeof link);
        if (len >= 6 && memcmp(link, "/proc/", 6) == 0)
            return 0;               /* /dev/stdout and friends: a descriptor, not a file */
        if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
            return 0;               /* a link to a device or FIFO */
        *target = realpath(path, NULL);     /* NULL: dangling, the link itself is replaced */
    }
    if (!*target && !(*target = strdup(path)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    return 0;
}

/* A temporary file beside path, to be renamed over it: *tmp is path + ".XXXXXX", so commit
 * finds the file to replace by cutting the suffix. */
static int open_beside(const char *path, FILE **f, char **tmp)
{
    size_t n = strlen(path);
    if (!(*tmp = malloc(n + sizeof ".XXXXXX")))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    memcpy(*tmp, path, n);
    memcpy(*tmp + n, ".XXXXXX", sizeof ".XXXXXX");
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        int rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot create a temporary file "
                                      "beside it: %s", strerror(errno));
        free(*tmp);
        *tmp = NULL;
        return rc;
    }
    /* mkstemp makes it 0600; give it what a plain fopen would (0666 less the umask) */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || !(*f = fdopen(fd, "w"))) {
        int rc = fewshot_error_set_at(FEWSHOT_EIO, *tmp, 0, 0, "cannot open: %s", strerror(errno));
        close(fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
        return rc;
    }
    return 0;
}

int fewshot__atomic_open(const char *path, FILE **f, char **tmp)
{
    char *target;
    *f = NULL;
    *tmp = NULL;
    int rc = target_of(path, &target);
    if (rc == 0 && !target && !(*f = fopen(path, "w")))
        rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    if (rc == 0 && target)
        rc = open_beside(target, f, tmp);
    free(target);
    return rc;
}

void fewshot__atomic_abort(FILE *f, char *tmp)
{
    if (f)
        fclose(f);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
}

int fewshot__atomic_commit(FILE *f, char *tmp, const char *path)
{
    const char *step = NULL;
    int err = 0;
    if (ferror(f))
        step = "cannot write", err = errno ? errno : EIO;
    else if (fflush(f) != 0)
        step = "cannot write", err = errno;
    else if (tmp && fsync(fileno(f)) != 0 && errno != EINVAL)
        step = "cannot sync", err = errno;
    if (fclose(f) != 0 && !step)
        step = "cannot close", err = errno;
    if (!step && tmp) {
        /* over path, or over the file path's links name (the links stay) */
        char *target = strndup(tmp, strlen(tmp) - (sizeof ".XXXXXX" - 1));
        if (!target)
            step = "out of memory", err = ENOMEM;
        else if (rename(tmp, target) != 0)
            step = "cannot rename the temporary file over it", err = errno;
        free(target);
    }
    int rc = 0;
    if (step) {
        rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "%s: %s", step, strerror(err));
        if (tmp)
            unlink(tmp);
    }
    free(tmp);
    return rc;
}

int fewshot__atomic_dump_json(const json_t *doc, const char *path, size_t flags,
                              const char *what)
{
    FILE *f;
    char *tmp;
    int rc = fewshot__atomic_open(path, &f, &tmp);
    if (rc)
        return rc;
    if (json_dumpf(doc, f, flags) != 0 || fputc('\n', f) == EOF) {
        int err = errno ? errno : EIO;
        fewshot__atomic_abort(f, tmp);
        return fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot write %s: %s", what,
                                    strerror(err));
    }
    return fewshot__atomic_commit(f, tmp, path);
}
