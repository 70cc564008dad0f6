/*
 * Embedders: the dispatch over function tables, identities, and their check against an index.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/demo.h"
#include "fewshot/embed.h"
#include "fewshot/error.h"
#include "retrieval_internal.h"

struct fewshot_embedder {
    const fewshot_embedder_ops *ops;
    void *self;
};

void fewshot__l2_normalize(float *x, size_t n, size_t dim)
{
    for (size_t i = 0; i < n; i++) {
        float *v = x + i * dim;
        double s = 0;
        for (size_t j = 0; j < dim; j++)
            s += (double)v[j] * v[j];
        if (s > 0) {
            float inv = (float)(1.0 / sqrt(s));
            for (size_t j = 0; j < dim; j++)
                v[j] *= inv;
        }
    }
}

int fewshot_embedder_options_init(fewshot_embedder_options *opts, unsigned int version)
{
    if (!opts || version < 1 || version > FEWSHOT_EMBEDDER_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_embedder_options_init: version %u is "
                                 "not 1 to %d", version, FEWSHOT_EMBEDDER_OPTIONS_VERSION);
    fewshot_embedder_options init = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    init.version = version;
    memcpy(opts, &init, version == 1 ? offsetof(fewshot_embedder_options, scaling) : sizeof init);
    return 0;
}

int fewshot_embedder_new_ops(fewshot_embedder **out, const fewshot_embedder_ops *ops, void *self)
{
    *out = NULL;
    if (!ops || ops->version != FEWSHOT_EMBEDDER_OPS_VERSION || !ops->kind || !ops->embed ||
        !ops->dim || !ops->identity)
        return fewshot_error_set(FEWSHOT_EINVAL, "embedder table: version %d with kind, embed, "
                                 "dim and identity is required", FEWSHOT_EMBEDDER_OPS_VERSION);
    fewshot_embedder *e = calloc(1, sizeof *e);
    if (!e)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    e->ops = ops;
    e->self = self;
    *out = e;
    return 0;
}

int fewshot_embedder_new(fewshot_embedder **out, const fewshot_embedder_options *opts)
{
    fewshot_embedder_options def = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    *out = NULL;
    if (!opts)
        opts = &def;
    if (opts->version < 1 || opts->version > FEWSHOT_EMBEDDER_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "embedder options: version %u is not 1 to %d",
                                 opts->version, FEWSHOT_EMBEDDER_OPTIONS_VERSION);
    /* a version 1 struct ends before the scaling fields: read them as their defaults */
    if (opts->version == 1) {
        memcpy(&def, opts, offsetof(fewshot_embedder_options, scaling));
        def.version = 1;
        opts = &def;
    }
    const char *kind = opts->kind ? opts->kind : "features";
    const fewshot_embedder_ops *ops;
    void *self = NULL;
    int rc;
    if (strcmp(kind, "features") == 0)
        rc = fewshot__embed_features_new(&ops, &self, opts);
    else if (strcmp(kind, "text-hash") == 0)
        rc = fewshot__embed_text_hash_new(&ops, &self, opts);
    else if (strcmp(kind, "remote") == 0)
        rc = fewshot__embed_remote_new(&ops, &self, opts);
    else
        return fewshot_error_set(FEWSHOT_EINVAL, "unknown embedder '%s' (features, text-hash, "
                                 "remote)", kind);
    if (rc)
        return rc;
    if ((rc = fewshot_embedder_new_ops(out, ops, self)))
        ops->destroy(self);
    return rc;
}

void fewshot_embedder_free(fewshot_embedder *e)
{
    if (!e)
        return;
    if (e->ops->destroy)
        e->ops->destroy(e->self);
    free(e);
}

const char *fewshot_embedder_kind(const fewshot_embedder *e)
{
    return e ? e->ops->kind : NULL;
}

size_t fewshot_embedder_dim(const fewshot_embedder *e)
{
    return e ? e->ops->dim(e->self) : 0;
}

int fewshot_embedder_fit(fewshot_embedder *e, size_t n, const fewshot_embed_input *in)
{
    if (!e || (n && !in))
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_embedder_fit: NULL argument");
    return e->ops->fit ? e->ops->fit(e->self, n, in) : 0;
}

int fewshot_embedder_embed(fewshot_embedder *e, size_t n, const fewshot_embed_input *in,
                           float *out)
{
    if (!e || (n && (!in || !out)))
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_embedder_embed: NULL argument");
    if (n == 0)
        return 0;
    int rc = e->ops->embed(e->self, n, in, out);
    if (rc == 0 && (rc = fewshot__check_finite_rows(out, n, fewshot_embedder_dim(e),
                                                    e->ops->kind)))
        fewshot_error_prefix("embedder produced a bad vector");
    return rc;
}

int fewshot_embedder_identity(const fewshot_embedder *e, json_t **out)
{
    if (!e || !out)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_embedder_identity: NULL argument");
    return e->ops->identity(e->self, out);
}

int fewshot_embedder_stamp(const fewshot_embedder *e, fewshot_index *ix)
{
    json_t *id;
    int rc = fewshot_embedder_identity(e, &id);
    if (rc)
        return rc;
    if (fewshot_embedder_dim(e) != fewshot_index_dim(ix)) {
        json_decref(id);
        return fewshot_error_set(FEWSHOT_EMISMATCH, "embedder %s makes %zu-dimensional vectors "
                                 "but the index holds %zu", e->ops->kind, fewshot_embedder_dim(e),
                                 fewshot_index_dim(ix));
    }
    rc = fewshot_index_set_meta(ix, "embedder", id);
    json_decref(id);
    return rc;
}

/* "features (dim 3, normalize false)" */
static void describe(const json_t *id, char *buf, size_t size)
{
    json_t *copy = json_deep_copy(id);
    json_object_del(copy, "state");
    json_object_del(copy, "kind");
    char *rest = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(buf, size, "%s %s", json_string_value(json_object_get(id, "kind")) ?: "?",
             rest ? rest : "");
    free(rest);
    json_decref(copy);
}

int fewshot_embedder_match(fewshot_embedder *e, const fewshot_index *ix)
{
    if (!e || !ix)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_embedder_match: NULL argument");
    json_t *have = json_object_get(fewshot_index_meta(ix), "embedder");
    if (!json_is_object(have))
        return fewshot_error_set(FEWSHOT_EMISMATCH, "the index records no embedder: rebuild it "
                                 "with fewshot_embedder_stamp()");
    json_t *mine;
    int rc = fewshot_embedder_identity(e, &mine);
    if (rc)
        return rc;
    /* compare everything but the fitted state and, for an embedder that does not know its
     * dimension yet, the dimension */
    json_t *a = json_deep_copy(have), *b = json_deep_copy(mine);
    json_object_del(a, "state");
    json_object_del(b, "state");
    if (json_integer_value(json_object_get(b, "dim")) == 0) {
        json_object_del(a, "dim");
        json_object_del(b, "dim");
    }
    if (!json_equal(a, b)) {
        char x[512], y[512];
        describe(have, x, sizeof x);
        describe(mine, y, sizeof y);
        rc = fewshot_error_set(FEWSHOT_EMISMATCH, "the index was built by embedder %s but the "
                               "query embedder is %s: rebuild the index or use the same "
                               "embedder", x, y);
    } else if (e->ops->restore) {
        rc = e->ops->restore(e->self, have);
    }
    if (rc == 0 && fewshot_embedder_dim(e) != fewshot_index_dim(ix))
        rc = fewshot_error_set(FEWSHOT_EMISMATCH, "embedder %s makes %zu-dimensional vectors but "
                               "the index holds %zu", e->ops->kind, fewshot_embedder_dim(e),
                               fewshot_index_dim(ix));
    json_decref(a);
    json_decref(b);
    json_decref(mine);
    return rc;
}

int fewshot_embed_inputs_from_demos(const fewshot_demos *ds, fewshot_embed_input **out)
{
    size_t n = fewshot_demos_count(ds);
    *out = NULL;
    fewshot_embed_input *in = calloc(n ? n : 1, sizeof *in);
    if (!in)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const fewshot_demo *d = fewshot_demos_get(ds, i);
        if (!d->features && !d->text) {
            free(in);
            return fewshot_error_set(FEWSHOT_EINVAL, "demonstration %zu (episode %llu, step "
                                     "%llu) has neither features nor text to embed", i,
                                     (unsigned long long)d->episode,
                                     (unsigned long long)d->step);
        }
        in[i] = (fewshot_embed_input){d->features, d->features_dim, d->text};
    }
    *out = in;
    return 0;
}
