/*
 * The "text-hash" embedder: signed feature hashing of character n-grams. Text is lowercased
 * (ASCII) and runs of white space become one space, so layout does not change the vector.
 * The hash is FNV-1a (64 bits) over the seed and the n-gram: the same text, settings and seed
 * give the same vector on every platform.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/embed.h"
#include "fewshot/error.h"
#include "retrieval_internal.h"

typedef struct text_hash {
    size_t dim;
    unsigned ngram_min, ngram_max;
    uint64_t seed;
    int normalize;
} text_hash;

static size_t th_dim(void *self)
{
    return ((text_hash *)self)->dim;
}

static char *canonical(const char *text)
{
    size_t n = strlen(text), k = 0;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    int space = 1;      /* drop leading space */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (isspace(c)) {
            if (!space)
                s[k++] = ' ';
            space = 1;
            continue;
        }
        s[k++] = (char)tolower(c);
        space = 0;
    }
    if (k && s[k - 1] == ' ')
        k--;
    s[k] = '\0';
    return s;
}

static uint64_t fnv1a(uint64_t seed, const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 8; i++) {
        h ^= (seed >> (8 * i)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int th_embed(void *self, size_t n, const fewshot_embed_input *in, float *out)
{
    text_hash *t = self;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].text)
            return fewshot_error_set(FEWSHOT_EINVAL, "text-hash embedder: input %zu has no text",
                                     i);
        char *s = canonical(in[i].text);
        if (!s)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        float *v = out + i * t->dim;
        memset(v, 0, t->dim * sizeof *v);
        size_t len = strlen(s);
        for (unsigned g = t->ngram_min; g <= t->ngram_max; g++)
            for (size_t p = 0; p + g <= len; p++) {
                uint64_t h = fnv1a(t->seed + g, s + p, g);
                v[(h >> 1) % t->dim] += (h & 1) ? 1.0f : -1.0f;
            }
        free(s);
    }
    if (t->normalize)
        fewshot__l2_normalize(out, n, t->dim);
    return 0;
}

static int th_identity(void *self, json_t **out)
{
    text_hash *t = self;
    *out = json_pack("{s:s, s:I, s:b, s:i, s:i, s:I}", "kind", "text-hash", "dim",
                     (json_int_t)t->dim, "normalize", t->normalize, "ngram_min", t->ngram_min,
                     "ngram_max", t->ngram_max, "seed", (json_int_t)t->seed);
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}

static void th_destroy(void *self)
{
    free(self);
}

static const fewshot_embedder_ops text_hash_ops = {
    .version = FEWSHOT_EMBEDDER_OPS_VERSION,
    .kind = "text-hash",
    .embed = th_embed,
    .dim = th_dim,
    .identity = th_identity,
    .destroy = th_destroy,
};

int fewshot__embed_text_hash_new(const fewshot_embedder_ops **ops, void **self,
                                 const fewshot_embedder_options *o)
{
    unsigned lo = o->ngram_min ? o->ngram_min : 2, hi = o->ngram_max ? o->ngram_max : 4;
    if (lo > hi || hi > 16)
        return fewshot_error_set(FEWSHOT_EINVAL, "text-hash embedder: n-gram lengths %u..%u "
                                 "must satisfy 1 <= min <= max <= 16", lo, hi);
    if (o->dim > 1048576)
        return fewshot_error_set(FEWSHOT_EINVAL, "text-hash embedder: dim %zu is too large",
                                 o->dim);
    text_hash *t = calloc(1, sizeof *t);
    if (!t)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    t->dim = o->dim ? o->dim : 256;
    t->ngram_min = lo;
    t->ngram_max = hi;
    t->seed = o->seed;
    t->normalize = o->normalize != 0;
    *ops = &text_hash_ops;
    *self = t;
    return 0;
}
