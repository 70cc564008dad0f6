/* Box spaces: finiteness, bounds and clipping of action and observation vectors. */
#include "config.h"

#include <math.h>

#include "fewshot/error.h"
#include "fewshot/space.h"

const char *fewshot_space_name(const fewshot_space *space, size_t i)
{
    if (!space || !space->names || i >= space->dim)
        return NULL;
    return space->names[i];
}

/* "action element 3 (CORE_ZN)" or "action element 3" */
static int element_error(const fewshot_space *space, size_t i, const char *what, double v,
                         const char *problem)
{
    const char *name = fewshot_space_name(space, i);
    return fewshot_error_set(FEWSHOT_ERANGE, "%s element %zu%s%s%s is %g: %s",
                             what ? what : "vector", i, name ? " (" : "", name ? name : "",
                             name ? ")" : "", v, problem);
}

int fewshot_space_check_finite(const fewshot_space *space, const double *v, const char *what)
{
    /* every step checks its action and observation: first a branch-free pass (v * 0 is 0
     * for a finite v and NaN otherwise), then the element only when one is bad */
    double acc0 = 0, acc1 = 0;
    size_t i = 0, n = space->dim;
    for (; i + 1 < n; i += 2) {
        acc0 += v[i] * 0.0;
        acc1 += v[i + 1] * 0.0;
    }
    if (i < n)
        acc0 += v[i] * 0.0;
    if (acc0 + acc1 == 0.0)
        return 0;
    for (i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return element_error(space, i, what, v[i], "expected a finite number");
    return 0;
}

int fewshot_space_contains(const fewshot_space *space, const double *v, const char *what)
{
    int rc = fewshot_space_check_finite(space, v, what);
    if (rc)
        return rc;
    for (size_t i = 0; i < space->dim; i++) {
        if (space->low && v[i] < space->low[i])
            return element_error(space, i, what, v[i], "below the lower bound");
        if (space->high && v[i] > space->high[i])
            return element_error(space, i, what, v[i], "above the upper bound");
        if (space->integer && v[i] != floor(v[i]))
            return element_error(space, i, what, v[i], "expected an integer");
    }
    return 0;
}

void fewshot_space_clip(const fewshot_space *space, double *v)
{
    for (size_t i = 0; i < space->dim; i++) {
        double lo = space->low ? space->low[i] : -INFINITY;
        double hi = space->high ? space->high[i] : INFINITY;
        if (isnan(v[i]))
            v[i] = isfinite(lo) ? lo : 0.0;
        if (space->integer)
            v[i] = nearbyint(v[i]);
        if (v[i] < lo)
            v[i] = lo;
        if (v[i] > hi)
            v[i] = hi;
    }
}
