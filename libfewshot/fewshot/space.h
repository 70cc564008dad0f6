/*
 * libfewshot: observation and action spaces.
 *
 * A space is a box: one [low, high] bound pair per element, integer or real, with an optional
 * name per element. Plugins describe their spaces with it; the library checks actions and
 * observations against it.
 */
#ifndef FEWSHOT_SPACE_H
#define FEWSHOT_SPACE_H

#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_space {
    size_t dim;                 /* number of elements */
    const double *low;          /* dim lower bounds (-INFINITY for none) */
    const double *high;         /* dim upper bounds (+INFINITY for none) */
    int integer;                /* nonzero: elements take integer values */
    const char *const *names;   /* dim element names, or NULL */
} fewshot_space;

/* Element i's name, or NULL when the space has no names. */
FEWSHOT_EXTERN(const char *) fewshot_space_name(const fewshot_space *space, size_t i);

/* 0 when every element of v is finite (NaN and infinities are refused); otherwise
 * FEWSHOT_ERANGE naming the first bad element with `what` ("action", "observation"). */
FEWSHOT_EXTERN(int) fewshot_space_check_finite(const fewshot_space *space, const double *v,
                                               const char *what);

/* 0 when every element lies within its bounds (and is integral for integer spaces);
 * otherwise FEWSHOT_ERANGE naming the first offending element. */
FEWSHOT_EXTERN(int) fewshot_space_contains(const fewshot_space *space, const double *v,
                                           const char *what);

/* Clip v into the box (rounding to integers for integer spaces). NaN becomes the low bound. */
FEWSHOT_EXTERN(void) fewshot_space_clip(const fewshot_space *space, double *v);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_SPACE_H */
