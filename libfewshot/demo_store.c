/*
 * The shared store of generated demonstration datasets: $XDG_CACHE_HOME/libfewshot/demos
 * (default ~/.cache/libfewshot/demos), one binary file per dataset named by the hash of what
 * generated it, so sweeps and runs share one copy instead of each writing its own.
 *
 * Concurrent writers: a generator holds an flock(2) on ID.lock while it generates, writes a
 * unique temporary file (mkstemp) and renames it into place; a second process asking for the
 * same dataset waits on the lock, then finds the file. Readers never see a partial file.
 */
#define _GNU_SOURCE 1  /* asprintf */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fewshot/demo.h"
#include "fewshot/env.h"
#include "fewshot/error.h"
#include "fewshot/version.h"
#include "demo_internal.h"

/* Bump when what a stored dataset holds for the same inputs changes. */
#define STORE_FORMAT 1

/* Internal outcomes of using the store (positive: never returned to callers). A store that
 * cannot be used (no HOME, a read-only cache) must not stop a sweep: the dataset is then
 * generated in memory, as before the store existed, and no path is returned. */
#define STORE_UNUSABLE 1
#define STORE_UNWRITTEN 2

int fewshot_demos_store_dir(char **out)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    *out = NULL;
    if (xdg && xdg[0] == '/') {
        if (asprintf(out, "%s/libfewshot/demos", xdg) < 0)
            *out = NULL;
    } else if (home && home[0]) {
        if (asprintf(out, "%s/.cache/libfewshot/demos", home) < 0)
            *out = NULL;
    } else {
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "demonstration store: neither "
                                 "XDG_CACHE_HOME (an absolute path) nor HOME is set");
    }
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}

static int mkdirs(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            break;
        *s = '/';
    }
    int rc = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = fewshot_error_set_at(FEWSHOT_EIO, dir, 0, 0, "cannot create the demonstration "
                                  "store: %s", strerror(errno));
    free(p);
    return rc;
}

/* A fingerprint of the plugin's code: the SHA-256 of its module file. Plugin authors do not
 * always bump their version when dynamics or features change, and a stale stored dataset
 * would then be reused silently. */
static json_t *plugin_fingerprint(const fewshot_env_plugin *p)
{
    const char *file = fewshot_env_plugin_file(p);
    char hex[65];
    if (file && file[0] == '/' && fewshot__file_sha256(file, hex))
        return json_string(hex);
    return json_string(file ? file : "");
}

/* What identifies a generation: the plugin (version and code), the library's version (its
 * own policies), the resolved parameters, the expanded plan and the generation settings. */
static int identity(const fewshot_demos_generate_options *o, json_t **out, char **plugin)
{
    fewshot_env *env = NULL;
    json_t *params = NULL, *scenarios = NULL;
    int *days = NULL;
    size_t n_days = 0;
    int v2 = o->version >= 2;
    int rc = fewshot_env_new(&env, o->env, o->params);
    if (rc == 0)
        rc = fewshot_env_params(env, &params);
    if (rc == 0 && v2)
        rc = fewshot__demos_days(o->days, NULL, "days", &days, &n_days);
    if (rc == 0 && v2)
        rc = fewshot__demos_scenarios(o->scenarios, NULL, "scenarios", &scenarios);
    if (rc == 0) {
        const fewshot_env_plugin *p = fewshot_env_plugin_of(env);
        json_t *dl = json_array();
        for (size_t i = 0; i < n_days; i++)
            json_array_append_new(dl, json_integer(days[i]));
        *out = json_pack("{s:i, s:s, s:s, s:o, s:s, s:o, s:o, s:o?, s:s, s:I, s:I, s:I, s:b, "
                         "s:O?}", "format", STORE_FORMAT, "plugin", p->name, "plugin_version",
                         p->version ? p->version : "", "plugin_code", plugin_fingerprint(p),
                         "library", fewshot_version_str(), "params", params, "days", dl,
                         "scenarios", scenarios, "policy", o->policy ? o->policy : "expert",
                         "seed", (json_int_t)o->seed,
                         "episodes", (json_int_t)(o->episodes ? o->episodes : 1),
                         "steps", (json_int_t)o->steps, "features", !o->no_features,
                         "reset", o->reset_options);
        params = scenarios = NULL;
        *plugin = strdup(p->name);
        if (!*out || !*plugin)
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    free(days);
    json_decref(params);
    json_decref(scenarios);
    fewshot_env_free(env);
    return rc;
}

static int hash_id(const json_t *ident, char **id)
{
    char *text = json_dumps(ident, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!text || !EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL)) {
        free(text);
        return fewshot_error_set(FEWSHOT_ENOMEM, "demonstration store: cannot hash");
    }
    free(text);
    if (!(*id = malloc(33)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (int i = 0; i < 16; i++)
        sprintf(*id + 2 * i, "%02x", md[i]);
    return 0;
}

int fewshot_demos_id(const fewshot_demos_generate_options *o, char **id)
{
    if (!o || !o->env || !id)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_id: options with env are "
                                 "required");
    json_t *ident = NULL;
    char *plugin = NULL;
    *id = NULL;
    int rc = identity(o, &ident, &plugin);
    if (rc == 0)
        rc = hash_id(ident, id);
    json_decref(ident);
    free(plugin);
    return rc;
}

/* Write ds to path through a unique temporary file in the same directory. */
static int write_atomically(const fewshot_demos *ds, const char *dir, const char *path)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s/.tmp-XXXXXX", dir) < 0)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    int fd = mkstemp(tmp), rc = 0;
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        rc = fewshot_error_set_at(FEWSHOT_EIO, dir, 0, 0, "cannot write to the demonstration "
                                  "store: %s", strerror(errno));
        if (fd >= 0)
            close(fd), unlink(tmp);
        free(tmp);
        return rc;
    }
    int failed = fewshot__demos_write_binary(ds, f) != 0;
    failed |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    failed |= fclose(f) != 0;
    /* the store is shared between users' tools: readable like any cache file */
    if (!failed)
        chmod(tmp, 0644);
    if (failed || rename(tmp, path) != 0) {
        rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot write to the demonstration "
                                  "store: %s", strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static int load_stored(fewshot_demos **out, const char *path)
{
    int rc = fewshot_demos_load(out, path);
    if (rc)
        fewshot_error_prefix("demonstration store (delete the file to generate it again)");
    return rc;
}

/* Generate into the store under the dataset's lock, unless another process did meanwhile. */
static int generate_locked(fewshot_demos **out, const fewshot_demos_generate_options *o,
                           const char *dir, const char *id, const char *path)
{
    char *lock = NULL;
    if (asprintf(&lock, "%s/%s.lock", dir, id) < 0)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644), rc = 0;
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        rc = STORE_UNUSABLE;
        goto done;
    }
    struct stat sb;
    if (stat(path, &sb) == 0) {
        rc = load_stored(out, path);    /* a concurrent generator finished first */
        goto done;
    }
    if ((rc = fewshot_demos_new(out, NULL)) == 0 && (rc = fewshot_demos_generate(*out, o)) == 0) {
        json_object_set_new(fewshot_demos_header(*out), "id", json_string(id));
        if (write_atomically(*out, dir, path) != 0)
            rc = STORE_UNWRITTEN;       /* the dataset is good, only not stored */
    }
    if (rc && rc != STORE_UNWRITTEN) {
        fewshot_demos_free(*out);
        *out = NULL;
    }
done:
    if (fd >= 0)
        close(fd);
    free(lock);
    return rc;
}

int fewshot_demos_obtain(fewshot_demos **out, const fewshot_demos_generate_options *o,
                         char **id_out, char **path_out)
{
    if (!out || !o || !o->env)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_obtain: options with env are "
                                 "required");
    *out = NULL;
    json_t *ident = NULL;
    char *plugin = NULL, *id = NULL, *dir = NULL, *path = NULL;
    int rc = identity(o, &ident, &plugin);
    if (rc == 0)
        rc = hash_id(ident, &id);
    int usable = rc == 0 && fewshot_demos_store_dir(&dir) == 0 && mkdirs(dir) == 0 &&
                 access(dir, W_OK | X_OK) == 0;
    if (rc == 0 && usable && asprintf(&path, "%s/%s-%s.fsdb", dir, plugin, id) < 0) {
        path = NULL;
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    struct stat sb;
    if (rc == 0 && usable)
        rc = stat(path, &sb) == 0 ? load_stored(out, path)
                                  : generate_locked(out, o, dir, id, path);
    if (rc == STORE_UNUSABLE || (rc == 0 && !usable)) {
        usable = 0;
        rc = STORE_UNUSABLE;
    }
    if (rc == STORE_UNUSABLE) {
        fewshot_demos_free(*out);
        *out = NULL;
        if ((rc = fewshot_demos_new(out, NULL)) == 0 &&
            (rc = fewshot_demos_generate(*out, o)) == 0)
            json_object_set_new(fewshot_demos_header(*out), "id", json_string(id));
        else {
            fewshot_demos_free(*out);
            *out = NULL;
        }
    }
    if (rc == STORE_UNWRITTEN || (rc == 0 && !usable)) {
        rc = 0;
        free(path);
        path = NULL;
    }
    if (rc == 0)
        fewshot_error_clear();
    json_decref(ident);
    free(plugin);
    free(dir);
    if (rc == 0 && id_out) {
        *id_out = id;
        id = NULL;
    }
    if (rc == 0 && path_out) {
        *path_out = path;
        path = NULL;
    }
    free(id);
    free(path);
    return rc;
}
