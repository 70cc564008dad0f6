/*
 * Measures of the demonstrations shown for one decision: distance to the query, sign
 * agreement with the expert, distinctness. Kept apart from the agent so knn-imitation and the
 * LLM loop measure alike.
 */
#include "config.h"

#include <math.h>

#include "measure.h"

void fewshot__action_fit(const double *src, size_t n, double *dst, size_t m)
{
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += src[i];
    mean = n ? mean / (double)n : 0;
    for (size_t i = 0; i < m; i++)
        dst[i] = i < n ? src[i] : mean;
}

double fewshot__measure_distance(const float *a, const float *b, size_t dim)
{
    double s = 0;
    for (size_t i = 0; i < dim; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return sqrt(s);
}

/* Sign with a tolerance: an expert's 1e-17 "off" is off, not heating. */
static int sign_of(double x, double tol)
{
    return x > tol ? 1 : x < -tol ? -1 : 0;
}

double fewshot__measure_agreement(const double *action, const double *expert, size_t m,
                                  const fewshot_space *space)
{
    if (m == 0)
        return NAN;
    size_t agree = 0;
    for (size_t i = 0; i < m; i++) {
        double tol = 1e-9;
        if (space && i < space->dim && isfinite(space->low[i]) && isfinite(space->high[i]))
            tol = 1e-6 * (space->high[i] - space->low[i]);
        agree += sign_of(action[i], tol) == sign_of(expert[i], tol);
    }
    return (double)agree / (double)m;
}

size_t fewshot__measure_distinct_by(size_t n, int (*same)(size_t i, size_t j, void *arg),
                                    void *arg)
{
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && !same(i, j, arg))
            j++;
        distinct += j == i;
    }
    return distinct;
}

