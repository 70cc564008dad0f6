/*
 * The results database of a run directory: results.sqlite in WAL mode, one transaction per
 * episode (its row and all its steps), a run table holding the config hash and the resolved
 * config so a directory is never reused for a different config.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "fewshot/error.h"
#include "results.h"

struct fewshot__results {
    sqlite3 *db;
    int partial;        /* read without its write-ahead log (see fewshot__results_partial) */
    char *dir;
    char *path;
    char *hash;
    /* fewshot__results_store's statements, prepared on its first call and kept: preparing
     * them for every episode cost more than storing a zero-action episode's steps */
    sqlite3_stmt *del, *ep, *st;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS run(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS episodes("
    " id TEXT PRIMARY KEY, ord INTEGER, arm TEXT, scenario TEXT, seed INTEGER, status TEXT,"
    " steps INTEGER, reward REAL, terms TEXT, llm_calls INTEGER, prompt_tokens INTEGER,"
    " completion_tokens INTEGER, cost REAL, parse_failures INTEGER, cache_hits INTEGER,"
    " error TEXT, seconds REAL, finished TEXT, demos_distinct REAL, demos_agreement REAL,"
    " cached_tokens INTEGER, out_of_range INTEGER);"
    "CREATE TABLE IF NOT EXISTS steps("
    " episode TEXT, t INTEGER, obs BLOB, action BLOB, reward REAL, terms TEXT,"
    " prompt_hash TEXT, reply TEXT, demos TEXT, parse TEXT, prompt_tokens INTEGER,"
    " completion_tokens INTEGER, latency REAL, cache_hit INTEGER, demos_distinct REAL,"
    " demos_agreement REAL, demos_distance REAL, cached_tokens INTEGER, out_of_range INTEGER,"
    " PRIMARY KEY(episode, t));";

/* Columns added after the first schema: a database made before them gets them on open. */
static const char *const added_columns[][3] = {
    {"episodes", "demos_distinct", "REAL"},
    {"episodes", "demos_agreement", "REAL"},
    {"steps", "demos_distinct", "REAL"},
    {"steps", "demos_agreement", "REAL"},
    {"steps", "demos_distance", "REAL"},
    {"episodes", "cached_tokens", "INTEGER"},
    {"episodes", "out_of_range", "INTEGER"},
    {"steps", "cached_tokens", "INTEGER"},
    {"steps", "out_of_range", "INTEGER"},
};

static int db_error(fewshot__results *r, const char *what)
{
    return fewshot_error_set_at(FEWSHOT_EIO, r->path, 0, 0, "%s: %s", what, sqlite3_errmsg(r->db));
}

static int exec(fewshot__results *r, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = fewshot_error_set_at(FEWSHOT_EIO, r->path, 0, 0, "%s", msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* The first file in dir a run writes (its config, notes, summary, plots), or NULL. */
static char *run_file_in(const char *dir)
{
    static const char *const names[] = {"config.json", "demos.json", "summary.csv",
                                        "gnuplot.log"};
    static const char *const plots[] = {"arms.", "diffs.", "profile.", "scores.", "trace-"};
    static const char *const kinds[] = {".dat", ".gp", ".svg"};
    DIR *d = opendir(dir);
    struct dirent *e;
    char *found = NULL;
    while (d && !found && (e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        int ours = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            ours |= strcmp(n, names[i]) == 0;
        for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++)
            for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
                size_t a = strlen(plots[i]), b = strlen(kinds[k]);
                ours |= len > a + b - 1 && strncmp(n, plots[i], a) == 0 &&
                        strcmp(n + len - b, kinds[k]) == 0;
            }
        if (ours)
            found = strdup(n);
    }
    if (d)
        closedir(d);
    return found;
}

/* A directory without a run may be used for one (it is made when missing, and may hold other
 * files), unless a file there has a name the run writes: the run would replace it (a config
 * kept as DIR/config.json, a summary of something else). */
static int refuse_foreign(const char *dir)
{
    char *file = run_file_in(dir);
    if (!file)
        return 0;
    int rc = fewshot_error_set_at(FEWSHOT_EMISMATCH, dir, 0, 0, "not a run directory (no "
                                  "results.sqlite), and it holds %s, which a run would replace; "
                                  "give another output directory or move that file", file);
    free(file);
    return rc;
}

static int make_dir(const char *dir)
{
    char *copy = strdup(dir);
    if (!copy)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (char *p = copy + (*copy != 0); *p; p++) {   /* "" has no second byte */
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            int rc = fewshot_error_set_at(FEWSHOT_EIO, copy, 0, 0, "cannot create directory: %s",
                                          strerror(errno));
            free(copy);
            return rc;
        }
        *p = '/';
    }
    int rc = 0;
    struct stat sb;
    if (mkdir(copy, 0777) != 0 && errno != EEXIST)
        rc = fewshot_error_set_at(FEWSHOT_EIO, copy, 0, 0, "cannot create directory: %s",
                                  strerror(errno));
    else if (stat(copy, &sb) != 0 || !S_ISDIR(sb.st_mode))   /* EEXIST: maybe a file */
        rc = fewshot_error_set_at(FEWSHOT_EINVAL, copy, 0, 0, "not a directory");
    free(copy);
    return rc;
}

static int has_column(fewshot__results *r, const char *table, const char *column)
{
    char sql[128];
    sqlite3_stmt *st;
    int found = 0;
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    while (!found && sqlite3_step(st) == SQLITE_ROW)
        found = strcmp((const char *)sqlite3_column_text(st, 1), column) == 0;
    sqlite3_finalize(st);
    return found;
}

static int upgrade(fewshot__results *r)
{
    for (size_t i = 0; i < sizeof added_columns / sizeof added_columns[0]; i++) {
        if (has_column(r, added_columns[i][0], added_columns[i][1]))
            continue;
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", added_columns[i][0],
                 added_columns[i][1], added_columns[i][2]);
        int rc = exec(r, sql);
        if (rc)
            return rc;
    }
    return 0;
}

json_t *fewshot__results_meta(fewshot__results *r, const char *key)
{
    sqlite3_stmt *st;
    json_t *out = NULL;
    if (sqlite3_prepare_v2(r->db, "SELECT value FROM run WHERE key = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = json_loads((const char *)sqlite3_column_text(st, 0), JSON_DECODE_ANY, NULL);
    sqlite3_finalize(st);
    return out;
}

/* Is there a row for key, whatever its value? (A value that does not parse is not absent.) */
static int meta_present(fewshot__results *r, const char *key)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM run WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

int fewshot__results_set_meta(fewshot__results *r, const char *key, const json_t *value)
{
    sqlite3_stmt *st;
    /* keys in their given order: a scenario grid expands in that order into its names, so a
     * report re-reading the config must see the order the sweep saw */
    char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO run(key, value) VALUES (?, ?)", -1,
                           &st, NULL) != SQLITE_OK) {
        free(text);
        return db_error(r, "cannot write the run table");
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(r, "cannot write the run table");
    sqlite3_finalize(st);
    free(text);
    return rc;
}

/* Name the top-level sections where two configs differ, for the mismatch message. */
/* The run table's config hash (NULL when none is recorded). The run directory may come from
 * anyone: a recorded hash must be a string. */
static int stored_hash(fewshot__results *r, json_t **out)
{
    json_t *stored = fewshot__results_meta(r, "config_hash");
    *out = NULL;
    if ((stored && !json_is_string(stored)) || (!stored && meta_present(r, "config_hash"))) {
        int rc = fewshot_error_set_at(FEWSHOT_EPARSE, r->path, 0, 0, "the run table's "
                                      "config_hash is not a string (%s): not a results "
                                      "database written by fewshot sweep",
                                      stored ? fewshot__json_kind(stored) : "not even JSON");
        json_decref(stored);
        return rc;
    }
    *out = stored;
    return 0;
}

static void differing_sections(const json_t *a, const json_t *b, char *buf, size_t size)
{
    const char *key;
    json_t *value;
    size_t used = 0;
    buf[0] = '\0';
    json_object_foreach((json_t *)a, key, value) {
        if (!json_equal(value, json_object_get(b, key)) && used < size)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", key);
    }
    json_object_foreach((json_t *)b, key, value) {
        if (!json_object_get(a, key) && used < size)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", key);
    }
}

/* The run's identity in its table: the config hash and resolved config, and with created
 * the time the run began. */
static int record_config(fewshot__results *r, const char *hash, const json_t *config,
                         int created)
{
    json_t *h = json_string(hash);
    int rc = fewshot__results_set_meta(r, "config_hash", h);
    if (rc == 0)
        rc = fewshot__results_set_meta(r, "config", config);
    if (rc == 0 && created) {
        char when[32];
        time_t now = time(NULL);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        json_t *w = json_string(when);
        rc = fewshot__results_set_meta(r, "created", w);
        json_decref(w);
    }
    json_decref(h);
    return rc;
}

int fewshot__results_open(fewshot__results **out, const char *dir, int create, const char *hash,
                          const json_t *config)
{
    struct stat sb;
    int rc;
    *out = NULL;
    if (!dir || !*dir)
        return fewshot_error_set(FEWSHOT_EINVAL, "the run directory name is empty");
    fewshot__results *r = calloc(1, sizeof *r);
    if (!r)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    r->dir = strdup(dir);
    r->path = malloc(strlen(dir) + 32);
    if (!r->dir || !r->path) {
        fewshot__results_close(r);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    sprintf(r->path, "%s/results.sqlite", dir);
    if (!create && stat(r->path, &sb) != 0) {
        rc = fewshot_error_set_at(FEWSHOT_ENOTFOUND, dir, 0, 0, "not a run directory (no "
                                  "results.sqlite)");
        fewshot__results_close(r);
        return rc;
    }
    if (create && (rc = make_dir(dir)) != 0) {
        fewshot__results_close(r);
        return rc;
    }
    if (create && stat(r->path, &sb) != 0 && (rc = refuse_foreign(dir)) != 0) {
        fewshot__results_close(r);
        return rc;
    }
    int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(r->path, &r->db, flags, NULL) != SQLITE_OK) {
        rc = db_error(r, "cannot open the results database");
        fewshot__results_close(r);
        return rc;
    }
    sqlite3_busy_timeout(r->db, 10000);
    if ((rc = exec(r, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")) != 0 ||
        (rc = exec(r, schema)) != 0 || (rc = upgrade(r)) != 0) {
        fewshot__results_close(r);
        return rc;
    }
    json_t *stored;
    if ((rc = stored_hash(r, &stored)) != 0) {
        fewshot__results_close(r);
        return rc;
    }
    json_t *old = stored && hash && strcmp(json_string_value(stored), hash) != 0
                      ? fewshot__results_meta(r, "config") : NULL;
    int rehash = old && config && fewshot__config_same_identity(old, config);
    if (rehash) {
        /* the same run under another hash (made before a setting counted as execution or
         * report only): it is this config's run */
        json_decref(old);
        old = NULL;
        json_decref(stored);
        stored = json_string(hash);
    }
    if (stored && hash && strcmp(json_string_value(stored), hash) != 0) {
        char diff[512];
        differing_sections(old, config, diff, sizeof diff);
        rc = fewshot_error_set_at(FEWSHOT_EMISMATCH, dir, 0, 0,
                                  "this run directory holds results of a different config "
                                  "(config %.12s, this one %.12s; differing sections: %s); "
                                  "use the same config and --set values to resume, or another "
                                  "output directory", json_string_value(stored), hash,
                                  diff[0] ? diff : "none at top level");
        json_decref(old);
        json_decref(stored);
        fewshot__results_close(r);
        return rc;
    }
    if (create && stored && hash && config) {
        /* a sweep writing into the run gives it this config's record: the hash when it was
         * recorded under another, and the execution and report settings it resumed with, so
         * its report uses the settings asked for (a dry run, create 0, only reads) */
        json_t *recorded = rehash ? NULL : fewshot__results_meta(r, "config");
        if (rehash)
            rc = record_config(r, hash, config, 0);
        else if (!recorded || !json_equal(recorded, config))
            rc = fewshot__results_set_meta(r, "config", config);
        json_decref(recorded);
        if (rc) {
            json_decref(stored);
            fewshot__results_close(r);
            return rc;
        }
    }
    if (!stored && hash) {
        rc = record_config(r, hash, config, 1);
        if (rc) {
            fewshot__results_close(r);
            return rc;
        }
        stored = json_string(hash);
    }
    if (stored)
        r->hash = strdup(json_string_value(stored));
    json_decref(stored);
    *out = r;
    return 0;
}

/* SQLite URI for path with immutable=1: '%', '?' and '#' must be escaped in a URI path. */
static char *immutable_uri(const char *path)
{
    char *uri = malloc(strlen(path) * 3 + 32), *o = uri;
    if (!uri)
        return NULL;
    o += sprintf(o, "file:");
    for (const char *p = path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            o += sprintf(o, "%%%02X", (unsigned char)*p);
        else
            *o++ = *p;
    }
    strcpy(o, "?immutable=1");
    return uri;
}

static int readable(fewshot__results *r)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT count(*) FROM run", -1, &st, NULL) != SQLITE_OK)
        return 0;
    int ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return ok;
}

int fewshot__results_open_read(fewshot__results **out, const char *dir)
{
    struct stat sb;
    int rc;
    *out = NULL;
    fewshot__results *r = calloc(1, sizeof *r);
    if (!r || !(r->dir = strdup(dir)) || !(r->path = malloc(strlen(dir) + 32))) {
        fewshot__results_close(r);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    sprintf(r->path, "%s/results.sqlite", dir);
    if (stat(r->path, &sb) != 0) {
        rc = fewshot_error_set_at(FEWSHOT_ENOTFOUND, dir, 0, 0, "not a run directory (no "
                                  "results.sqlite)");
        fewshot__results_close(r);
        return rc;
    }
    /* Without a write-ahead log (no sweep running, none killed) the file is read as it is
     * (immutable), creating nothing beside it. With one, a normal reader sees its pages, but
     * needs to create the WAL index; a read-only directory (an archive, another user's run)
     * cannot hold it, so the file alone is read then. */
    char *wal = malloc(strlen(r->path) + 8);
    int have_wal = wal && (sprintf(wal, "%s-wal", r->path), stat(wal, &sb) == 0);
    off_t wal_size = have_wal ? sb.st_size : 0;
    free(wal);
    if (!have_wal || sqlite3_open_v2(r->path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        !readable(r)) {
        sqlite3_close(r->db);
        r->db = NULL;
        char *uri = immutable_uri(r->path);
        if (!uri || sqlite3_open_v2(uri, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                                    NULL) != SQLITE_OK || !readable(r)) {
            rc = r->db ? db_error(r, "cannot read the results database")
                       : fewshot_error_set_at(FEWSHOT_EIO, r->path, 0, 0, "cannot open");
            free(uri);
            fewshot__results_close(r);
            return rc;
        }
        free(uri);
        r->partial = wal_size > 0;
    }
    sqlite3_busy_timeout(r->db, 10000);
    json_t *stored;
    if ((rc = stored_hash(r, &stored)) != 0) {
        fewshot__results_close(r);
        return rc;
    }
    r->hash = stored ? strdup(json_string_value(stored)) : NULL;
    json_decref(stored);
    *out = r;
    return 0;
}

int fewshot__results_partial(const fewshot__results *r)
{
    return r->partial;
}

void fewshot__results_close(fewshot__results *r)
{
    if (!r)
        return;
    sqlite3_finalize(r->del);
    sqlite3_finalize(r->ep);
    sqlite3_finalize(r->st);
    if (r->db)
        sqlite3_close(r->db);
    free(r->dir);
    free(r->path);
    free(r->hash);
    free(r);
}

const char *fewshot__results_hash(const fewshot__results *r)
{
    return r->hash ? r->hash : "";
}

int fewshot__results_config(fewshot__results *r, json_t **out)
{
    *out = fewshot__results_meta(r, "config");
    if (!*out)
        return fewshot_error_set_at(FEWSHOT_ENOTFOUND, r->path, 0, 0, "the run has no recorded "
                                    "config (run.config missing or not JSON)");
    return 0;
}

int fewshot__results_finished(fewshot__results *r, json_t **out)
{
    sqlite3_stmt *st;
    *out = json_object();
    if (sqlite3_prepare_v2(r->db, "SELECT id FROM episodes WHERE status = 'ok'", -1, &st,
                           NULL) != SQLITE_OK)
        return db_error(r, "cannot read episodes");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (id)     /* a NULL id is no episode of ours: it cannot match the plan */
            json_object_set_new(*out, id, json_true());
    }
    int rc = step == SQLITE_DONE ? 0 : db_error(r, "cannot read episodes");
    sqlite3_finalize(st);
    return rc;
}

/* Bind a JSON member: text for strings, numbers as numbers, objects/arrays as JSON text. */
static void bind_json(sqlite3_stmt *st, int idx, const json_t *v)
{
    if (!v || json_is_null(v)) {
        sqlite3_bind_null(st, idx);
    } else if (json_is_string(v)) {
        sqlite3_bind_text(st, idx, json_string_value(v), -1, SQLITE_TRANSIENT);
    } else if (json_is_integer(v)) {
        sqlite3_bind_int64(st, idx, json_integer_value(v));
    } else if (json_is_real(v)) {
        sqlite3_bind_double(st, idx, json_real_value(v));
    } else if (json_is_boolean(v)) {
        sqlite3_bind_int(st, idx, json_is_true(v));
    } else {
        /* json_dumps(v, JSON_COMPACT) byte for byte (reals with 17 digits), written directly */
        fewshot__jbuf text = {0};
        if (fewshot__json_canon(&text, v, 0, NULL) == 0 && text.data)
            sqlite3_bind_text(st, idx, text.data, (int)text.len, free);
        else {
            fewshot__jbuf_free(&text);
            sqlite3_bind_text(st, idx, json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17)), -1,
                              free);
        }
    }
}

/* A vector as a BLOB of little-endian IEEE 754 doubles: written without formatting a number,
 * read back bit for bit. */
static void bind_vector(sqlite3_stmt *st, int idx, const double *v, size_t n)
{
    if (!v) {
        sqlite3_bind_null(st, idx);
        return;
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    sqlite3_bind_blob(st, idx, n ? (const void *)v : "", (int)(n * sizeof *v), SQLITE_STATIC);
#else
    unsigned char *b = malloc(n * 8 + 1);
    for (size_t i = 0; b && i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        for (int k = 0; k < 8; k++)
            b[8 * i + k] = (unsigned char)(u >> (8 * k));
    }
    sqlite3_bind_blob(st, idx, b, (int)(n * 8), free);
#endif
}

static json_t *vector_json(const void *blob, size_t bytes)
{
    const unsigned char *b = blob;
    json_t *a = json_array();
    for (size_t i = 0; i + 8 <= bytes; i += 8) {
        uint64_t u = 0;
        double d;
        for (int k = 7; k >= 0; k--)
            u = u << 8 | b[i + (size_t)k];
        memcpy(&d, &u, 8);
        json_array_append_new(a, json_real(d));
    }
    return a;
}

static const char *const episode_cols[] = {
    "id", "ord", "arm", "scenario", "seed", "status", "steps", "reward", "terms", "llm_calls",
    "prompt_tokens", "completion_tokens", "cost", "parse_failures", "cache_hits", "error",
    "seconds", "demos_distinct", "demos_agreement", "cached_tokens", "out_of_range",
};
static const char *const step_cols[] = {
    "t", "obs", "action", "reward", "terms", "prompt_hash", "reply", "demos", "parse",
    "prompt_tokens", "completion_tokens", "latency", "cache_hit", "demos_distinct",
    "demos_agreement", "demos_distance", "cached_tokens", "out_of_range",
};
#define N_EPISODE_COLS (sizeof episode_cols / sizeof episode_cols[0])
#define N_STEP_COLS (sizeof step_cols / sizeof step_cols[0])

/* "HEAD(first, cols..., last) VALUES (?, ?..., last_value)": first and last may be NULL. */
static void insert_sql(char *sql, size_t size, const char *head, const char *first,
                       const char *const *cols, size_t n, const char *last,
                       const char *last_value)
{
    size_t used = (size_t)snprintf(sql, size, "%s(", head);
    if (first)
        used += (size_t)snprintf(sql + used, size - used, "%s, ", first);
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(sql + used, size - used, "%s%s", cols[i], i + 1 < n ? ", " : "");
    if (last)
        used += (size_t)snprintf(sql + used, size - used, ", %s", last);
    used += (size_t)snprintf(sql + used, size - used, ") VALUES (%s", first ? "?, " : "");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(sql + used, size - used, "?%s", i + 1 < n ? ", " : "");
    snprintf(sql + used, size - used, "%s%s)", last ? ", " : "", last ? last_value : "");
}

/* The store's statements (prepared once; reset and unbound after each use). */
static int store_statements(fewshot__results *r)
{
    char sql[1024];
    if (!r->del && sqlite3_prepare_v2(r->db, "DELETE FROM steps WHERE episode = ?", -1, &r->del,
                                      NULL) != SQLITE_OK)
        return db_error(r, "cannot replace the episode");
    /* columns by name: a database upgraded in place has its added columns last */
    if (!r->ep) {
        insert_sql(sql, sizeof sql, "INSERT OR REPLACE INTO episodes", NULL, episode_cols,
                   N_EPISODE_COLS, "finished", "strftime('%Y-%m-%dT%H:%M:%SZ','now')");
        if (sqlite3_prepare_v2(r->db, sql, -1, &r->ep, NULL) != SQLITE_OK)
            return db_error(r, "cannot store the episode");
    }
    if (!r->st) {
        insert_sql(sql, sizeof sql, "INSERT INTO steps", "episode", step_cols, N_STEP_COLS, NULL,
                   NULL);
        if (sqlite3_prepare_v2(r->db, sql, -1, &r->st, NULL) != SQLITE_OK)
            return db_error(r, "cannot store steps");
    }
    return 0;
}

static void statement_done(sqlite3_stmt *s)
{
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

int fewshot__results_store(fewshot__results *r, const json_t *episode, const json_t *steps,
                           const fewshot__results_vectors *vec)
{
    const char *id = json_string_value(json_object_get(episode, "id"));
    int rc = exec(r, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    if ((rc = store_statements(r)) != 0)
        goto fail;
    sqlite3_stmt *del = r->del, *ep = r->ep, *st = r->st;
    sqlite3_bind_text(del, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(del) != SQLITE_DONE) {
        rc = db_error(r, "cannot replace the episode");
        goto fail;
    }
    for (size_t i = 0; i < N_EPISODE_COLS; i++)
        bind_json(ep, (int)i + 1, json_object_get(episode, episode_cols[i]));
    if (sqlite3_step(ep) != SQLITE_DONE) {
        rc = db_error(r, "cannot store the episode");
        goto fail;
    }
    size_t i;
    json_t *step;
    json_array_foreach(steps, i, step) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        for (size_t c = 0; c < N_STEP_COLS; c++) {
            const json_t *v = json_object_get(step, step_cols[c]);
            if (!v && vec && i < vec->n && c == 1)
                bind_vector(st, (int)c + 2, vec->obs + i * vec->obs_dim, vec->obs_dim);
            else if (!v && vec && i < vec->n && c == 2)
                bind_vector(st, (int)c + 2, vec->action + i * vec->act_dim, vec->act_dim);
            else
                bind_json(st, (int)c + 2, v);
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_error(r, "cannot store a step");
            goto fail;
        }
    }
    statement_done(r->del);
    statement_done(r->ep);
    statement_done(r->st);
    return exec(r, "COMMIT");
fail:
    statement_done(r->del);
    statement_done(r->ep);
    statement_done(r->st);
    sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* A column as JSON: TEXT holding JSON objects/arrays is decoded for the listed columns. */
static json_t *column_json(sqlite3_stmt *st, int c, int decode)
{
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, c));
    case SQLITE_FLOAT: {
        /* JSON has no infinities: keep them visible (as text) for the readers' checks */
        double v = sqlite3_column_double(st, c);
        return isfinite(v) ? json_real(v) : json_string(v > 0 ? "inf" : v < 0 ? "-inf" : "nan");
    }
    case SQLITE_NULL: return json_null();
    case SQLITE_BLOB:
        return vector_json(sqlite3_column_blob(st, c), (size_t)sqlite3_column_bytes(st, c));
    default: {
        const char *text = (const char *)sqlite3_column_text(st, c);
        if (decode) {
            json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
            if (v)
                return v;
        }
        return json_string(text);
    }
    }
}

static int is_json_column(const char *name)
{
    return strcmp(name, "terms") == 0 || strcmp(name, "obs") == 0 ||
           strcmp(name, "action") == 0 || strcmp(name, "demos") == 0 ||
           strcmp(name, "parse") == 0;
}

static int query_rows(fewshot__results *r, const char *sql, const char *param, json_t **out)
{
    sqlite3_stmt *st;
    *out = json_array();
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(r, "cannot read results");
    if (param)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    int n = sqlite3_column_count(st), s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int c = 0; c < n; c++) {
            const char *name = sqlite3_column_name(st, c);
            json_object_set_new(row, name, column_json(st, c, is_json_column(name)));
        }
        json_array_append_new(*out, row);
    }
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? 0 : db_error(r, "cannot read results");
}

int fewshot__results_episodes(fewshot__results *r, json_t **out)
{
    return query_rows(r, "SELECT * FROM episodes ORDER BY ord", NULL, out);
}

int fewshot__results_steps(fewshot__results *r, const char *episode, json_t **out)
{
    return query_rows(r, "SELECT t, obs, action, reward, terms, prompt_hash, reply, demos, parse,"
                      " prompt_tokens, completion_tokens, latency, cache_hit, demos_distinct,"
                      " demos_agreement, demos_distance, cached_tokens, out_of_range FROM steps"
                      " WHERE episode = ? ORDER BY t",
                      episode, out);
}

/* "SELECT first, cols..., last FROM table WHERE key = ?" for src: a column src was made
 * before (an older schema) reads as NULL, so its rows line up with ours. */
static void source_select(fewshot__results *src, char *sql, size_t size, const char *table,
                          const char *first, const char *const *cols, size_t n,
                          const char *last, const char *key)
{
    size_t used = (size_t)snprintf(sql, size, "SELECT %s%s", first ? first : "",
                                   first ? ", " : "");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(sql + used, size - used, "%s%s",
                                 has_column(src, table, cols[i]) ? cols[i] : "NULL",
                                 i + 1 < n ? ", " : "");
    if (last)
        used += (size_t)snprintf(sql + used, size - used, ", %s", last);
    snprintf(sql + used, size - used, " FROM %s WHERE %s = ?", table, key);
}

/* The statements of one import, prepared once for all its episodes; the store's own (steps
 * dropped and inserted) serve too. */
typedef struct importer {
    sqlite3_stmt *ids, *sel_ep, *sel_st;    /* on the shard: its ok episodes, a row, steps */
    sqlite3_stmt *have, *ins_ep;            /* on ours: finished ok already?, an episode row */
} importer;

static void importer_finalize(importer *im)
{
    sqlite3_finalize(im->ids);
    sqlite3_finalize(im->sel_ep);
    sqlite3_finalize(im->sel_st);
    sqlite3_finalize(im->have);
    sqlite3_finalize(im->ins_ep);
}

static int importer_prepare(importer *im, fewshot__results *dst, fewshot__results *src)
{
    char sql[2048];
    int rc = store_statements(dst);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(src->db, "SELECT id FROM episodes WHERE status = 'ok' ORDER BY id",
                           -1, &im->ids, NULL) != SQLITE_OK)
        return db_error(src, "cannot read the run to merge");
    source_select(src, sql, sizeof sql, "episodes", NULL, episode_cols, N_EPISODE_COLS,
                  "finished", "id");
    if (sqlite3_prepare_v2(src->db, sql, -1, &im->sel_ep, NULL) != SQLITE_OK)
        return db_error(src, "cannot read the run to merge");
    source_select(src, sql, sizeof sql, "steps", "episode", step_cols, N_STEP_COLS, NULL,
                  "episode");
    if (sqlite3_prepare_v2(src->db, sql, -1, &im->sel_st, NULL) != SQLITE_OK)
        return db_error(src, "cannot read the run to merge");
    if (sqlite3_prepare_v2(dst->db, "SELECT 1 FROM episodes WHERE id = ? AND status = 'ok'",
                           -1, &im->have, NULL) != SQLITE_OK)
        return db_error(dst, "cannot prepare the merge");
    /* the shard's finished time is kept, not the merge's */
    insert_sql(sql, sizeof sql, "INSERT OR REPLACE INTO episodes", NULL, episode_cols,
               N_EPISODE_COLS, "finished", "?");
    if (sqlite3_prepare_v2(dst->db, sql, -1, &im->ins_ep, NULL) != SQLITE_OK)
        return db_error(dst, "cannot prepare the merge");
    return 0;
}

/* Copy the rows sel (on src, bound to id) gives into dst with ins, value by value. */
static int copy_rows(fewshot__results *dst, fewshot__results *src, sqlite3_stmt *sel,
                     sqlite3_stmt *ins, const char *id)
{
    int rc = 0, step;
    sqlite3_bind_text(sel, 1, id, -1, SQLITE_STATIC);
    while (rc == 0 && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(sel); c++)
            sqlite3_bind_value(ins, c + 1, sqlite3_column_value(sel, c));
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = db_error(dst, "cannot store a merged row");
        statement_done(ins);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_error(src, "cannot read the run to merge");
    statement_done(sel);
    return rc;
}

/* 1 when dst already holds episode id finished ok (a shard's copy is not needed). */
static int have_ok(importer *im, const char *id)
{
    sqlite3_bind_text(im->have, 1, id, -1, SQLITE_STATIC);
    int found = sqlite3_step(im->have) == SQLITE_ROW;
    statement_done(im->have);
    return found;
}

/* Replace dst's copy of episode id (any status) by src's, its row and its steps. */
static int import_episode(fewshot__results *dst, fewshot__results *src, importer *im,
                          const char *id)
{
    sqlite3_bind_text(dst->del, 1, id, -1, SQLITE_STATIC);
    int dropped = sqlite3_step(dst->del) == SQLITE_DONE;
    statement_done(dst->del);
    if (!dropped)
        return db_error(dst, "cannot replace a merged episode");
    int rc = copy_rows(dst, src, im->sel_ep, im->ins_ep, id);
    return rc ? rc : copy_rows(dst, src, im->sel_st, dst->st, id);
}

int fewshot__results_import(fewshot__results *r, const char *dir, size_t *copied)
{
    /* the shard is only read: it may be an archive, another user's run, or a run made
     * before the added columns (those read as NULL) */
    fewshot__results *src = NULL;
    int rc = fewshot__results_open_read(&src, dir);
    *copied = 0;
    if (rc)
        return rc;
    if (src->partial) {
        rc = fewshot_error_set_at(FEWSHOT_EIO, src->path, 0, 0, "its write-ahead log cannot "
                                  "be read here (a read-only directory): merging it would "
                                  "lose the episodes kept there; copy the run directory to "
                                  "a writable place first");
        fewshot__results_close(src);
        return rc;
    }
    importer im = {0};
    if ((rc = importer_prepare(&im, r, src)) == 0)
        rc = exec(r, "BEGIN IMMEDIATE");
    int begun = rc == 0, step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(im.ids)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(im.ids, 0);
        if (!id || have_ok(&im, id))
            continue;
        if ((rc = import_episode(r, src, &im, id)) == 0)
            ++*copied;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_error(src, "cannot read the run to merge");
    importer_finalize(&im);
    if (rc == 0)
        rc = exec(r, "COMMIT");
    else if (begun)
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    if (rc)
        *copied = 0;
    fewshot__results_close(src);
    return rc;
}
