/*
 * Internal: the plan of a generation (days and scenarios) and the shared store's helpers.
 * Not installed; nothing here is exported.
 */
#ifndef FEWSHOT_DEMO_INTERNAL_H
#define FEWSHOT_DEMO_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include "internal.h"

/* Expand a demos "days" value ("all", {"every": N, "from": D, "to": D}, [D, ...]) into a new
 * list of days of the year; NULL or null: no list (*n = 0). Errors name file and path. */
FEWSHOT_HIDDEN int fewshot__demos_days(const json_t *days, const char *file, const char *path,
                                       int **out, size_t *n);

/* Expand a demos "scenarios" value (a list of override objects, or {"grid": {...}}) into a
 * new array of override objects; NULL or null: *out = NULL. */
FEWSHOT_HIDDEN int fewshot__demos_scenarios(const json_t *scenarios, const char *file,
                                            const char *path, json_t **out);

/* The parameters of task t (scenario-major, then day) over base: a new object. */
FEWSHOT_HIDDEN json_t *fewshot__demos_task_params(const json_t *base, const json_t *scenarios,
                                                  const int *days, size_t n_days, size_t t);

/* Append every transition of src to dst with episode ids shifted by episode_base. */
struct fewshot_demos;
FEWSHOT_HIDDEN int fewshot__demos_append(struct fewshot_demos *dst,
                                         const struct fewshot_demos *src, uint64_t episode_base);

/* The binary format (demo_binary.c): is this the start of one, write, read (from the start
 * of f). */
#include <stdio.h>
FEWSHOT_HIDDEN int fewshot__demos_is_binary(const unsigned char *head, size_t n);
FEWSHOT_HIDDEN int fewshot__demos_write_binary(const struct fewshot_demos *ds, FILE *f);
FEWSHOT_HIDDEN int fewshot__demos_read_binary(FILE *f, const char *path,
                                              struct fewshot_demos **out);

FEWSHOT_HIDDEN int fewshot__demos_read_binary_header(FILE *f, const char *path,
                                                     json_t **out);

/* Does path name a binary dataset (ends in ".fsdb")? */
FEWSHOT_HIDDEN int fewshot__demos_binary_name(const char *path);

#endif
