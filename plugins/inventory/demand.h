/*
 * inventory: where customer demand comes from: a seeded Poisson draw, an explicit list (one
 * value per period) or a CSV file.
 */
#ifndef INVENTORY_DEMAND_H
#define INVENTORY_DEMAND_H

#include <jansson.h>

/* Read `periods` demand values from `spec`: a JSON array of non-negative integers, or a
 * string naming a CSV file (one value per row in its last column, an optional header row,
 * '#' comments, blank lines ignored). *out is malloc'ed. Errors name the array element or
 * the file and line. Returns 0 or a negative FEWSHOT_E* code. */
int inv_demand_load(const json_t *spec, long periods, double **out);

#endif
