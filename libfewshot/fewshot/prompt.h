/*
 * libfewshot: the prompt generator.
 *
 * A prompt is a sequence of blocks, each rendered from a Mustache template (fewshot-template(7)):
 *   objective       the plugin's "objective"
 *   instruction     the plugin's "instruction" (branch on "mode", "heating", ... inside it)
 *   demonstrations  "For your reference, n demonstrations ..." then one "demonstration" each:
 *                   Demonstration k: / Description: meta + state / Reward: r (with an
 *                   outcome) / Actions: action / the plugin's feedback (the state after) /
 *                   one comment per line
 *   current         "Please decide ... based on the following description:" Description: ...
 *   output          the output format, "Actions:" by default (the reply continues from it)
 * and two inline components: meta (before the state in every Description) and comments (after
 * the feedback, one per line). Every component can be dropped, every block reordered, and
 * every template re-worded. The plugin's defaults come from fewshot_env_template(); the frame
 * templates (demonstrations, demonstration, current, output) are the generator's unless the
 * plugin provides them. See fewshot-prompt(7) for the spec and the exact views.
 *
 * Spec (a JSON object, e.g. a config's "prompt" merged with an arm's):
 *   {"order": ["objective", "instruction", "demonstrations", "current", "output"],
 *    "drop": ["instruction", "comments", ...],
 *    "templates": {"objective": "...", "state": "...", ...},
 *    "numbers": "integer" | "raw" | {"decimals": 2},
 *    "reward_digits": 3,                (rewards under integer numbers: significant digits;
 *                                        default the plugin's params_doc "reward_digits", 3)
 *    "style": "chat" | "completion",    (default chat: messages to /v1/chat/completions)
 *    "system": ["objective", "instruction"], (chat: the blocks sent as the system message)
 *    "demo_order": "cache" | "paper",   (default cache, see FEWSHOT_PROMPT_ORDER_CACHE)
 *    "history_layout": "turns" | "demonstrations", (default turns, FEWSHOT_PROMPT_HISTORY_*)
 *    "separator": "\n\n"}               (between blocks)
 *
 * Thread-safety: a prompt object renders into caches of its own (and keeps rendered
 * demonstrations); use one per thread.
 */
#ifndef FEWSHOT_PROMPT_H
#define FEWSHOT_PROMPT_H

#include <jansson.h>
#include "fewshot/common.h"
#include "fewshot/env.h"
#include "fewshot/parse.h"
#include "fewshot/space.h"
#include "fewshot/text.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_prompt fewshot_prompt;

/* Where a demonstration came from (its selector). */
typedef enum fewshot_demo_source {
    FEWSHOT_DEMO_EXPERT = 0,         /* expert dataset, nearest neighbours (knn) */
    FEWSHOT_DEMO_REPRESENTATIVE = 1, /* expert dataset, cluster representatives */
    FEWSHOT_DEMO_HISTORICAL = 2      /* this episode's online buffer */
} fewshot_demo_source;

/* The source's name: "expert", "representative", "historical". */
FEWSHOT_EXTERN(const char *) fewshot_demo_source_name(int source);

/* One demonstration: a transition with raw (untranslated) contexts. */
typedef struct fewshot_prompt_demo {
    int source;                 /* a fewshot_demo_source */
    const json_t *context;      /* the plugin's context of the state */
    const double *action;       /* the action taken (action space units, act dim values) */
    double reward;
    const json_t *next_context; /* context after the action; NULL: no Reward and
                                   feedback lines */
    const json_t *extra;        /* merged into this demonstration's views, or NULL */
    size_t action_dim;          /* values in action: a demonstration from another scenario
                                   (a building with other zones) shows its own count;
                                   0 means the action space's dim */
    uint64_t key;               /* identity, or 0: with the cache order, representatives and
                                   history are shown by increasing key (dataset row, step), and
                                   a keyed demonstration without extra is rendered once and
                                   kept until fewshot_prompt_reset() */
} fewshot_prompt_demo;

typedef struct fewshot_prompt_input {
    unsigned int version;
    const json_t *context;            /* the current state's raw context */
    const fewshot_prompt_demo *demos; /* in the order they are shown */
    size_t n_demos;
    const json_t *extra;              /* merged into every view (keys the context lacks) */
} fewshot_prompt_input;
#define FEWSHOT_PROMPT_INPUT_VERSION 1
#define FEWSHOT_PROMPT_INPUT_INIT {FEWSHOT_PROMPT_INPUT_VERSION, NULL, NULL, 0, NULL}

/* Supplies a default template when there is no env (NULL: none). */
typedef const char *(*fewshot_prompt_template_fn)(void *data, const char *component);

typedef struct fewshot_prompt_options {
    unsigned int version;
    const json_t *spec;         /* see above; NULL: the paper's prompt */
    const char *file;           /* the spec's file, for errors, or NULL */
    const char *path;           /* the spec's JSON path in it, e.g. "$.prompt"; NULL: "$" */
    double action_scale;        /* 0: the plugin's params_doc "action_scale" (default 1) */
    const fewshot_space *act;   /* NULL: the env's action space */
    fewshot_prompt_template_fn templates;   /* defaults when env is NULL */
    void *templates_data;
} fewshot_prompt_options;
#define FEWSHOT_PROMPT_OPTIONS_VERSION 1
#define FEWSHOT_PROMPT_OPTIONS_INIT {FEWSHOT_PROMPT_OPTIONS_VERSION, NULL, NULL, NULL, 0, \
                                     NULL, NULL, NULL}
FEWSHOT_EXTERN(int) fewshot_prompt_options_init(fewshot_prompt_options *opts,
                                                unsigned int version);

enum { FEWSHOT_PROMPT_COMPLETION = 0, FEWSHOT_PROMPT_CHAT = 1 };

/* Order of the demonstrations (spec "demo_order"). */
enum {
    FEWSHOT_PROMPT_ORDER_CACHE = 0, /* default: representatives by key, then the other
                                       (nearest-neighbour, random) demonstrations as given
                                       (sticky selection keeps the survivors first), then
                                       history in the order it happened, so consecutive
                                       prompts share the longest prefix */
    FEWSHOT_PROMPT_ORDER_PAPER = 1  /* as selected: nearest first, newest history first */
};

/* How the episode's earlier steps are shown (spec "history_layout"). */
enum {
    FEWSHOT_PROMPT_HISTORY_TURNS = 0,   /* default: as the conversation so far, oldest first:
                                           each step's question (current block and output)
                                           as it was asked, its actions as the answer (an
                                           assistant message in chat), its outcome (the
                                           "outcome" template) opening the next turn, so
                                           a prompt continues the previous one */
    FEWSHOT_PROMPT_HISTORY_DEMONSTRATIONS = 1  /* the paper's: as demonstrations, after the
                                                  dataset's (in the demonstrations block) */
};

/* What one build produces. */
typedef struct fewshot_prompt_output {
    int style;              /* FEWSHOT_PROMPT_COMPLETION or _CHAT */
    json_t *messages;       /* chat: [{"role": "system"|"user", "content": "..."}]; else NULL */
    char *text;             /* completion: the prompt; chat: the contents joined by the
                               separator (for display and hashing) */
    json_t *components;     /* [{"name", "text", "tokens"}] per block in order; the
                               demonstrations block also has "sources": ["expert", ...] */
    size_t tokens;          /* estimated tokens of what is sent */
} fewshot_prompt_output;
#define FEWSHOT_PROMPT_OUTPUT_INIT {0, NULL, NULL, NULL, 0}
FEWSHOT_EXTERN(void) fewshot_prompt_output_clear(fewshot_prompt_output *out);

/* Compile a prompt for env (may be NULL with opts->templates and opts->act). Spec errors
 * are FEWSHOT_EINVAL at their JSON path; template errors FEWSHOT_EPARSE with the template's
 * path as file and the line and column inside it. */
FEWSHOT_EXTERN(int) fewshot_prompt_new(fewshot_prompt **out, fewshot_env *env,
                                       const fewshot_prompt_options *opts);
FEWSHOT_EXTERN(void) fewshot_prompt_free(fewshot_prompt *prompt);

/* Render the prompt for one decision. out is cleared first. */
FEWSHOT_EXTERN(int) fewshot_prompt_build(fewshot_prompt *prompt, const fewshot_prompt_input *in,
                                         fewshot_prompt_output *out);

/* Forget the rendered demonstrations (call it when an episode starts: its history steps
 * are new transitions under old keys). */
FEWSHOT_EXTERN(void) fewshot_prompt_reset(fewshot_prompt *prompt);

/* The order the prompt shows n demonstrations in: perm[k] is the index in demos of the k-th
 * shown. */
FEWSHOT_EXTERN(int) fewshot_prompt_demo_order(const fewshot_prompt *prompt,
                                              const fewshot_prompt_demo *demos, size_t n,
                                              size_t *perm);

/* The action range the instruction states for a context, in action-space units: the
 * context's "action_range" [lo, hi] within the space's bounds, else the bounds. */
FEWSHOT_EXTERN(void) fewshot_prompt_action_range(const fewshot_prompt *prompt,
                                                 const json_t *context, double *lo,
                                                 double *hi);

/* The number format and action scale the prompt shows. */
FEWSHOT_EXTERN(const fewshot_text_options *) fewshot_prompt_text_options(
    const fewshot_prompt *prompt);

/* Set a parser's action_scale and integers to what this prompt shows. */
FEWSHOT_EXTERN(void) fewshot_prompt_parse_options(const fewshot_prompt *prompt,
                                                  fewshot_parse_options *opts);

/* Estimated tokens of text: about what o200k (gpt-4o) and cl100k BPE tokenizers give for
 * prompts of English prose with numbers: a word (with the blank before it) is 1 token plus 1
 * per further 10 letters, digits go in groups of 3 and the blank before them is 1, a run of
 * punctuation with the newlines after it is 1, a run of newlines is 1. Within 5% of o200k on
 * the shipped prompts (tests/unit/test_tokens.c). */
FEWSHOT_EXTERN(size_t) fewshot_prompt_tokens(const char *text, size_t len);

/* Tokens a chat request adds per message (role and framing), as OpenAI bills them. */
#define FEWSHOT_PROMPT_MESSAGE_TOKENS 4

/* Merge an override spec (an arm's) into a base spec: keys replace the base's, except
 * "templates", which merge per component. *out is a new object. */
FEWSHOT_EXTERN(int) fewshot_prompt_spec_merge(json_t **out, const json_t *base,
                                              const json_t *override);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_PROMPT_H */
