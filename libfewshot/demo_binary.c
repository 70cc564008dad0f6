/*
 * Demonstration datasets in a compact binary file (fewshot-demos(5), "Binary format"): what
 * the shared store keeps. Loading 100k transitions from JSONL spends most of its time parsing
 * numbers as text; this format holds them as the machine's doubles, the scenarios and sources
 * once each in tables, so a load is a read and a few copies.
 *
 * Layout (host byte order, checked with a byte-order mark):
 *   "FSDEMOS\0" u32 version u32 0x01020304
 *   u64 n + header JSON text (with "transitions": the count)
 *   u64 count of scenarios, each u64 n + JSON text; u64 count of sources, each u64 n + text
 *   u64 transitions, each: u64 episode, u64 step, u32 scenario (or ~0), u32 source (or ~0),
 *   u32 obs_dim, u32 act_dim, u32 features_dim, u8 done, u8 truncated, u16 0, f64 reward,
 *   f64 obs[obs_dim], f64 next_obs[obs_dim], f64 action[act_dim], f32 features[features_dim],
 *   u32 n + terms JSON text (n = 0: none), u32 n + state text (n = ~0: none)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fewshot/demo.h"
#include "fewshot/error.h"
#include "demo_internal.h"

#define MAGIC "FSDEMOS"
#define BIN_VERSION 1u
#define BOM 0x01020304u
#define NONE 0xffffffffu

/* ---- writing ---- */

typedef struct writer {
    FILE *f;
    int failed;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (!w->failed && n && fwrite(p, 1, n, w->f) != n)
        w->failed = 1;
}

static void put_u32(writer *w, uint32_t v)
{
    put(w, &v, sizeof v);
}

static void put_u64(writer *w, uint64_t v)
{
    put(w, &v, sizeof v);
}

static void put_text(writer *w, const char *s, int wide)
{
    size_t n = strlen(s);
    if (wide)
        put_u64(w, n);
    else
        put_u32(w, (uint32_t)n);
    put(w, s, n);
}

static void put_json(writer *w, const json_t *v, int wide)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY);
    if (!text) {
        w->failed = 1;
        return;
    }
    put_text(w, text, wide);
    free(text);
}

/* Index of v in the table (pointer identity, the dataset shares equal scenarios), adding it. */
static uint32_t table_index(json_t *table, json_t *seen, const void *key, json_t *value)
{
    char name[32];
    snprintf(name, sizeof name, "%p", key);
    json_t *have = json_object_get(seen, name);
    if (have)
        return (uint32_t)json_integer_value(have);
    uint32_t i = (uint32_t)json_array_size(table);
    json_array_append(table, value);
    json_object_set_new(seen, name, json_integer(i));
    return i;
}

int fewshot__demos_write_binary(const fewshot_demos *ds, FILE *f)
{
    size_t n = fewshot_demos_count(ds);
    json_t *scen = json_array(), *scen_seen = json_object();
    json_t *srcs = json_array(), *src_seen = json_object();
    uint32_t *si = malloc((n + 1) * sizeof *si), *ci = malloc((n + 1) * sizeof *ci);
    writer w = {f, !si || !ci};
    for (size_t i = 0; i < n && !w.failed; i++) {
        const fewshot_demo *d = fewshot_demos_get(ds, i);
        si[i] = d->scenario ? table_index(scen, scen_seen, d->scenario,
                                          (json_t *)d->scenario) : NONE;
        if (d->source) {
            json_t *s = json_string(d->source);
            ci[i] = table_index(srcs, src_seen, d->source, s);
            json_decref(s);
        } else {
            ci[i] = NONE;
        }
    }
    put(&w, MAGIC, 8);
    put_u32(&w, BIN_VERSION);
    put_u32(&w, BOM);
    /* the count in the header lets a listing show it without reading the transitions */
    json_t *header = json_copy(fewshot_demos_header(ds));
    json_object_set_new(header, "transitions", json_integer((json_int_t)n));
    put_json(&w, header, 1);
    json_decref(header);
    put_u64(&w, json_array_size(scen));
    for (size_t i = 0; i < json_array_size(scen); i++)
        put_json(&w, json_array_get(scen, i), 1);
    put_u64(&w, json_array_size(srcs));
    for (size_t i = 0; i < json_array_size(srcs); i++)
        put_text(&w, json_string_value(json_array_get(srcs, i)), 1);
    put_u64(&w, n);
    for (size_t i = 0; i < n && !w.failed; i++) {
        const fewshot_demo *d = fewshot_demos_get(ds, i);
        uint8_t flags[4] = {(uint8_t)!!d->done, (uint8_t)!!d->truncated, 0, 0};
        put_u64(&w, d->episode);
        put_u64(&w, d->step);
        put_u32(&w, si[i]);
        put_u32(&w, ci[i]);
        put_u32(&w, (uint32_t)d->obs_dim);
        put_u32(&w, (uint32_t)d->act_dim);
        put_u32(&w, (uint32_t)d->features_dim);
        put(&w, flags, 4);
        put(&w, &d->reward, sizeof d->reward);
        put(&w, d->obs, d->obs_dim * sizeof *d->obs);
        put(&w, d->next_obs, d->obs_dim * sizeof *d->next_obs);
        put(&w, d->action, d->act_dim * sizeof *d->action);
        put(&w, d->features, d->features_dim * sizeof *d->features);
        if (d->terms)
            put_json(&w, d->terms, 0);
        else
            put_u32(&w, 0);
        if (d->text)
            put_text(&w, d->text, 0);
        else
            put_u32(&w, NONE);
    }
    free(si), free(ci);
    json_decref(scen), json_decref(scen_seen), json_decref(srcs), json_decref(src_seen);
    return w.failed ? -1 : 0;
}

/* ---- reading ---- */

typedef struct reader {
    const char *path;
    FILE *f;                    /* read as a stream: a whole 1M-transition file in memory
                                 * would add its size to the peak */
    size_t item;                /* transition being read, for messages (0: the tables) */
    char *text;                 /* scratch for JSON texts */
    size_t text_cap;
} reader;

static int truncated(const reader *r)
{
    if (ferror(r->f))
        return fewshot_error_set_at(FEWSHOT_EIO, r->path, 0, 0, "read error: %s",
                                    strerror(errno));
    if (r->item)
        return fewshot_error_set_at(FEWSHOT_EPARSE, r->path, 0, 0, "binary demonstrations: "
                                    "transition %zu is cut short (a truncated file)", r->item);
    return fewshot_error_set_at(FEWSHOT_EPARSE, r->path, 0, 0, "binary demonstrations: the "
                                "header or tables are cut short (a truncated file)");
}

static int take(reader *r, void *out, size_t n)
{
    if (n && fread(out, 1, n, r->f) != n)
        return truncated(r);
    return 0;
}

/* Whether n more bytes can be in the file: sizes come from the file itself, so a corrupt
 * one must not make us allocate gigabytes before the read finds it truncated. Streams that
 * are not regular files pass (the caps below still hold). */
static int fits(const reader *r, size_t n)
{
    struct stat st;
    off_t at = ftello(r->f);
    if (at < 0 || fstat(fileno(r->f), &st) != 0 || !S_ISREG(st.st_mode))
        return 1;
    return st.st_size >= at && (uintmax_t)(st.st_size - at) >= (uintmax_t)n;
}

/* n bytes of text into the scratch buffer, NUL-terminated. */
static int take_text(reader *r, size_t n)
{
    if (!fits(r, n))
        return truncated(r);
    if (n >= r->text_cap) {
        if (n > ((size_t)1 << 31))
            return fewshot_error_set_at(FEWSHOT_EPARSE, r->path, 0, 0, "binary demonstrations: "
                                        "a text of %zu bytes at transition %zu", n, r->item);
        char *more = realloc(r->text, n + 1);
        if (!more)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        r->text = more;
        r->text_cap = n + 1;
    }
    int rc = take(r, r->text, n);
    if (rc == 0)
        r->text[n] = '\0';
    return rc;
}

static int take_json(reader *r, size_t n, json_t **out, const char *what)
{
    int rc = take_text(r, n);
    if (rc)
        return rc;
    json_error_t err;
    *out = json_loadb(r->text, n, JSON_DECODE_ANY, &err);
    if (!*out)
        return fewshot_error_set_at(FEWSHOT_EPARSE, r->path, 0, 0, "binary demonstrations: %s "
                                    "of transition %zu: %s", what, r->item, err.text);
    return 0;
}

static int read_tables(reader *r, json_t *scen, json_t *srcs)
{
    uint64_t count = 0, n = 0;
    int rc;
    if ((rc = take(r, &count, sizeof count)))
        return rc;
    for (uint64_t i = 0; i < count; i++) {
        json_t *v;
        if ((rc = take(r, &n, sizeof n)) || (rc = take_json(r, n, &v, "a scenario")))
            return rc;
        if (!json_is_object(v)) {
            json_decref(v);
            return fewshot_error_set_at(FEWSHOT_EPARSE, r->path, 0, 0, "binary demonstrations: "
                                        "scenario %llu is not an object",
                                        (unsigned long long)i);
        }
        json_array_append_new(scen, v);
    }
    if ((rc = take(r, &count, sizeof count)))
        return rc;
    for (uint64_t i = 0; i < count; i++) {
        if ((rc = take(r, &n, sizeof n)) || (rc = take_text(r, n)))
            return rc;
        json_array_append_new(srcs, json_stringn(r->text, n));
    }
    return 0;
}

typedef struct fixed {
    uint64_t episode, step;
    uint32_t scenario, source, obs_dim, act_dim, features_dim;
    uint8_t flags[4];
    double reward;
} fixed;

#define FIXED_BYTES (2 * 8 + 5 * 4 + 4 + 8)

static int read_transition(reader *r, fewshot_demos *ds, json_t *scen, json_t *srcs,
                           double **buf, size_t *cap)
{
    fixed x;
    unsigned char raw[FIXED_BYTES];
    int rc;
    if ((rc = take(r, raw, FIXED_BYTES)))
        return rc;
    memcpy(&x.episode, raw, 8), memcpy(&x.step, raw + 8, 8);
    memcpy(&x.scenario, raw + 16, 4), memcpy(&x.source, raw + 20, 4);
    memcpy(&x.obs_dim, raw + 24, 4), memcpy(&x.act_dim, raw + 28, 4);
    memcpy(&x.features_dim, raw + 32, 4), memcpy(x.flags, raw + 36, 4);
    memcpy(&x.reward, raw + 40, 8);
    if ((x.scenario != NONE && x.scenario >= json_array_size(scen)) ||
        (x.source != NONE && x.source >= json_array_size(srcs)) || x.obs_dim > (1u << 24) ||
        x.act_dim > (1u << 24) || x.features_dim > (1u << 24) || x.obs_dim == 0 ||
        x.act_dim == 0)     /* (a transition without observation or action is none) */
        return fewshot_error_set_at(FEWSHOT_EPARSE, r->path, 0, 0, "binary demonstrations: "
                                    "transition %zu refers to a scenario or source that is "
                                    "not in the tables, or has impossible dimensions", r->item);
    size_t nd = 2 * (size_t)x.obs_dim + x.act_dim;
    size_t need = nd * sizeof(double) + x.features_dim * sizeof(float);
    if (!fits(r, need))
        return truncated(r);
    if (need > *cap * sizeof(double)) {
        size_t ncap = need / sizeof(double) + 1;
        double *nb = realloc(*buf, ncap * sizeof *nb);
        if (!nb)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        *buf = nb, *cap = ncap;
    }
    if ((rc = take(r, *buf, need)))
        return rc;
    uint32_t n = 0;
    json_t *terms = NULL;
    char *text = NULL;
    if ((rc = take(r, &n, sizeof n)) || (n && (rc = take_json(r, n, &terms, "reward terms"))))
        return rc;
    if ((rc = take(r, &n, sizeof n))) {
        json_decref(terms);
        return rc;
    }
    if (n != NONE) {
        if ((rc = take_text(r, n))) {
            json_decref(terms);
            return rc;
        }
        text = r->text;
    }
    fewshot_demo d = {
        .episode = x.episode, .step = x.step,
        .scenario = x.scenario == NONE ? NULL : json_array_get(scen, x.scenario),
        .obs = *buf, .obs_dim = x.obs_dim, .next_obs = *buf + x.obs_dim,
        .action = *buf + 2 * (size_t)x.obs_dim, .act_dim = x.act_dim, .reward = x.reward,
        .terms = terms, .done = x.flags[0], .truncated = x.flags[1],
        .features = x.features_dim ? (const float *)(*buf + nd) : NULL,
        .features_dim = x.features_dim, .text = text,
        .source = x.source == NONE ? NULL : json_string_value(json_array_get(srcs, x.source)),
    };
    rc = fewshot_demos_add(ds, &d);
    if (rc) {
        char msg[1024];
        snprintf(msg, sizeof msg, "transition %zu: %s", r->item, fewshot_error_last()->message);
        rc = fewshot_error_set_at(rc, r->path, 0, 0, "%s", msg);
    }
    json_decref(terms);
    return rc;
}

int fewshot__demos_is_binary(const unsigned char *head, size_t n)
{
    return n >= 8 && memcmp(head, MAGIC, 8) == 0;
}

int fewshot__demos_read_binary_header(FILE *f, const char *path, json_t **out)
{
    reader r = {path, f, 0, NULL, 0};
    char magic[8];
    uint32_t version = 0, bom = 0;
    uint64_t n = 0;
    int rc;
    *out = NULL;
    if ((rc = take(&r, magic, 8)) == 0 && (rc = take(&r, &version, 4)) == 0 &&
        (rc = take(&r, &bom, 4)) == 0 && (bom != BOM || version != BIN_VERSION))
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0, "binary demonstrations: %s",
                                  bom != BOM ? "another byte order" : "unsupported version");
    if (rc == 0 && (rc = take(&r, &n, 8)) == 0)
        rc = take_json(&r, n, out, "the header");
    free(r.text);
    return rc;
}

int fewshot__demos_read_binary(FILE *f, const char *path, fewshot_demos **out)
{
    reader r = {path, f, 0, NULL, 0};
    char magic[8];
    uint32_t version = 0, bom = 0;
    uint64_t n = 0, count = 0;
    json_t *header = NULL, *scen = json_array(), *srcs = json_array();
    fewshot_demos *ds = NULL;
    double *buf = NULL;
    size_t cap = 0;
    int rc;
    *out = NULL;
    if ((rc = take(&r, magic, 8)) || (rc = take(&r, &version, 4)) || (rc = take(&r, &bom, 4)))
        goto done;
    if (bom != BOM || version != BIN_VERSION) {
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0, "binary demonstrations: %s (this "
                                  "library reads version %u in its own byte order)",
                                  bom != BOM ? "another byte order" : "unsupported version",
                                  BIN_VERSION);
        goto done;
    }
    if ((rc = take(&r, &n, 8)) || (rc = take_json(&r, n, &header, "the header")))
        goto done;
    if (!json_is_object(header)) {
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0, "binary demonstrations: the "
                                  "header is not an object");
        goto done;
    }
    json_object_del(header, "transitions");     /* derived: the dataset counts itself */
    if ((rc = read_tables(&r, scen, srcs)) || (rc = take(&r, &count, 8)) ||
        (rc = fewshot_demos_new(&ds, header)))
        goto done;
    for (uint64_t i = 0; i < count && rc == 0; i++) {
        r.item = i + 1;
        rc = read_transition(&r, ds, scen, srcs, &buf, &cap);
    }
    if (rc == 0 && getc(f) != EOF)
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0, "binary demonstrations: bytes "
                                  "after the last transition");
done:
    free(buf);
    free(r.text);
    json_decref(header), json_decref(scen), json_decref(srcs);
    if (rc) {
        fewshot_demos_free(ds);
        return rc;
    }
    *out = ds;
    return 0;
}
