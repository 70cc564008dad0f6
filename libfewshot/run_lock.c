/*
 * One sweep per run directory. Two sweeps on one directory would both run every episode
 * (twice the LLM cost) and the later one's rows would overwrite the first's, so a sweep holds
 * an exclusive flock(2) on RUN_DIR/lock for its whole run. The kernel drops the lock when the
 * process ends, however it ends (kill -9 included), so a stale file never blocks a resume.
 * The holder writes its pid and start time into the file for the refusal message.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "fewshot/error.h"
#include "results.h"

int fewshot__run_lock(const char *dir, int *fd_out)
{
    *fd_out = -1;
    size_t n = strlen(dir) + sizeof "/lock";
    char *path = malloc(n);
    if (!path)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    snprintf(path, n, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        int rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot open the lock file: %s",
                                      strerror(errno));
        free(path);
        return rc;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char holder[128] = "";
        ssize_t got = pread(fd, holder, sizeof holder - 1, 0);
        holder[got > 0 ? got : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(fd);
        int rc;
        if (err == EWOULDBLOCK)
            rc = fewshot_error_set_at(FEWSHOT_EAGAIN, dir, 0, 0, "this run directory is in use "
                                      "by another sweep (%s); wait for it to end, or use "
                                      "another -o", holder[0] ? holder : "process unknown");
        else
            rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot lock: %s", strerror(err));
        free(path);
        return rc;
    }
    free(path);
    char line[128];
    time_t now = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    int len = snprintf(line, sizeof line, "process %ld, since %s\n", (long)getpid(), when);
    if (ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)len, 0) < 0)
        (void)0;    /* the pid is only for the message; the lock itself holds */
    *fd_out = fd;
    return 0;
}

void fewshot__run_unlock(int fd)
{
    if (fd >= 0) {
        if (ftruncate(fd, 0) != 0)
            (void)0;
        close(fd);  /* releases the flock */
    }
}
