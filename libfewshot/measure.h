/*
 * Internal: how well the demonstrations shown for one decision fit it (fewshot-selection(7),
 * "Measuring retrieval"): their distances to the query in embedding space, their agreement
 * with the plugin's expert, and how many of them are distinct. Not installed.
 */
#ifndef FEWSHOT_MEASURE_H
#define FEWSHOT_MEASURE_H

#include <stddef.h>
#include "fewshot/space.h"
#include "internal.h"

/* A demonstration's action (n values) in a dimension of m values: its own when n == m;
 * otherwise its first values, padded with their mean (how knn-imitation and the agreement
 * measure read a demonstration of another scenario). */
FEWSHOT_HIDDEN void fewshot__action_fit(const double *src, size_t n, double *dst, size_t m);

/* Euclidean distance between two vectors of dim floats. */
FEWSHOT_HIDDEN double fewshot__measure_distance(const float *a, const float *b, size_t dim);

/* The fraction of the m elements whose sign in action equals the sign in expert; values
 * within 1e-6 of the element's range (space, may be NULL: 1e-9) of zero count as zero, so
 * a pair of zeros agrees. action is already in the space's dimension (fewshot__action_fit).
 * NAN when m is 0. */
FEWSHOT_HIDDEN double fewshot__measure_agreement(const double *action, const double *expert,
                                                 size_t m, const fewshot_space *space);

/* The number of distinct items among n by same(i, j, arg) (j < i; an equivalence): those
 * for which no earlier item is the same. */
FEWSHOT_HIDDEN size_t fewshot__measure_distinct_by(size_t n,
                                                   int (*same)(size_t i, size_t j, void *arg),
                                                   void *arg);

#endif
