/*
 * Demonstration datasets as JSONL (fewshot-demos(5)): a header line, then one transition per
 * line. Loading is all or nothing: the first fault names its file, line and field.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/demo.h"
#include "fewshot/error.h"
#include "demo_internal.h"
#include "internal.h"
#include "retrieval_internal.h"

#define FORMAT_KEY "fewshot_demos"
#define FORMAT_VERSION 1
#define DEMO_LINE_MAX (16 << 20)   /* bytes per JSONL line: far above any real transition */

static const char *const fields[] = {"episode", "step", "scenario", "obs", "action", "reward",
                                     "terms", "next_obs", "done", "truncated", "features",
                                     "text", "source", NULL};

typedef struct reader {
    const char *path;
    int line;
} reader;

static int bad(const reader *r, int code, const char *field, const char *fmt, const char *what)
{
    if (field)
        return fewshot_error_set_at(code, r->path, r->line, 0, "$.%s: %s", field, what ? what : fmt);
    return fewshot_error_set_at(code, r->path, r->line, 0, "%s", what ? what : fmt);
}

/* A JSON array of numbers into a new double array. */
static int get_doubles(const reader *r, json_t *obj, const char *key, double **out, size_t *n)
{
    json_t *a = json_object_get(obj, key);
    char msg[160];
    if (!a)
        return bad(r, FEWSHOT_EPARSE, key, NULL, "missing (an array of numbers is required)");
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(r, FEWSHOT_EPARSE, key, NULL, "expected a non-empty array of numbers");
    *n = json_array_size(a);
    *out = malloc(*n * sizeof **out);
    if (!*out)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_number(v)) {
            free(*out);
            *out = NULL;
            snprintf(msg, sizeof msg, "element %zu is not a number", i);
            return bad(r, FEWSHOT_EPARSE, key, NULL, msg);
        }
        (*out)[i] = json_number_value(v);
    }
    return 0;
}

static int get_u64(const reader *r, json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return bad(r, FEWSHOT_EPARSE, key, NULL, "missing (a non-negative integer is required)");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(r, FEWSHOT_EPARSE, key, NULL, "expected a non-negative integer");
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int check_keys(const reader *r, json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        size_t i = 0;
        while (fields[i] && strcmp(fields[i], key) != 0)
            i++;
        if (!fields[i]) {
            char msg[200];
            snprintf(msg, sizeof msg, "unknown field '%.80s' (see fewshot-demos(5))", key);
            return bad(r, FEWSHOT_EPARSE, NULL, NULL, msg);
        }
    }
    return 0;
}

/* Parse one transition line into d (owning its arrays). */
static int parse_transition(const reader *r, json_t *obj, fewshot_demo *d, double **arrays,
                            float **features)
{
    int rc;
    double *obs = NULL, *next = NULL, *act = NULL, *feat = NULL;
    size_t n_next = 0, n_feat = 0;
    memset(d, 0, sizeof *d);
    if ((rc = check_keys(r, obj)) || (rc = get_u64(r, obj, "episode", &d->episode)) ||
        (rc = get_u64(r, obj, "step", &d->step)) ||
        (rc = get_doubles(r, obj, "obs", &obs, &d->obs_dim)) ||
        (rc = get_doubles(r, obj, "action", &act, &d->act_dim)) ||
        (rc = get_doubles(r, obj, "next_obs", &next, &n_next)))
        goto fail;
    arrays[0] = obs, arrays[1] = act, arrays[2] = next;
    if (n_next != d->obs_dim) {
        char msg[120];
        snprintf(msg, sizeof msg, "has %zu values but obs has %zu", n_next, d->obs_dim);
        rc = bad(r, FEWSHOT_EMISMATCH, "next_obs", NULL, msg);
        goto fail;
    }
    json_t *v = json_object_get(obj, "reward");
    if (!json_is_number(v)) {
        rc = bad(r, FEWSHOT_EPARSE, "reward", NULL, v ? "expected a number" : "missing");
        goto fail;
    }
    d->reward = json_number_value(v);
    v = json_object_get(obj, "scenario");
    if (v && !json_is_object(v) && !json_is_null(v)) {
        rc = bad(r, FEWSHOT_EPARSE, "scenario", NULL, "expected an object of parameters");
        goto fail;
    }
    d->scenario = json_is_object(v) ? v : NULL;
    v = json_object_get(obj, "terms");
    if (v && !json_is_object(v) && !json_is_null(v)) {
        rc = bad(r, FEWSHOT_EPARSE, "terms", NULL, "expected an object of reward terms");
        goto fail;
    }
    d->terms = json_is_object(v) ? v : NULL;
    static const char *const flags[] = {"done", "truncated"};
    for (int i = 0; i < 2; i++) {
        v = json_object_get(obj, flags[i]);
        if (v && !json_is_boolean(v)) {
            rc = bad(r, FEWSHOT_EPARSE, flags[i], NULL, "expected true or false");
            goto fail;
        }
        *(i ? &d->truncated : &d->done) = json_is_true(v);
    }
    static const char *const strs[] = {"text", "source"};
    for (int i = 0; i < 2; i++) {
        v = json_object_get(obj, strs[i]);
        if (v && !json_is_string(v) && !json_is_null(v)) {
            rc = bad(r, FEWSHOT_EPARSE, strs[i], NULL, "expected a string");
            goto fail;
        }
        *(i ? &d->source : &d->text) = json_string_value(v);
    }
    if (json_object_get(obj, "features") && !json_is_null(json_object_get(obj, "features"))) {
        if ((rc = get_doubles(r, obj, "features", &feat, &n_feat)))
            goto fail;
        *features = malloc(n_feat * sizeof **features);
        if (!*features) {
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < n_feat; i++)
            (*features)[i] = (float)feat[i];
        free(feat);
        d->features = *features;
        d->features_dim = n_feat;
    }
    d->obs = obs, d->action = act, d->next_obs = next;
    return 0;
fail:
    free(obs), free(act), free(next), free(feat);
    arrays[0] = arrays[1] = arrays[2] = NULL;
    return rc;
}

static int parse_header(const reader *r, json_t *obj)
{
    json_t *v = json_object_get(obj, FORMAT_KEY);
    if (!json_is_object(obj) || !v)
        return bad(r, FEWSHOT_EPARSE, NULL, NULL, "not a demonstrations file: the first line must "
                   "be a header {\"" FORMAT_KEY "\": 1, \"plugin\": ...} (see fewshot-demos(5))");
    if (!json_is_integer(v) || json_integer_value(v) != FORMAT_VERSION)
        return bad(r, FEWSHOT_EPARSE, FORMAT_KEY, NULL, "unsupported format version (this "
                   "library reads version 1)");
    static const char *const strs[] = {"plugin", "plugin_version", "policy"};
    for (int i = 0; i < 3; i++) {
        v = json_object_get(obj, strs[i]);
        if (v && !json_is_string(v))
            return bad(r, FEWSHOT_EPARSE, strs[i], NULL, "expected a string");
    }
    v = json_object_get(obj, "params");
    if (v && !json_is_object(v))
        return bad(r, FEWSHOT_EPARSE, "params", NULL, "expected an object");
    return 0;
}

static int load_stream(FILE *f, const char *path, fewshot_demos **out)
{
    reader r = {path, 0};
    char *line = NULL;
    size_t cap = 0, len;
    fewshot_demos *ds = NULL;
    int rc = 0, got;
    size_t obs_dim_of_episode = 0;
    uint64_t last_episode = UINT64_MAX;

    while ((got = fewshot__read_line(f, &line, &cap, DEMO_LINE_MAX, &len)) != 0) {
        r.line++;
        if (got < 0) {
            rc = got == -2 ? fewshot_error_set(FEWSHOT_ENOMEM, "out of memory")
                           : fewshot_error_set_at(FEWSHOT_EPARSE, path, r.line, 0, "line longer "
                                                  "than %d MiB: not a demonstrations file",
                                                  DEMO_LINE_MAX >> 20);
            break;
        }
        int complete = len > 0 && line[len - 1] == '\n';
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        json_error_t err;
        json_t *obj = json_loadb(line, (size_t)len, 0, &err);
        if (!obj) {
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, r.line, err.column, "%s%s",
                                      complete ? "" : "truncated last line (no end of line): ",
                                      err.text);
            break;
        }
        if (!ds) {
            if ((rc = parse_header(&r, obj)) == 0 && (rc = fewshot_demos_new(&ds, obj)) == 0)
                json_object_del(fewshot_demos_header(ds), FORMAT_KEY);
            json_decref(obj);
            if (rc)
                break;
            continue;
        }
        fewshot_demo d;
        double *arrays[3] = {NULL, NULL, NULL};
        float *features = NULL;
        rc = parse_transition(&r, obj, &d, arrays, &features);
        if (rc == 0) {
            if (d.episode == last_episode && d.obs_dim != obs_dim_of_episode) {
                char msg[160];
                snprintf(msg, sizeof msg, "has %zu values but earlier steps of episode %llu have "
                         "%zu", d.obs_dim, (unsigned long long)d.episode, obs_dim_of_episode);
                rc = bad(&r, FEWSHOT_EMISMATCH, "obs", NULL, msg);
            } else if ((rc = fewshot_demos_add(ds, &d)) != 0) {
                /* keep the library's message, add where it is */
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", fewshot_error_last()->message);
                rc = fewshot_error_set_at(rc, path, r.line, 0, "%s", msg);
            }
            last_episode = d.episode;
            obs_dim_of_episode = d.obs_dim;
        }
        free(arrays[0]), free(arrays[1]), free(arrays[2]), free(features);
        json_decref(obj);
        if (rc)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = fewshot_error_set_at(FEWSHOT_EIO, path, r.line, 0, "read error: %s", strerror(errno));
    if (rc == 0 && !ds)
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0, "empty file: a demonstrations file "
                                  "starts with a header line (see fewshot-demos(5))");
    free(line);
    if (rc) {
        fewshot_demos_free(ds);
        return rc;
    }
    *out = ds;
    return 0;
}

/* A file starting with 'F': the binary format when its magic says so, else JSONL (whose
 * reader then names the fault). */
static int load_binary(FILE *f, const char *path, fewshot_demos **out)
{
    unsigned char head[8];
    size_t got = fread(head, 1, sizeof head, f);
    rewind(f);
    if (fewshot__demos_is_binary(head, got))
        return fewshot__demos_read_binary(f, path, out);
    return load_stream(f, path, out);
}

int fewshot_demos_load_header(const char *path, json_t **header)
{
    if (!path || !header)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_load_header: NULL argument");
    *header = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fewshot_error_set_at(errno == ENOENT ? FEWSHOT_ENOTFOUND : FEWSHOT_EIO, path, 0, 0,
                                    "cannot open: %s", strerror(errno));
    unsigned char head[8];
    size_t got = fread(head, 1, sizeof head, f);
    rewind(f);
    int rc;
    if (fewshot__demos_is_binary(head, got)) {
        rc = fewshot__demos_read_binary_header(f, path, header);
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len = getline(&line, &cap, f);
        json_error_t err;
        reader r = {path, 1};
        json_t *obj = len > 0 ? json_loadb(line, (size_t)len, 0, &err) : NULL;
        if (!obj)
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, 1, len > 0 ? err.column : 0, "%s",
                                      len > 0 ? err.text : "empty file");
        else if ((rc = parse_header(&r, obj)) == 0)
            json_object_del(obj, FORMAT_KEY);
        if (rc == 0)
            *header = obj;
        else
            json_decref(obj);
        free(line);
    }
    fclose(f);
    return rc;
}

int fewshot__demos_binary_name(const char *path)
{
    size_t n = strlen(path);
    return n > 5 && strcmp(path + n - 5, ".fsdb") == 0;
}

int fewshot_demos_load(fewshot_demos **out, const char *path)
{
    if (!out || !path)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_load: NULL argument");
    *out = NULL;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return fewshot_error_set_at(errno == ENOENT ? FEWSHOT_ENOTFOUND : FEWSHOT_EIO, path, 0, 0,
                                    "cannot open: %s", strerror(errno));
    int c = getc(f), rc;
    if (c != EOF)
        ungetc(c, f);
    if (c == 'F' && f != stdin)
        rc = load_binary(f, path, out);
    else
        rc = load_stream(f, path, out);
    if (f != stdin)
        fclose(f);
    return rc;
}

static json_t *doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

static json_t *transition_json(const fewshot_demo *d)
{
    json_t *o = json_pack("{s:I, s:I, s:O?, s:o, s:o, s:f, s:O?, s:o, s:b, s:b}", "episode",
                          (json_int_t)d->episode, "step", (json_int_t)d->step, "scenario",
                          d->scenario, "obs", doubles(d->obs, d->obs_dim), "action",
                          doubles(d->action, d->act_dim), "reward", d->reward, "terms", d->terms,
                          "next_obs", doubles(d->next_obs, d->obs_dim), "done", d->done,
                          "truncated", d->truncated);
    if (!o)
        return NULL;
    if (d->features_dim) {
        json_t *a = json_array();
        for (size_t i = 0; i < d->features_dim; i++)
            json_array_append_new(a, json_real(d->features[i]));
        json_object_set_new(o, "features", a);
    }
    if (d->text)
        json_object_set_new(o, "text", json_string(d->text));
    if (d->source)
        json_object_set_new(o, "source", json_string(d->source));
    return o;
}

static int write_line(FILE *f, json_t *o, size_t flags)
{
    if (!o)
        return -1;
    int rc = json_dumpf(o, f, flags) || fputc('\n', f) == EOF ? -1 : 0;
    json_decref(o);
    return rc;
}

int fewshot_demos_save(const fewshot_demos *ds, const char *path)
{
    if (!ds || !path)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_save: NULL argument");
    int to_stdout = strcmp(path, "-") == 0;
    char *tmp = NULL;
    FILE *f = stdout;
    int rc;
    /* a unique temporary file per writer, renamed over path: concurrent writers never share
     * one, and readers never see half a file */
    if (!to_stdout && (rc = fewshot__atomic_open(path, &f, &tmp)) != 0)
        return rc;
    if (!to_stdout && fewshot__demos_binary_name(path)) {
        rc = fewshot__demos_write_binary(ds, f);
    } else {
        json_t *header = json_pack("{s:i}", FORMAT_KEY, FORMAT_VERSION);
        json_object_update(header, fewshot_demos_header(ds));
        rc = write_line(f, header, JSON_COMPACT | JSON_REAL_PRECISION(17));
        for (size_t i = 0; rc == 0 && i < fewshot_demos_count(ds); i++)
            rc = write_line(f, transition_json(fewshot_demos_get(ds, i)),
                            JSON_COMPACT | JSON_REAL_PRECISION(17));
    }
    if (to_stdout)
        return rc || fflush(f) ? fewshot_error_set(FEWSHOT_EIO, "cannot write to stdout") : 0;
    if (rc) {
        int err = errno ? errno : EIO;
        fewshot__atomic_abort(f, tmp);
        return fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot write: %s", strerror(err));
    }
    return fewshot__atomic_commit(f, tmp, path);
}
