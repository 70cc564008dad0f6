/*
 * The weather years of a process: the plugin's shipped TMY3 files found on disk, and one
 * shared, reference-counted copy of each year (EPW file, TMY3 condition, or synthetic
 * condition and seed) for every environment that uses it. A sweep creates hundreds of
 * environments over a handful of climates; reading or generating a year each time was most
 * of the cost of a cached rerun.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fewshot/error.h"
#include "weather.h"

#include "paths.h"     /* FEWSHOT_WEATHERDIR, generated from configure's directories */
#ifndef HVAC_WEATHERDIR
#define HVAC_WEATHERDIR FEWSHOT_WEATHERDIR
#endif

/* Idle years (no environment holds them) kept for the next environment; about 0.15 MB each. */
#define IDLE_KEEP 32

typedef struct entry {
    struct entry *next;
    char *key;
    unsigned refs;
    hvac_weather w;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *entries;

const char *hvac_weather_dir(void)
{
    return HVAC_WEATHERDIR;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/base.gz, then dir/base; a new string or NULL. */
static char *in_dir(const char *dir, const char *base)
{
    static const char *const suffixes[] = {".gz", ""};
    for (size_t i = 0; i < 2; i++) {
        size_t len = strlen(dir) + strlen(base) + 8;
        char *path = malloc(len);
        if (!path)
            return NULL;
        snprintf(path, len, "%s/%s%s", dir, base, suffixes[i]);
        if (is_file(path))
            return path;
        free(path);
    }
    return NULL;
}

static void append(char *list, size_t size, const char *dir)
{
    size_t n = strlen(list);
    snprintf(list + n, size - n, "%s%s", n ? ", " : "", dir);
}

/* Search the weather directories for base (.gz first); the directories searched go to
 * searched. */
static int find_in_dirs(const char *base, char **path, char *searched, size_t size)
{
    const char *env = getenv("FEWSHOT_WEATHER_PATH");
    *path = NULL;
    if (env && *env) {
        char *copy = strdup(env), *save = NULL;
        if (!copy)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        for (char *dir = strtok_r(copy, ":", &save); dir && !*path;
             dir = strtok_r(NULL, ":", &save)) {
            *path = in_dir(dir, base);
            append(searched, size, dir);
        }
        free(copy);
    }
    const char *fixed[] = {
        HVAC_WEATHERDIR,
#ifdef HVAC_SOURCE_WEATHERDIR
        HVAC_SOURCE_WEATHERDIR,    /* running from the build tree */
#endif
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && !*path; i++) {
        *path = in_dir(fixed[i], base);
        append(searched, size, fixed[i]);
    }
    return 0;
}

int hvac_weather_find_tmy3(const char *condition, char **path)
{
    const char *canonical;
    int rc = hvac_condition_lookup(condition, &canonical);
    if (rc)
        return rc;
    const hvac_climate *c = NULL;
    for (size_t i = 0; i < HVAC_N_CONDITIONS && !c; i++)
        if (strcmp(hvac_climates[i].condition, canonical) == 0)
            c = &hvac_climates[i];
    char searched[4096] = "";
    if ((rc = find_in_dirs(c->epw, path, searched, sizeof searched)) != 0)
        return rc;
    if (!*path)
        return fewshot_error_set(FEWSHOT_ENOTFOUND,
                                 "the TMY3 year of %s (%s.gz) was not found (searched "
                                 "$FEWSHOT_WEATHER_PATH and %s); reinstall the hvac plugin's "
                                 "data, give the path of an EPW file, or set weather_source to "
                                 "\"synthetic\"", canonical, c->epw, searched);
    return 0;
}

int hvac_weather_find_file(const char *name, char **path)
{
    *path = NULL;
    if (strchr(name, '/') || is_file(name))
        return (*path = strdup(name)) ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    char searched[4096] = "";
    int rc = find_in_dirs(name, path, searched, sizeof searched);
    if (rc == 0 && !*path)
        *path = strdup(name);     /* not shipped either: opening it reports the error */
    return rc == 0 && !*path ? fewshot_error_set(FEWSHOT_ENOMEM, "out of memory") : rc;
}

/* The identity of a year: what it is made from, so equal keys give equal series. A file is
 * also known by its size and modification time, so a rewritten file is read again. */
static char *make_key(hvac_weather_source source, const char *name, uint64_t seed)
{
    char buf[4400];
    if (source == HVAC_WEATHER_FILE) {
        struct stat st;
        if (stat(name, &st) != 0)
            memset(&st, 0, sizeof st);
        snprintf(buf, sizeof buf, "file:%lld:%lld:%s", (long long)st.st_size,
                 (long long)st.st_mtime, name);
    } else
        snprintf(buf, sizeof buf, "synthetic:%llu:%s", (unsigned long long)seed, name);
    return strdup(buf);
}

static int load(hvac_weather *w, hvac_weather_source source, const char *name, uint64_t seed)
{
    return source == HVAC_WEATHER_SYNTHETIC ? hvac_weather_synthetic(w, name, seed)
                                            : hvac_weather_load_epw(w, name);
}

/* Free idle entries beyond the first `keep` (the most recently released come first). */
static void trim(size_t keep)
{
    size_t idle = 0;
    for (entry **p = &entries; *p;) {
        entry *e = *p;
        if (e->refs == 0 && idle++ >= keep) {
            *p = e->next;
            hvac_weather_free(&e->w);
            free(e->key);
            free(e);
        } else
            p = &e->next;
    }
}

int hvac_weather_acquire(const hvac_weather **out, hvac_weather_source source, const char *name,
                         uint64_t seed)
{
    *out = NULL;
    if (source == HVAC_WEATHER_TMY3) {
        /* the file found now: $FEWSHOT_WEATHER_PATH may point elsewhere than last time */
        char *path;
        int rc = hvac_weather_find_tmy3(name, &path);
        if (rc == 0) {
            rc = hvac_weather_acquire(out, HVAC_WEATHER_FILE, path, 0);
            free(path);
        }
        return rc;
    }
    char *key = make_key(source, name, seed);
    if (!key)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    pthread_mutex_lock(&lock);
    for (entry *e = entries; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            e->refs++;
            *out = &e->w;
            break;
        }
    pthread_mutex_unlock(&lock);
    if (*out) {
        free(key);
        return 0;
    }
    /* load outside the lock: other climates stay available meanwhile; if two threads load
     * the same year at once, the second to finish uses the first's and drops its own */
    entry *fresh = calloc(1, sizeof *fresh);
    if (!fresh) {
        free(key);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    int rc = load(&fresh->w, source, name, seed);
    if (rc) {
        free(fresh);
        free(key);
        return rc;
    }
    fresh->key = key;
    fresh->refs = 1;
    pthread_mutex_lock(&lock);
    for (entry *e = entries; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            e->refs++;
            *out = &e->w;
            break;
        }
    if (!*out) {
        fresh->next = entries;
        entries = fresh;
        *out = &fresh->w;
        fresh = NULL;
    }
    pthread_mutex_unlock(&lock);
    if (fresh) {
        hvac_weather_free(&fresh->w);
        free(fresh->key);
        free(fresh);
    }
    return 0;
}

void hvac_weather_release(const hvac_weather *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&lock);
    for (entry **p = &entries; *p; p = &(*p)->next) {
        entry *e = *p;
        if (&e->w != w)
            continue;
        if (--e->refs == 0) {    /* most recently released first, for trim() */
            *p = e->next;
            e->next = entries;
            entries = e;
            trim(IDLE_KEEP);
        }
        break;
    }
    pthread_mutex_unlock(&lock);
}

size_t hvac_weather_shared_count(void)
{
    size_t n = 0;
    pthread_mutex_lock(&lock);
    for (entry *e = entries; e; e = e->next)
        n++;
    pthread_mutex_unlock(&lock);
    return n;
}

/* Idle years go when the plugin is unloaded, so leak checkers see none. */
__attribute__((destructor)) static void release_idle(void)
{
    pthread_mutex_lock(&lock);
    trim(0);
    pthread_mutex_unlock(&lock);
}
