/*
 * libfewshot: the action parser: from an LLM's reply to an action vector.
 *
 * An ordered list of PCRE2 patterns is tried on the reply (after removing <think>...</think>
 * blocks, Markdown emphasis and backticks, and mapping Unicode minus and en dash to '-'):
 *   json     the last flat JSON object holding "actions" (the structured-output shape
 *            {"actions": [...]}) or only numbers ({"Room 1": 40, ...}, ordered by the number
 *            in each key)
 *   actions  the list after the last "Actions:" label: "[a, b, c]" or "a, b, c" on its line
 *   list     the last bracketed list of numbers anywhere
 *   lines    "Room k: v" style lines (any label, then an index k from 1, then ':' or '=')
 *   numbers  exactly as many bare numbers as the action has, after the last "Actions:"
 *            label when there is one, else in the whole reply
 * The first pattern that matches decides: its values are validated (count, finite, integer
 * when the prompt showed integers, range), divided by action_scale (the paper shows actions
 * in [-1, 1] as integers x100) and clamped into the action space or rejected.
 * A value may carry a '%' sign; a range "20-30" or "20 to 30" counts as its midpoint unless
 * ranges are rejected.
 *
 * On failure the result says why. The agent may re-ask once with fewshot_parser_reask()'s
 * message and then apply fewshot_parser_fallback(), which records the fallback used; the step
 * stays recorded as a parse failure with its reason. See fewshot-parse(7).
 *
 * Thread-safety: a parser holds match buffers; use one parser per thread.
 */
#ifndef FEWSHOT_PARSE_H
#define FEWSHOT_PARSE_H

#include <jansson.h>
#include "fewshot/common.h"
#include "fewshot/space.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_parser fewshot_parser;

/* What to do with a value outside the action space, an extra value, a range, a fraction. */
typedef enum fewshot_parse_policy {
    FEWSHOT_PARSE_CLAMP = 0,    /* out_of_range: clip into the box */
    FEWSHOT_PARSE_REJECT = 1,   /* any: fail with the reason */
    FEWSHOT_PARSE_ROUND = 2,    /* non_integer: round half away from zero */
    FEWSHOT_PARSE_TRUNCATE = 3, /* extra_values: keep the first dim values */
    FEWSHOT_PARSE_MIDPOINT = 4  /* ranges: the middle of "a-b" */
} fewshot_parse_policy;

/* After a failed parse (and re-ask), the action the agent applies. */
typedef enum fewshot_parse_fallback {
    FEWSHOT_FALLBACK_NONE = 0,  /* no action: the step fails */
    FEWSHOT_FALLBACK_HOLD = 1,  /* the last action applied (zero when there is none) */
    FEWSHOT_FALLBACK_ZERO = 2,  /* zero, clipped into the action space */
    FEWSHOT_FALLBACK_EXPERT = 3 /* the expert's action (zero when there is none) */
} fewshot_parse_fallback;

typedef struct fewshot_parse_options {
    unsigned int version;
    double action_scale;        /* replies show action * scale; 0 = 1 */
    int integers;               /* nonzero: the prompt shows integers (also implied by an
                                   integer action space with scale 1) */
    int out_of_range;           /* FEWSHOT_PARSE_CLAMP (default) or _REJECT */
    int non_integer;            /* FEWSHOT_PARSE_ROUND (default) or _REJECT */
    int extra_values;           /* FEWSHOT_PARSE_REJECT (default) or _TRUNCATE */
    int ranges;                 /* FEWSHOT_PARSE_MIDPOINT (default) or _REJECT */
    const char *patterns;       /* comma-separated pattern names in order; NULL = all, in
                                   the order "json,actions,list,lines,numbers" */
    int reask;                  /* nonzero: the agent re-asks once (default 1) */
    int fallback;               /* a fewshot_parse_fallback (default HOLD) */
} fewshot_parse_options;
#define FEWSHOT_PARSE_OPTIONS_VERSION 1
#define FEWSHOT_PARSE_OPTIONS_INIT {FEWSHOT_PARSE_OPTIONS_VERSION, 1.0, 0, FEWSHOT_PARSE_CLAMP, \
    FEWSHOT_PARSE_ROUND, FEWSHOT_PARSE_REJECT, FEWSHOT_PARSE_MIDPOINT, NULL, 1, \
    FEWSHOT_FALLBACK_HOLD}
FEWSHOT_EXTERN(int) fewshot_parse_options_init(fewshot_parse_options *opts,
                                               unsigned int version);

/* Fill opts from a config's "parse" object: {"scale": 100, "integers": true,
 * "out_of_range": "clamp"|"reject", "non_integer": "round"|"reject",
 * "extra_values": "reject"|"truncate", "ranges": "midpoint"|"reject",
 * "patterns": ["json", ...], "reask": true, "fallback": "hold"|"zero"|"expert"|"none"}.
 * Unknown keys and bad values are FEWSHOT_EINVAL at `path` (e.g. "$.parse") of `file`.
 * opts->patterns then points into obj, which must outlive the parser's creation. */
FEWSHOT_EXTERN(int) fewshot_parse_options_from_json(fewshot_parse_options *opts,
                                                    const json_t *obj, const char *file,
                                                    const char *path);

/* The outcome of one parse. */
typedef struct fewshot_parse_result {
    int code;               /* 0, or FEWSHOT_EPARSE (no action found / not a number),
                               FEWSHOT_EMISMATCH (wrong count), FEWSHOT_ERANGE (out of range,
                               NaN, inf), FEWSHOT_ETRUNCATED (the reply was cut off) */
    char reason[256];       /* why it failed, "" when it did not */
    const char *pattern;    /* the pattern that matched ("json", ...), or NULL */
    size_t count;           /* values the pattern found */
    unsigned int clamped;   /* values clipped into the box */
    unsigned int rounded;   /* values rounded to integers */
    const char *fallback;   /* set by fewshot_parser_fallback(): "hold", "zero", "expert" */
    unsigned int out_of_range; /* values outside the instructed range (the box, or the range
                               of fewshot_parser_set_range()), clamped or rejected as
                               out_of_range says */
} fewshot_parse_result;

/* A parser for actions in space `act` (copied). */
FEWSHOT_EXTERN(int) fewshot_parser_new(fewshot_parser **out, const fewshot_space *act,
                                       const fewshot_parse_options *opts);
FEWSHOT_EXTERN(void) fewshot_parser_free(fewshot_parser *parser);

/* Parse reply (len bytes; (size_t)-1 for strlen) into action (act dim). Returns 0 or
 * res->code (the reason is also the last error). action is written only on success. */
FEWSHOT_EXTERN(int) fewshot_parser_parse(fewshot_parser *parser, const char *reply, size_t len,
                                         double *action, fewshot_parse_result *res);

/* Narrow the accepted range of every value to [lo, hi] (action-space units) within the
 * action space, for the following parses: the range the prompt instructed (HVAC heating
 * 0..100, cooling -100..0 shown, [0, 1] and [-1, 0] here). NaN for either bound restores the
 * action space's. Fallback actions are clipped into the same range. */
FEWSHOT_EXTERN(void) fewshot_parser_set_range(fewshot_parser *parser, double lo, double hi);

/* The message to send back once after a failure: states the reason and the expected form,
 * e.g. "Your reply could not be used: expected 3 values, got 2. Reply with exactly 3
 * integers from 0 to 100, one per room in order, as: Actions: [a, b, c]". free() *text. */
FEWSHOT_EXTERN(int) fewshot_parser_reask(const fewshot_parser *parser,
                                         const fewshot_parse_result *res, char **text);

/* Write the fallback action the options choose into action and record its name in res
 * (which keeps its failure code and reason). last and expert may be NULL. Returns
 * FEWSHOT_EUNSUPPORTED when the fallback is NONE. */
FEWSHOT_EXTERN(int) fewshot_parser_fallback(const fewshot_parser *parser, const double *last,
                                            const double *expert, double *action,
                                            fewshot_parse_result *res);

/* The JSON schema of the reply {"actions": [dim numbers within the shown bounds]}
 * (new reference), and the whole response_format object
 * {"type": "json_schema", "json_schema": {"name": "actions", "strict": true, "schema": ...}}. */
FEWSHOT_EXTERN(int) fewshot_parser_schema(const fewshot_parser *parser, json_t **schema);
FEWSHOT_EXTERN(int) fewshot_parser_response_format(const fewshot_parser *parser, json_t **out);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_PARSE_H */
