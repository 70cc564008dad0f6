/* index_exact.c's panel search (eight points per vector, the layout fewshot_index keeps) gives
 * the row-major loop's results bit for bit: the same labels in the same order, ties included,
 * and the same float distances, for every dimension's remainder and a last, partial panel. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "retrieval_internal.h"

/* n x d values in a few levels, so many points tie at the same distance */
static float *levels(size_t n, size_t d, unsigned seed)
{
    float *x = malloc(n * d * sizeof *x + 1);
    for (size_t i = 0; i < n * d; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 16) % 5) * 0.25f - 0.5f + (i % 7 == 0 ? 1e-3f : 0.0f);
    }
    return x;
}

static float *to_panels(const float *x, size_t n, size_t d)
{
    size_t np = (n + FEWSHOT__PANEL - 1) / FEWSHOT__PANEL;
    float *p = calloc(np * d * FEWSHOT__PANEL + 1, sizeof *p);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < d; t++)
            p[(i / FEWSHOT__PANEL) * d * FEWSHOT__PANEL + t * FEWSHOT__PANEL +
              i % FEWSHOT__PANEL] = x[i * d + t];
    return p;
}

static void same_as_rows(size_t n, size_t d, size_t k, int ip)
{
    const size_t nq = 20;
    float *x = levels(n, d, (unsigned)(n * 31 + d)), *q = levels(nq, d, (unsigned)d + 7);
    float *p = to_panels(x, n, d);
    float *da = malloc(nq * k * sizeof *da), *db = malloc(nq * k * sizeof *db);
    int64_t *la = malloc(nq * k * sizeof *la), *lb = malloc(nq * k * sizeof *lb);
    assert_int_equal(fewshot__exact_search(x, n, d, ip, nq, q, k, da, la), 0);
    assert_int_equal(fewshot__exact_search_panels(p, n, d, ip, nq, q, k, db, lb), 0);
    assert_memory_equal(la, lb, nq * k * sizeof *la);
    assert_memory_equal(da, db, nq * k * sizeof *da);
    free(x), free(q), free(p), free(da), free(db), free(la), free(lb);
}

static void test_panels_equal_rows(void **state)
{
    static const size_t dims[] = {1, 3, 4, 5, 8, 10, 16, 17};
    static const size_t counts[] = {1, 7, 8, 9, 513, 1003, 1280};
    for (size_t a = 0; a < sizeof dims / sizeof *dims; a++)
        for (size_t b = 0; b < sizeof counts / sizeof *counts; b++)
            for (int ip = 0; ip < 4; ip++) {
                fewshot__exact_no_avx2 = ip >= 2;           /* both loops */
                same_as_rows(counts[b], dims[a], 4, ip % 2);
                same_as_rows(counts[b], dims[a], 12, ip % 2);   /* more than some n: padded */
                same_as_rows(counts[b], dims[a], 1, ip % 2);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_panels_equal_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
