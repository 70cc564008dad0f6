/*
 * The LLM response cache: one SQLite table keyed by the SHA-256 of the canonical request.
 *
 * WAL mode lets readers and one writer work at once across processes, and a crash loses at
 * most the transaction in progress; the busy timeout makes concurrent writers wait instead of
 * failing. Serving from the cache stays a read: the total hit count is added up in memory and
 * written in one row every HIT_BATCH hits and when the handle closes, and an entry's own hit
 * count and last use (for least-recently-used pruning) are written at most once per
 * TOUCH_INTERVAL (an entry stored or touched within it is not rewritten), so a hot rerun does not rewrite the pages of every entry it reads.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "fewshot/cache.h"
#include "fewshot/error.h"
#include "internal.h"

#define HIT_BATCH 4096
#define TOUCH_INTERVAL 3600.0
#define SCHEMA_VERSION "1"

struct fewshot_cache {
    sqlite3 *db;
    char *path;
    int read_only;
    sqlite3_stmt *get, *put, *hit;
    char (*hits)[65];      /* entries to touch */
    size_t n_hits;
    uint64_t total_hits;   /* hits not yet added to meta 'hits' */
    int in_read;           /* a read transaction spans a batch of lookups */
    int reads;
};

#define READ_BATCH 256

int fewshot_cache_options_init(fewshot_cache_options *opts, unsigned int version)
{
    if (version != FEWSHOT_CACHE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_cache_options version %u is not %d",
                                 version, FEWSHOT_CACHE_OPTIONS_VERSION);
    fewshot_cache_options init = FEWSHOT_CACHE_OPTIONS_INIT;
    *opts = init;
    return 0;
}

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int fewshot_cache_default_path(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    int n;
    if (xdg && xdg[0] == '/') {
        n = snprintf(buf, size, "%s/fewshot/llm.sqlite", xdg);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return fewshot_error_set(FEWSHOT_ENOTFOUND, "neither $XDG_CACHE_HOME nor $HOME is "
                                     "set: give the cache a path");
        n = snprintf(buf, size, "%s/.cache/fewshot/llm.sqlite", home);
    }
    if (n < 0 || (size_t)n >= size)
        return fewshot_error_set(FEWSHOT_ERANGE, "the cache path is too long");
    return 0;
}

/* mkdir -p of the directory part of path */
static int make_parent(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return FEWSHOT_ENOMEM;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            free(dir);
            return fewshot_error_set(FEWSHOT_EIO, "%s: cannot create directory: %s", path,
                                     strerror(e));
        }
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        fewshot_error_set(FEWSHOT_EIO, "%s: cannot create directory %s: %s", path, dir,
                          strerror(e));
        free(dir);
        return FEWSHOT_EIO;
    }
    free(dir);
    return 0;
}

static int db_error(fewshot_cache *c, const char *what)
{
    return fewshot_error_set(FEWSHOT_EIO, "%s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
}

static int exec(fewshot_cache *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = fewshot_error_set(FEWSHOT_EIO, "%s: %s", c->path, msg ? msg : "SQLite error");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* Lookups share one read transaction per READ_BATCH, which saves the locking system calls
 * of a transaction per lookup; it ends before any write and when the handle closes. */
static void end_read(fewshot_cache *c)
{
    if (c->in_read) {
        sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
        c->in_read = 0;
        c->reads = 0;
    }
}

int fewshot_cache_open(fewshot_cache **out, const char *path, const fewshot_cache_options *opts)
{
    fewshot_cache_options defaults = FEWSHOT_CACHE_OPTIONS_INIT;
    char buf[4096];
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->version != FEWSHOT_CACHE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_cache_options version %u is not %d",
                                 opts->version, FEWSHOT_CACHE_OPTIONS_VERSION);
    if (!path || !*path) {
        int rc = fewshot_cache_default_path(buf, sizeof buf);
        if (rc)
            return rc;
        path = buf;
    }
    if (!opts->read_only) {
        int rc = make_parent(path);
        if (rc)
            return rc;
    }
    fewshot_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    c->read_only = opts->read_only;
    int flags = opts->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        int rc = c->db ? db_error(c, "cannot open the cache")
                       : fewshot_error_set(FEWSHOT_EIO, "%s: cannot open the cache", path);
        fewshot_cache_free(c);
        return rc;
    }
    sqlite3_busy_timeout(c->db, opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 10000);
    int rc = 0;
    if (!opts->read_only) {
        rc = exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA mmap_size=268435456; PRAGMA cache_size=-32768;"
                     "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT);"
                     "INSERT OR IGNORE INTO meta VALUES('schema', '" SCHEMA_VERSION "');"
                     "INSERT OR IGNORE INTO meta VALUES('hits', '0');"
                     "CREATE TABLE IF NOT EXISTS responses("
                     " key TEXT PRIMARY KEY, endpoint TEXT, model TEXT, reply TEXT NOT NULL,"
                     " prompt_tokens INTEGER, completion_tokens INTEGER, latency REAL,"
                     " created REAL, hits INTEGER NOT NULL DEFAULT 0, last_used REAL)"
                     " WITHOUT ROWID;");
        if (!rc)
            chmod(path, 0600); /* replies may hold private prompts */
    }
    if (!rc) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->db, "SELECT v FROM meta WHERE k = 'schema'", -1, &st, NULL)
                != SQLITE_OK)
            rc = fewshot_error_set(FEWSHOT_EPARSE, "%s: not a fewshot LLM cache (%s)", path,
                                   sqlite3_errmsg(c->db));
        else if (sqlite3_step(st) != SQLITE_ROW
                 || strcmp((const char *)sqlite3_column_text(st, 0), SCHEMA_VERSION) != 0)
            rc = fewshot_error_set(FEWSHOT_EMISMATCH, "%s: unknown cache schema", path);
        sqlite3_finalize(st);
    }
    if (!rc && sqlite3_prepare_v2(c->db, "SELECT reply, prompt_tokens, completion_tokens, latency,"
                                  " created, hits, last_used FROM responses WHERE key = ?", -1, &c->get,
                                  NULL) != SQLITE_OK)
        rc = db_error(c, "prepare");
    if (!rc && !opts->read_only
        && (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO responses(key, endpoint, model, "
                               "reply, prompt_tokens, completion_tokens, latency, created, hits,"
                               " last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)", -1, &c->put,
                               NULL) != SQLITE_OK
            || sqlite3_prepare_v2(c->db, "UPDATE responses SET hits = hits + 1, last_used = ? "
                                  "WHERE key = ?", -1, &c->hit, NULL) != SQLITE_OK))
        rc = db_error(c, "prepare");
    if (rc) {
        fewshot_cache_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int flush_hits(fewshot_cache *c)
{
    end_read(c);
    if ((c->n_hits == 0 && c->total_hits == 0) || c->read_only)
        return 0;
    double now = unix_now();
    int rc = exec(c, "BEGIN IMMEDIATE");
    for (size_t i = 0; !rc && i < c->n_hits; i++) {
        sqlite3_bind_double(c->hit, 1, now);
        sqlite3_bind_text(c->hit, 2, c->hits[i], 64, SQLITE_STATIC);
        if (sqlite3_step(c->hit) != SQLITE_DONE)
            rc = db_error(c, "counting hits");
        sqlite3_reset(c->hit);
    }
    if (!rc) {
        char sql[128];
        snprintf(sql, sizeof sql, "UPDATE meta SET v = CAST(v AS INTEGER) + %llu WHERE k = 'hits'",
                 (unsigned long long)c->total_hits);
        rc = exec(c, sql);
    }
    if (rc)
        exec(c, "ROLLBACK");
    else
        rc = exec(c, "COMMIT");
    c->n_hits = 0;
    c->total_hits = 0;
    return rc;
}

void fewshot_cache_free(fewshot_cache *c)
{
    if (!c)
        return;
    if (c->db)
        flush_hits(c);
    end_read(c);
    free(c->hits);
    sqlite3_finalize(c->get);
    sqlite3_finalize(c->put);
    sqlite3_finalize(c->hit);
    if (c->db)
        sqlite3_close(c->db);
    free(c->path);
    free(c);
}

const char *fewshot_cache_path(const fewshot_cache *c)
{
    return c->path;
}

const char *const fewshot__cache_skip[] = {"stream", "stream_options", NULL};

/* SHA-256 of {"endpoint":E,"request":R[,"sample":N]} as sorted compact JSON, fed to the
 * digest in pieces so the request text is neither copied nor serialized again. */
int fewshot__cache_key_text(const char *endpoint, size_t endpoint_len, const char *req,
                            size_t req_len, const json_t *body, unsigned int sample,
                            fewshot__digest *dg, char key[65])
{
    fewshot__jbuf head = {0};
    char tail[32];
    key[0] = '\0';
    json_t *t = json_object_get(body, "temperature");
    if (!(json_is_number(t) && json_number_value(t) == 0))
        snprintf(tail, sizeof tail, ",\"sample\":%u}", sample);
    else
        snprintf(tail, sizeof tail, "}");
    if (fewshot__jbuf_add(&head, "{\"endpoint\":", 12) ||
        fewshot__json_canon_string(&head, endpoint, endpoint_len) ||
        fewshot__jbuf_add(&head, ",\"request\":", 11)) {
        fewshot__jbuf_free(&head);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    const char *part[3] = {head.data, req, tail};
    size_t len[3] = {head.len, req_len, strlen(tail)};
    int rc;
    if (dg) {
        rc = fewshot__digest_parts(dg, part, len, 3, key);
    } else {
        fewshot__digest *once = NULL;
        rc = fewshot__digest_new(&once);
        if (rc == 0)
            rc = fewshot__digest_parts(once, part, len, 3, key);
        fewshot__digest_free(once);
    }
    fewshot__jbuf_free(&head);
    return rc;
}

int fewshot_cache_key(const char *endpoint, const json_t *body, unsigned int sample,
                      char key[65])
{
    key[0] = '\0';
    if (!endpoint || !json_is_object(body))
        return fewshot_error_set(FEWSHOT_EINVAL, "cache key: needs an endpoint and a JSON body");
    fewshot__jbuf req = {0};
    if (fewshot__json_canon(&req, body, 1, fewshot__cache_skip) != 0) {
        fewshot__jbuf_free(&req);
        return fewshot_error_set(FEWSHOT_ENOMEM, "cache key: cannot serialize the request");
    }
    int rc = fewshot__cache_key_text(endpoint, strlen(endpoint), req.data, req.len, body, sample,
                                     NULL, key);
    fewshot__jbuf_free(&req);
    return rc;
}

int fewshot_cache_get(fewshot_cache *c, const char *key, fewshot_cache_entry *e)
{
    memset(e, 0, sizeof *e);
    if (!key || strlen(key) != 64)
        return fewshot_error_set(FEWSHOT_EINVAL, "cache key must be 64 hex digits");
    if (!c->in_read && sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
        c->in_read = 1;
    if (++c->reads >= READ_BATCH)
        c->reads = 0; /* ended below, after this lookup */
    sqlite3_bind_text(c->get, 1, key, 64, SQLITE_STATIC);
    double last_used = 0;
    int step = sqlite3_step(c->get);
    int rc;
    if (step == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(c->get, 0);
        json_error_t jerr;
        e->reply = json_loads(text ? text : "", 0, &jerr);
        e->prompt_tokens = (uint64_t)sqlite3_column_int64(c->get, 1);
        e->completion_tokens = (uint64_t)sqlite3_column_int64(c->get, 2);
        e->latency = sqlite3_column_double(c->get, 3);
        e->created = sqlite3_column_double(c->get, 4);
        e->hits = (uint64_t)sqlite3_column_int64(c->get, 5);
        last_used = sqlite3_column_double(c->get, 6);
        rc = e->reply ? 0 : fewshot_error_set(FEWSHOT_EPARSE, "%s: entry %s holds bad JSON: %s",
                                              c->path, key, jerr.text);
    } else if (step == SQLITE_DONE) {
        rc = fewshot_error_set(FEWSHOT_ENOTFOUND, "not in the cache");
    } else {
        rc = db_error(c, "lookup");
    }
    sqlite3_reset(c->get);
    if (c->reads == 0)
        end_read(c);
    if (rc == 0 && !c->read_only) {
        c->total_hits++;
        /* an entry's own count and last use: at most once per TOUCH_INTERVAL */
        if (last_used < unix_now() - TOUCH_INTERVAL) {
            if (!c->hits)
                c->hits = malloc(HIT_BATCH * sizeof *c->hits);
            if (c->hits)
                memcpy(c->hits[c->n_hits++], key, 65);
        }
        if (c->total_hits >= HIT_BATCH || c->n_hits >= HIT_BATCH)
            flush_hits(c);
    }
    return rc;
}

int fewshot_cache_put(fewshot_cache *c, const char *key, const char *endpoint, const char *model,
                      const json_t *reply, uint64_t prompt_tokens, uint64_t completion_tokens,
                      double latency)
{
    if (c->read_only)
        return fewshot_error_set(FEWSHOT_EUNSUPPORTED, "%s: the cache is open read-only",
                                 c->path);
    if (!key || strlen(key) != 64 || !reply)
        return fewshot_error_set(FEWSHOT_EINVAL, "cache put: needs a key and a reply");
    end_read(c);
    char *text = json_dumps(reply, JSON_COMPACT);
    if (!text)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    double now = unix_now();
    sqlite3_bind_text(c->put, 1, key, 64, SQLITE_STATIC);
    sqlite3_bind_text(c->put, 2, endpoint ? endpoint : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(c->put, 3, model ? model : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(c->put, 4, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(c->put, 5, (sqlite3_int64)prompt_tokens);
    sqlite3_bind_int64(c->put, 6, (sqlite3_int64)completion_tokens);
    sqlite3_bind_double(c->put, 7, latency);
    sqlite3_bind_double(c->put, 8, now);
    sqlite3_bind_double(c->put, 9, now);
    int rc = sqlite3_step(c->put) == SQLITE_DONE ? 0 : db_error(c, "storing a reply");
    sqlite3_reset(c->put);
    sqlite3_clear_bindings(c->put);
    free(text);
    return rc;
}

static uint64_t file_size(const char *path, const char *suffix)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s%s", path, suffix);
    return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int fewshot_cache_get_stats(fewshot_cache *c, fewshot_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    flush_hits(c);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT count(*), total(hits), total(length(reply)),"
                           " total(prompt_tokens), total(completion_tokens), min(created),"
                           " max(created) FROM responses", -1, &st, NULL) != SQLITE_OK)
        return db_error(c, "stats");
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->entries = (uint64_t)sqlite3_column_int64(st, 0);
        out->hits = (uint64_t)sqlite3_column_double(st, 1);
        out->bytes = (uint64_t)sqlite3_column_double(st, 2);
        out->prompt_tokens = (uint64_t)sqlite3_column_double(st, 3);
        out->completion_tokens = (uint64_t)sqlite3_column_double(st, 4);
        out->oldest = sqlite3_column_double(st, 5);
        out->newest = sqlite3_column_double(st, 6);
    } else {
        rc = db_error(c, "stats");
    }
    sqlite3_finalize(st);
    if (!rc && sqlite3_prepare_v2(c->db, "SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'hits'",
                                  -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            out->hits = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    out->file_bytes = file_size(c->path, "") + file_size(c->path, "-wal");
    return rc;
}

int fewshot_cache_models(fewshot_cache *c, json_t **out)
{
    *out = NULL;
    flush_hits(c);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT model, endpoint, count(*), total(hits),"
                           " total(length(reply)) FROM responses GROUP BY model, endpoint"
                           " ORDER BY model, endpoint", -1, &st, NULL) != SQLITE_OK)
        return db_error(c, "stats");
    json_t *list = json_array();
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, json_pack(
            "{s:s,s:s,s:I,s:I,s:I}", "model", (const char *)sqlite3_column_text(st, 0),
            "endpoint", (const char *)sqlite3_column_text(st, 1),
            "entries", (json_int_t)sqlite3_column_int64(st, 2),
            "hits", (json_int_t)sqlite3_column_double(st, 3),
            "bytes", (json_int_t)sqlite3_column_double(st, 4)));
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        json_decref(list);
        return db_error(c, "stats");
    }
    *out = list;
    return 0;
}

static int delete_where(fewshot_cache *c, const char *sql, int bind_double, double d,
                        int bind_int, sqlite3_int64 n, uint64_t *removed)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(c, "prune");
    if (bind_double)
        sqlite3_bind_double(st, 1, d);
    if (bind_int)
        sqlite3_bind_int64(st, 1, n);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(c, "prune");
    sqlite3_finalize(st);
    if (!rc)
        *removed += (uint64_t)sqlite3_changes(c->db);
    return rc;
}

/* Give the space back so that removed replies do not linger in the file. */
static int compact(fewshot_cache *c)
{
    return exec(c, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);");
}

int fewshot_cache_prune(fewshot_cache *c, double before, uint64_t max_entries, uint64_t *removed)
{
    uint64_t n = 0;
    if (c->read_only)
        return fewshot_error_set(FEWSHOT_EUNSUPPORTED, "%s: the cache is open read-only",
                                 c->path);
    int rc = flush_hits(c);
    if (!rc && before > 0)
        rc = delete_where(c, "DELETE FROM responses WHERE created < ?", 1, before, 0, 0, &n);
    if (!rc && max_entries > 0)
        rc = delete_where(c, "DELETE FROM responses WHERE key IN (SELECT key FROM responses "
                          "ORDER BY coalesce(last_used, created) DESC LIMIT -1 OFFSET ?)",
                          0, 0, 1, (sqlite3_int64)max_entries, &n);
    if (!rc && n > 0)
        rc = compact(c);
    if (removed)
        *removed = n;
    return rc;
}

int fewshot_cache_clear(fewshot_cache *c, uint64_t *removed)
{
    uint64_t n = 0;
    if (c->read_only)
        return fewshot_error_set(FEWSHOT_EUNSUPPORTED, "%s: the cache is open read-only",
                                 c->path);
    c->n_hits = 0;
    c->total_hits = 0;
    end_read(c);
    int rc = delete_where(c, "DELETE FROM responses", 0, 0, 0, 0, &n);
    if (!rc)
        rc = exec(c, "UPDATE meta SET v = '0' WHERE k = 'hits'");
    if (!rc)
        rc = compact(c);
    if (removed)
        *removed = n;
    return rc;
}
