/*
 * libfewshot: Mustache templates over jansson values.
 *
 * The language of the Mustache spec (v1.3, without lambdas): {{name}} (HTML-escaped unless
 * escaping is off), {{{name}}} and {{&name}} (raw), dotted names, {{.}}, sections {{#x}}..{{/x}}
 * over lists, objects and truthy values, inverted sections {{^x}}..{{/x}}, comments {{! }},
 * partials {{>name}} (standalone ones indented), set delimiters {{=<% %>=}}, and the
 * standalone-line rules. See fewshot-template(7).
 *
 * Falsy: false, null, missing, "", an empty list. Numbers render as integers or, for reals,
 * in the shortest form that reads back to the same double; true/false as "true"/"false";
 * arrays and objects as JSON.
 *
 * A template is compiled once into a tree and rendered many times. Thread-safety: rendering
 * compiles partials on first use and caches them in the template, so one template must not
 * be rendered by two threads at once; distinct templates are independent.
 */
#ifndef FEWSHOT_TEMPLATE_H
#define FEWSHOT_TEMPLATE_H

#include <jansson.h>
#include "fewshot/common.h"
#include "fewshot/text.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_template fewshot_template;

/* Load a partial's text: set *text to a malloc'd string, or leave it NULL when there is no
 * partial of that name (it then renders as ""). Return 0 or a negative FEWSHOT_E* code. */
typedef int (*fewshot_template_partial_fn)(void *data, const char *name, char **text);

enum {
    FEWSHOT_TEMPLATE_ESCAPE_HTML = 0,   /* {{x}} escapes & " < > (the Mustache default) */
    FEWSHOT_TEMPLATE_ESCAPE_NONE = 1    /* {{x}} is raw too (what prompts use) */
};

typedef struct fewshot_template_options {
    unsigned int version;
    int escape;                 /* FEWSHOT_TEMPLATE_ESCAPE_* */
    const char *name;           /* file or component name in error messages, or NULL */
    const json_t *partials;     /* object: partial name -> template text, or NULL */
    const char *partials_dir;   /* else DIR/NAME.mustache, or NULL */
    fewshot_template_partial_fn partial;   /* else this loader, or NULL */
    void *partial_data;
    size_t max_output;          /* rendering longer than this fails (FEWSHOT_ERANGE); 0 = 64 MiB */
    unsigned int max_depth;     /* section and partial nesting at render; 0 = 100 */
} fewshot_template_options;
#define FEWSHOT_TEMPLATE_OPTIONS_VERSION 1
#define FEWSHOT_TEMPLATE_OPTIONS_INIT {FEWSHOT_TEMPLATE_OPTIONS_VERSION, 0, NULL, NULL, NULL, \
                                       NULL, NULL, 0, 0}
FEWSHOT_EXTERN(int) fewshot_template_options_init(fewshot_template_options *opts,
                                                  unsigned int version);

/* Compile text (len bytes, or strlen when len is (size_t)-1). Syntax errors are
 * FEWSHOT_EPARSE with line and column (unclosed or mismatched section, empty or unclosed
 * tag, bad delimiters). The options (and the partials object) are copied. */
FEWSHOT_EXTERN(int) fewshot_template_new(fewshot_template **out, const char *text, size_t len,
                                         const fewshot_template_options *opts);
FEWSHOT_EXTERN(void) fewshot_template_free(fewshot_template *tpl);

/* Render with data (any JSON value; NULL is an empty object), appending to out. */
FEWSHOT_EXTERN(int) fewshot_template_render(fewshot_template *tpl, const json_t *data,
                                            fewshot_text_buf *out);

/* Render with a stack of n contexts, bottom first: names resolve from the top down, as if
 * each had been pushed by an enclosing section (so a view can be layered without copying).
 * numbers (may be NULL) formats every real number interpolated, as fewshot_text_number()
 * does (integers by rounding, fixed decimals); NULL prints the shortest round-trip form. */
FEWSHOT_EXTERN(int) fewshot_template_render_stack(fewshot_template *tpl,
                                                  const json_t *const *stack, size_t n,
                                                  const fewshot_text_options *numbers,
                                                  fewshot_text_buf *out);

/* Compile, render and free in one call; *out is malloc'd. */
FEWSHOT_EXTERN(int) fewshot_template_render_text(char **out, const char *text,
                                                 const json_t *data,
                                                 const fewshot_template_options *opts);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_TEMPLATE_H */
