/*
 * SHA-256 of a text that mostly begins as the one hashed before it did. An episode's prompts
 * share a long prefix (the cache order keeps the system message, the representatives and
 * sticky neighbours in place; paper.json's consecutive prompts share about 60% of their
 * bytes), so the digest keeps the hash state at every MARK bytes of the last input and
 * hashes a new input from the last mark inside the prefix the two share. The digest is the
 * SHA-256 of the whole input, always: the marks only skip work, never change a result.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fewshot/error.h"
#include "internal.h"

/* Bytes between marks, a multiple of SHA-256's 64-byte block: a resumed hash re-reads at most
 * this much of the shared prefix, and a 13 KB prompt keeps 13 marks. */
#define MARK 1024

struct fewshot__digest {
    char *prev;             /* the last input */
    size_t prev_len, prev_cap;
    EVP_MD_CTX **mark;      /* mark[k]: the state after k * MARK bytes of prev */
    size_t nmark, capmark;  /* valid marks, allocated marks */
    EVP_MD_CTX *work;
};

int fewshot__digest_new(fewshot__digest **out)
{
    fewshot__digest *d = calloc(1, sizeof *d);
    *out = NULL;
    if (!d || !(d->work = EVP_MD_CTX_new())) {
        free(d);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    *out = d;
    return 0;
}

void fewshot__digest_free(fewshot__digest *d)
{
    if (!d)
        return;
    for (size_t k = 0; k < d->capmark; k++)
        EVP_MD_CTX_free(d->mark[k]);
    free(d->mark);
    EVP_MD_CTX_free(d->work);
    free(d->prev);
    free(d);
}

/* How many bytes the pieces begin with that prev begins with too. */
static size_t shared_prefix(const fewshot__digest *d, const char *const *part, const size_t *len,
                            size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t m = len[i] < d->prev_len - at ? len[i] : d->prev_len - at;
        size_t same = fewshot__common_prefix(part[i], d->prev + at, m);
        at += same;
        if (same < len[i])
            return at;
    }
    return at;
}

/* Keep the work state as mark k. */
static int set_mark(fewshot__digest *d, size_t k)
{
    if (k >= d->capmark) {
        size_t cap = d->capmark ? 2 * d->capmark : 16;
        while (cap <= k)
            cap *= 2;
        EVP_MD_CTX **m = realloc(d->mark, cap * sizeof *m);
        if (!m)
            return -1;
        memset(m + d->capmark, 0, (cap - d->capmark) * sizeof *m);
        d->mark = m;
        d->capmark = cap;
    }
    if (!d->mark[k] && !(d->mark[k] = EVP_MD_CTX_new()))
        return -1;
    return EVP_MD_CTX_copy_ex(d->mark[k], d->work) ? 0 : -1;
}

/* Hash bytes [from, total) of the pieces into the work state, marking each MARK boundary, and
 * keep them in prev (the bytes before from are prev's already). */
static int feed(fewshot__digest *d, const char *const *part, const size_t *len, size_t n,
                size_t from)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t end = at + len[i];
        while (from < end) {
            size_t next = (from / MARK + 1) * MARK, stop = next < end ? next : end;
            const char *s = part[i] + (from - at);
            if (!EVP_DigestUpdate(d->work, s, stop - from))
                return -1;
            memcpy(d->prev + from, s, stop - from);
            from = stop;
            if (from == next) {
                if (set_mark(d, from / MARK))
                    return -1;
                d->nmark = from / MARK + 1;
            }
        }
        at = end;
    }
    return 0;
}

int fewshot__digest_parts(fewshot__digest *d, const char *const *part, const size_t *len,
                          size_t n, char hex[65])
{
    size_t total = 0;
    hex[0] = '\0';
    for (size_t i = 0; i < n; i++)
        total += len[i];
    size_t shared = d->nmark ? shared_prefix(d, part, len, n) : 0;
    if (total + 1 > d->prev_cap) {
        char *p = realloc(d->prev, total + 1);
        if (!p)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        d->prev = p;
        d->prev_cap = total + 1;
    }
    /* the marks past the shared prefix are of the last input only: hashed again below */
    size_t k = shared / MARK;
    if (d->nmark && k >= d->nmark)
        k = d->nmark - 1;
    int ok = d->nmark ? EVP_MD_CTX_copy_ex(d->work, d->mark[k])
                      : EVP_DigestInit_ex(d->work, EVP_sha256(), NULL) && set_mark(d, 0) == 0;
    d->nmark = k + 1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    ok = ok && feed(d, part, len, n, k * MARK) == 0;
    d->prev_len = ok ? total : 0;
    if (!ok)
        d->nmark = 0;   /* the marks may not match prev: start over next time */
    ok = ok && EVP_DigestFinal_ex(d->work, md, &mdlen) && mdlen == 32;
    if (!ok)
        return fewshot_error_set(FEWSHOT_ERROR, "SHA-256 failed");
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

int fewshot__digest_text(fewshot__digest *d, const char *s, size_t n, char hex[65])
{
    const char *part[1] = {s};
    size_t len[1] = {n};
    return fewshot__digest_parts(d, part, len, 1, hex);
}
