/*
 * libfewshot: translators: number formatting for prompts, and a growable text buffer.
 *
 * A plugin's context(obs) holds raw numbers. Before templates see it, the translator formats
 * every real number in it: by rounding to an integer (the paper's choice: LLMs handle integers
 * better) or with a fixed number of decimals (the ablation "floats instead of integers").
 * Integers, strings, booleans and null stay as they are.
 *
 * Rounding is half away from zero (C round(): 0.5 -> 1, 2.5 -> 3, -2.5 -> -3), not Python 3's
 * round-half-to-even (round(2.5) == 2); -0 prints as 0.
 *
 * Thread-safety: every function here is reentrant.
 */
#ifndef FEWSHOT_TEXT_H
#define FEWSHOT_TEXT_H

#include <jansson.h>
#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

/* A growable, always NUL-terminated byte buffer. Zero-initialise it (FEWSHOT_TEXT_BUF_INIT);
 * release with fewshot_text_buf_free(). data is NULL until the first append. */
typedef struct fewshot_text_buf {
    char *data;
    size_t len;
    size_t cap;
} fewshot_text_buf;
#define FEWSHOT_TEXT_BUF_INIT {NULL, 0, 0}

FEWSHOT_EXTERN(int) fewshot_text_buf_append(fewshot_text_buf *buf, const char *s, size_t len);
FEWSHOT_EXTERN(int) fewshot_text_buf_puts(fewshot_text_buf *buf, const char *s);
FEWSHOT_EXTERN(int) fewshot_text_buf_printf(fewshot_text_buf *buf, const char *fmt, ...)
    FEWSHOT_PRINTF(2, 3);
/* Empty the buffer but keep its memory. */
FEWSHOT_EXTERN(void) fewshot_text_buf_reset(fewshot_text_buf *buf);
/* Hand the string over to the caller (free() it); the buffer becomes empty. Never NULL
 * unless out of memory. */
FEWSHOT_EXTERN(char *) fewshot_text_buf_detach(fewshot_text_buf *buf);
FEWSHOT_EXTERN(void) fewshot_text_buf_free(fewshot_text_buf *buf);

/* How numbers are shown. */
typedef enum fewshot_text_numbers {
    FEWSHOT_NUMBERS_INTEGER = 0,    /* round to an integer (default) */
    FEWSHOT_NUMBERS_DECIMALS = 1,   /* fixed `decimals` digits after the point */
    FEWSHOT_NUMBERS_RAW = 2         /* shortest form that reads back to the same double */
} fewshot_text_numbers;

typedef struct fewshot_text_options {
    unsigned int version;
    int numbers;            /* a fewshot_text_numbers */
    int decimals;           /* for FEWSHOT_NUMBERS_DECIMALS, 0..17 */
    double action_scale;    /* actions are shown times this (the plugin's "action_scale"); 0 = 1 */
    int reward_digits;      /* rewards under INTEGER numbers: this many significant digits,
                               since rounded rewards collapse to one or two values and tell
                               good demonstrations from bad ones no more (0: rounded) */
} fewshot_text_options;
#define FEWSHOT_TEXT_OPTIONS_VERSION 1
#define FEWSHOT_TEXT_OPTIONS_INIT {FEWSHOT_TEXT_OPTIONS_VERSION, FEWSHOT_NUMBERS_INTEGER, 0, 1.0, \
                                   3}
FEWSHOT_EXTERN(int) fewshot_text_options_init(fewshot_text_options *opts, unsigned int version);

/* Round half away from zero (the paper's integers); -0 becomes 0. */
FEWSHOT_EXTERN(double) fewshot_text_round(double x);

/* Write x with exactly `decimals` digits after the point ("-0.00" becomes "0.00").
 * Returns the length snprintf would write. */
FEWSHOT_EXTERN(int) fewshot_text_fixed(char *buf, size_t size, double x, int decimals);

/* Write x in the shortest form that reads back to the same double ("22", "0.1", "1e+300"). */
FEWSHOT_EXTERN(int) fewshot_text_shortest(char *buf, size_t size, double x);

/* Write x with `digits` significant digits (1..17), without exponent and without trailing
 * zeros after the point: 1.8734 -> "1.87", 0.012345 -> "0.0123", 12345.6 -> "12346". */
FEWSHOT_EXTERN(int) fewshot_text_significant(char *buf, size_t size, double x, int digits);

/* Write a reward (or another score) as prompts show it: under INTEGER numbers with
 * opts->reward_digits significant digits (0: rounded), otherwise as fewshot_text_number(). */
FEWSHOT_EXTERN(int) fewshot_text_reward(char *buf, size_t size, double x,
                                        const fewshot_text_options *opts);

/* Write x as the options say (opts NULL: integers). NaN and infinities print as "nan",
 * "inf", "-inf". */
FEWSHOT_EXTERN(int) fewshot_text_number(char *buf, size_t size, double x,
                                        const fewshot_text_options *opts);

/* The JSON value that shows x: an integer (INTEGER), a string with fixed decimals (DECIMALS)
 * or a real (RAW). New reference, NULL when out of memory. */
FEWSHOT_EXTERN(json_t *) fewshot_text_number_json(double x, const fewshot_text_options *opts);

/* A deep copy of ctx with every real number formatted (see fewshot_text_number_json()).
 * *out is a new reference. */
FEWSHOT_EXTERN(int) fewshot_text_translate(json_t **out, const json_t *ctx,
                                           const fewshot_text_options *opts);

/* An action vector as shown in prompts: each value times action_scale, formatted. Sets
 * *list (new reference, may be NULL) to a JSON array of the shown values and *text (may be
 * NULL; free() it) to "[a, b, c]". */
FEWSHOT_EXTERN(int) fewshot_text_actions(json_t **list, char **text, const double *action,
                                         size_t dim, const fewshot_text_options *opts);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_TEXT_H */
