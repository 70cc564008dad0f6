/* The hvac model step: the CPU-specific path (AVX2) gives the portable path's bits, for every
 * shipped building, also when x' overwrites x. Results must not depend on the machine. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

#include "model.h"

static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static void test_paths_agree(void **state)
{
    static const char *const names[] = {"OfficeSmall", "OfficeMedium", "RestaurantFastFood",
                                        "RestaurantSitDown", "RetailStandalone",
                                        "RetailStripmall", "Warehouse"};
    hvac_model_options o = {.max_power = 8000, .dt = 3600, .shgc = 0.252, .shgc_weight = 0.01,
                            .ground_weight = 0.5, .max_ghi = 1000, .tz = -7, .occupancy = 1};
    uint64_t seed = 7;
    for (size_t b = 0; b < sizeof names / sizeof names[0]; b++) {
        fewshot_building *bld;
        if (fewshot_building_load(&bld, names[b]) != 0)
            fail_msg("%s", fewshot_error_last()->message);
        hvac_model m;
        assert_int_equal(hvac_model_build(&m, bld, &o), 0);
        double *x = calloc(m.n, sizeof *x), *y = calloc(m.n, sizeof *y);
        double *fast = calloc(m.n, sizeof *fast), *slow = calloc(m.n, sizeof *slow);
        double *u = calloc(m.m, sizeof *u);
        for (size_t i = 0; i < m.n; i++)
            x[i] = y[i] = 10 + 25 * uniform(&seed);
        for (int step = 0; step < 200; step++) {
            for (size_t j = 0; j < m.m; j++)
                u[j] = j < 3 ? 40 * uniform(&seed) - 10 : 2 * uniform(&seed) - 1;
            hvac_model_step(&m, x, u, fast);
            hvac_model_step_portable(&m, x, u, slow);
            if (memcmp(fast, slow, m.n * sizeof *fast) != 0)
                fail_msg("%s step %d: the two paths differ", names[b], step);
            memcpy(x, fast, m.n * sizeof *x);
            hvac_model_step(&m, y, u, y);      /* in place */
            if (memcmp(x, y, m.n * sizeof *x) != 0)
                fail_msg("%s step %d: the in-place step differs", names[b], step);
        }
        free(x), free(y), free(fast), free(slow), free(u);
        hvac_model_free(&m);
        fewshot_building_free(bld);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
