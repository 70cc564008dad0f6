/*
 * Robust aggregate statistics for reports (the rliable recipe): pooled mean, median and
 * interquartile mean, the probability of improvement, and stratified percentile bootstrap
 * intervals over a random stream defined exactly in report_internal.h.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "report_internal.h"

uint64_t fewshot__fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Below n < 2^32 by a multiply and shift: simple to reproduce, bias below n / 2^32. */
static size_t below(uint64_t *state, size_t n)
{
    return (size_t)(((splitmix64(state) >> 32) * (uint64_t)n) >> 32);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t total(const fewshot__strata *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += s->n[i];
    return n;
}

/* A statistic of one pooled sample v[0..n-1] (reordered in place). */
static double pooled(fewshot__stat stat, double *v, size_t n)
{
    if (n == 0)
        return NAN;
    double sum = 0;
    if (stat == FEWSHOT__STAT_MEAN) {
        for (size_t i = 0; i < n; i++)
            sum += v[i];
        return sum / (double)n;
    }
    if (stat == FEWSHOT__STAT_MEDIAN) {
        fewshot__select_kth(v, n, n / 2);
        if (n % 2)
            return v[n / 2];
        double below = v[0];
        for (size_t i = 1; i < n / 2; i++)
            below = v[i] > below ? v[i] : below;
        return 0.5 * (below + v[n / 2]);
    }
    /* IQM: order statistics cut .. n-cut-1 gathered at positions cut .. n-cut-1 */
    size_t cut = n / 4;
    fewshot__select_kth(v, n, cut);
    fewshot__select_kth(v + cut, n - cut, n - 2 * cut - 1);
    for (size_t i = cut; i < n - cut; i++)
        sum += v[i];
    return sum / (double)(n - 2 * cut);
}

/* P(X > Y) + P(X = Y) / 2 in one stratum. */
static double improvement(const double *x, size_t n, const double *y, size_t m)
{
    double wins = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++)
            wins += x[i] > y[j] ? 1.0 : x[i] == y[j] ? 0.5 : 0.0;
    return wins / ((double)n * (double)m);
}

#define SORT_ABOVE 32768.0

/* The same count over sorted samples in O(n + m): wins are whole and half counts, exact in
 * a double, so both ways give the same number. */
static double improvement_sorted(const double *x, size_t n, const double *y, size_t m)
{
    double wins = 0;
    size_t lt = 0, le = 0;
    for (size_t i = 0; i < n; i++) {
        while (lt < m && y[lt] < x[i])
            lt++;
        if (le < lt)
            le = lt;
        while (le < m && y[le] <= x[i])
            le++;
        wins += (double)lt + 0.5 * (double)(le - lt);
    }
    return wins / ((double)n * (double)m);
}

static double pi_value(const fewshot__strata *x, const fewshot__strata *y)
{
    double sum = 0;
    size_t used = 0;
    for (size_t s = 0; s < x->count && s < y->count; s++) {
        if (!x->n[s] || !y->n[s])
            continue;
        sum += improvement(x->x[s], x->n[s], y->x[s], y->n[s]);
        used++;
    }
    return used ? sum / (double)used : NAN;
}

double fewshot__stat_value(fewshot__stat stat, const fewshot__strata *x, const fewshot__strata *y)
{
    if (stat == FEWSHOT__STAT_PI)
        return y ? pi_value(x, y) : NAN;
    size_t n = total(x), k = 0;
    double *v = malloc((n + 1) * sizeof *v);
    if (!v)
        return NAN;
    for (size_t s = 0; s < x->count; s++)
        for (size_t i = 0; i < x->n[s]; i++)
            v[k++] = x->x[s][i];
    double out = pooled(stat, v, n);
    free(v);
    return out;
}

static double percentile(const double *sorted, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

/* One resample: draw into rx (and ry), then the statistic. */
static double resample(fewshot__stat stat, const fewshot__strata *x, const fewshot__strata *y,
                       uint64_t *state, double *rx, double *ry, const double **px,
                       const double **py)
{
    size_t k = 0, l = 0;
    for (size_t s = 0; s < x->count; s++) {
        int two = stat == FEWSHOT__STAT_PI;
        if (!x->n[s] || (two && !y->n[s]))
            continue;
        px[s] = rx + k;
        for (size_t i = 0; i < x->n[s]; i++)
            rx[k++] = x->x[s][below(state, x->n[s])];
        if (two) {
            py[s] = ry + l;
            for (size_t j = 0; j < y->n[s]; j++)
                ry[l++] = y->x[s][below(state, y->n[s])];
        }
    }
    if (stat != FEWSHOT__STAT_PI)
        return pooled(stat, rx, k);
    /* Large strata: the draws are scratch, so sort them and merge. Small ones (up to
     * SORT_ABOVE pairs) compare all pairs, which measured faster. */
    double sum = 0;
    size_t used = 0;
    for (size_t s = 0; s < x->count; s++) {
        size_t n = x->n[s], m = y->n[s];
        if (!n || !m)
            continue;
        if ((double)n * (double)m > SORT_ABOVE) {
            qsort((double *)px[s], n, sizeof(double), cmp_double);
            qsort((double *)py[s], m, sizeof(double), cmp_double);
            sum += improvement_sorted(px[s], n, py[s], m);
        } else {
            sum += improvement(px[s], n, py[s], m);
        }
        used++;
    }
    return used ? sum / (double)used : NAN;
}

int fewshot__stat_bootstrap(fewshot__stat stat, const fewshot__strata *x,
                            const fewshot__strata *y, size_t resamples, uint64_t seed,
                            const char *label, fewshot__estimate *out)
{
    out->value = fewshot__stat_value(stat, x, y);
    out->low = out->high = NAN;
    if (!isfinite(out->value) || resamples < 2 || (stat == FEWSHOT__STAT_PI && !y))
        return 0;
    size_t n = total(x), m = y ? total(y) : 0, strata = x->count;
    double *rx = malloc((n + 1) * sizeof *rx), *ry = malloc((m + 1) * sizeof *ry);
    double *stats = malloc(resamples * sizeof *stats);
    const double **px = calloc(strata + 1, sizeof *px), **py = calloc(strata + 1, sizeof *py);
    int rc = 0;
    if (!rx || !ry || !stats || !px || !py) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    } else {
        uint64_t state = seed ^ fewshot__fnv1a64(label);
        for (size_t b = 0; b < resamples; b++)
            stats[b] = resample(stat, x, y, &state, rx, ry, px, py);
        qsort(stats, resamples, sizeof *stats, cmp_double);
        out->low = percentile(stats, resamples, 0.025);
        out->high = percentile(stats, resamples, 0.975);
    }
    free(rx);
    free(ry);
    free(stats);
    free(px);
    free(py);
    return rc;
}
