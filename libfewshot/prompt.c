/*
 * The prompt generator: compiles the component templates once, renders one prompt per decision.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/prompt.h"
#include "fewshot/template.h"
#include "internal.h"

/* Templates, in the order of this table. */
enum { T_OBJECTIVE, T_META, T_INSTRUCTION, T_STATE, T_ACTION, T_FEEDBACK, T_COMMENTS,
       T_DEMONSTRATIONS, T_DEMONSTRATION, T_CURRENT, T_OUTPUT, T_OUTCOME, T_COUNT };
static const char *const tnames[T_COUNT] = {
    "objective", "meta", "instruction", "state", "action", "feedback", "comments",
    "demonstrations", "demonstration", "current", "output", "outcome"};

/* The generator's own defaults (the plugin's, when it has one, come first). */
static const char *const tdefaults[T_COUNT] = {
    [T_STATE] = "{{{.}}}",
    [T_ACTION] = "{{{actions_text}}}",
    [T_FEEDBACK] = "",     /* the frame shows the reward; plugins add the state after */
    [T_DEMONSTRATIONS] =
        "For your reference, {{n}} {{#one}}demonstration is{{/one}}{{^one}}demonstrations "
        "are{{/one}} provided below. The greater the reward a demonstration achieves, the more "
        "effective it is.\n"
        "{{#demonstrations}}{{{text}}}\n{{/demonstrations}}",
    /* the paper's Figure 2: the reward, the actions, then the plugin's feedback ("Comments:
     * After taking the above actions, ...") and one comment per line */
    [T_DEMONSTRATION] =
        "Demonstration {{index}}:\n"
        "Description: {{{description}}}\n"
        "{{#has_feedback}}Reward: {{reward}}\n{{/has_feedback}}"
        "Actions: {{{action}}}\n"
        "{{#feedback}}{{{feedback}}}\n{{/feedback}}",
    [T_CURRENT] =
        "Please decide the actions based on the following description:\n"
        "Description: {{{description}}}",
    [T_OUTPUT] = "Actions:",
    /* the history as turns: what came of an earlier step's actions, opening the next turn */
    [T_OUTCOME] =
        "{{#has_feedback}}Reward: {{reward}}\n{{/has_feedback}}"
        "{{#feedback}}{{{feedback}}}\n{{/feedback}}",
};

/* The cache order's header counts the dataset's demonstrations only: the history that follows
 * grows and restarts, and a count of it at the top would change every prompt's first line. */
static const char cache_demonstrations[] =
    "For your reference, {{n_dataset}} {{#one_dataset}}demonstration is{{/one_dataset}}"
    "{{^one_dataset}}demonstrations are{{/one_dataset}} provided below{{#historical}}, followed "
    "by steps taken earlier in this episode{{/historical}}. The greater the reward a "
    "demonstration achieves, the more effective it is.\n"
    "{{#demonstrations}}{{{text}}}\n{{/demonstrations}}";

/* Blocks, the positional components. */
enum { B_OBJECTIVE, B_INSTRUCTION, B_DEMOS, B_CURRENT, B_OUTPUT, B_COUNT };
static const char *const bnames[B_COUNT] = {"objective", "instruction", "demonstrations",
                                            "current", "output"};

static const char *const source_names[] = {"expert", "representative", "historical"};
static const char *const selector_names[] = {"knn", "cluster", "buffer"};

/* A rendered demonstration, kept for the steps that show it again at the same place, with
 * what it was rendered from (references held, so no other context takes their address). */
typedef struct demo_entry {
    uint64_t key;
    int source;
    size_t index;
    json_t *item;
    json_t *ctx, *next;
    const double *action;
    size_t action_dim;
    double reward;
} demo_entry;

/* The rendered demonstrations of one prompt, or of every prompt sharing them (an arm's
 * episodes show the same dataset demonstrations: rendering them again in each episode was
 * most of a prompt's building); fingerprint: the templates and number format they were
 * rendered with. */
struct fewshot__demo_cache {
    demo_entry *e;
    size_t n, cap;
    int refs;
    int shared;
    char *fingerprint;
};

/* The marks of the last text counted for one block: where some scanning steps of it started
 * and the tokens before each, so the next, mostly the same, is counted from where it differs. */
#define TOKEN_MARK 256
typedef struct token_memo {
    char *text;
    size_t len, cap;
    size_t *at, *count;
    size_t n, capn;
} token_memo;

static int memo_mark(token_memo *m, size_t at, size_t tokens)
{
    if (m->n == m->capn) {
        size_t cap = m->capn ? 2 * m->capn : 64;
        size_t *a = realloc(m->at, cap * sizeof *a);
        if (a)
            m->at = a;
        size_t *c = a ? realloc(m->count, cap * sizeof *c) : NULL;
        if (!c)
            return -1;
        m->count = c;
        m->capn = cap;
    }
    m->at[m->n] = at;
    m->count[m->n++] = tokens;
    return 0;
}

static void memo_free(token_memo *m)
{
    free(m->text);
    free(m->at);
    free(m->count);
}

/* A build's current block and output format, exactly as put in its prompt, with their token
 * counts: a history turn shows an earlier step's as its question, which is that step's
 * current context rendered again (the agent keeps it as the step's context). */
#define CURRENT_MEMO 4
typedef struct current_memo {
    json_t *ctx;                /* the context rendered (a reference), or NULL: unused */
    json_t *text[2];            /* current block, output format (NULL: rendered empty) */
    size_t tokens[2];
    int have[2];
    json_t *meta, *state;       /* the state's meta and state texts, as demonstrations show */
    int have_view;              /* them too (a history step's are its current state's) */
} current_memo;

static void current_clear(current_memo *m)
{
    json_decref(m->ctx);
    json_decref(m->text[0]);
    json_decref(m->text[1]);
    json_decref(m->meta);
    json_decref(m->state);
    memset(m, 0, sizeof *m);
}

struct fewshot_prompt {
    fewshot_template *t[T_COUNT];   /* NULL: dropped or absent */
    int demo_order;                 /* FEWSHOT_PROMPT_ORDER_CACHE or _PAPER */
    int history_layout;             /* FEWSHOT_PROMPT_HISTORY_TURNS or _DEMONSTRATIONS */
    int turns;                      /* history as turns: that layout, with a current block */
    fewshot__demo_cache *cache;     /* its own (NULL: out of memory, nothing kept) */
    fewshot__demo_cache *shared;    /* the dataset's, shared with other prompts, or NULL */
    char *fingerprint;              /* what a shared cache must have been rendered with */
    int order[B_COUNT];
    size_t norder;
    int in_system[B_COUNT];
    int style;
    char *separator;
    fewshot_text_options numbers;
    size_t dim;
    double *low, *high;
    int integer_space;
    fewshot_text_buf scratch;
    fewshot_text_buf sys, user, all;    /* reused from build to build */
    struct token_memo *tokens;          /* per block, B_COUNT of them (NULL: none) */
    struct current_memo current[CURRENT_MEMO];  /* the last builds' current blocks */
    size_t current_next;                /* the slot the next build takes */
    int building;                       /* this build's slot, or -1 */
    /* a history turn shows its step's outcome only: the parts of its item the outcome
     * template never names are not rendered */
    int turn_feedback, turn_text;
};

const char *fewshot_demo_source_name(int source)
{
    return source >= 0 && source < 3 ? source_names[source] : "unknown";
}

int fewshot_prompt_options_init(fewshot_prompt_options *opts, unsigned int version)
{
    if (version != FEWSHOT_PROMPT_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "prompt options version %u is not supported",
                                 version);
    *opts = (fewshot_prompt_options)FEWSHOT_PROMPT_OPTIONS_INIT;
    return 0;
}

void fewshot_prompt_output_clear(fewshot_prompt_output *out)
{
    if (!out)
        return;
    json_decref(out->messages);
    json_decref(out->components);
    free(out->text);
    *out = (fewshot_prompt_output)FEWSHOT_PROMPT_OUTPUT_INIT;
}

static void cache_clear(fewshot__demo_cache *c)
{
    for (size_t i = 0; c && i < c->n; i++) {
        json_decref(c->e[i].item);
        json_decref(c->e[i].ctx);
        json_decref(c->e[i].next);
    }
    if (c)
        c->n = 0;
}

void fewshot__demo_cache_unref(fewshot__demo_cache *c)
{
    if (!c || --c->refs > 0)
        return;
    cache_clear(c);
    free(c->e);
    free(c->fingerprint);
    free(c);
}

static fewshot__demo_cache *cache_new(void)
{
    fewshot__demo_cache *c = calloc(1, sizeof *c);
    if (c)
        c->refs = 1;
    return c;
}

/* The prompt's own renderings (its steps') are the episode's; the shared dataset ones
 * outlive it, matched by the very contexts they were rendered from. */
void fewshot_prompt_reset(fewshot_prompt *p)
{
    if (p)
        cache_clear(p->cache);
    for (size_t i = 0; p && i < CURRENT_MEMO; i++)
        current_clear(&p->current[i]);
}

int fewshot__prompt_share_demos(fewshot_prompt *p, fewshot__demo_cache **shared)
{
    if (!p->fingerprint)
        return 0;   /* out of memory at creation: keeps its own */
    if (!*shared) {
        fewshot__demo_cache *c = cache_new();
        if (!c || !(c->fingerprint = strdup(p->fingerprint))) {
            free(c);
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        }
        c->shared = 1;
        *shared = c;
    }
    if (strcmp((*shared)->fingerprint, p->fingerprint) != 0)
        return 0;   /* other templates or numbers: its own renderings */
    fewshot__demo_cache_unref(p->shared);
    p->shared = *shared;
    p->shared->refs++;
    return 0;
}

void fewshot_prompt_free(fewshot_prompt *p)
{
    if (!p)
        return;
    fewshot__demo_cache_unref(p->cache);
    fewshot__demo_cache_unref(p->shared);
    free(p->fingerprint);
    for (size_t i = 0; i < CURRENT_MEMO; i++)
        current_clear(&p->current[i]);
    for (int i = 0; i < T_COUNT; i++)
        fewshot_template_free(p->t[i]);
    free(p->separator);
    free(p->low);
    free(p->high);
    fewshot_text_buf_free(&p->scratch);
    fewshot_text_buf_free(&p->sys);
    fewshot_text_buf_free(&p->user);
    fewshot_text_buf_free(&p->all);
    for (int b = 0; p->tokens && b < B_COUNT; b++)
        memo_free(&p->tokens[b]);
    free(p->tokens);
    free(p);
}

/* ------------------------------------------------------------------ spec */

static int find_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static int spec_error(const fewshot_prompt_options *o, const char *path, const char *key,
                      long index, const char *msg)
{
    char p[512];
    if (index >= 0)
        snprintf(p, sizeof p, "%s.%s[%ld]", path, key, index);
    else if (key)
        snprintf(p, sizeof p, "%s.%s", path, key);
    else
        snprintf(p, sizeof p, "%s", path);
    return fewshot_error_set_path(FEWSHOT_EINVAL, o->file, p, "%s", msg);
}

static int block_of(const char *s)
{
    if (s && strcmp(s, "state") == 0)
        return B_CURRENT;
    return find_name(bnames, B_COUNT, s);
}

/* *out = va or vb when v is the string a or b; -1 otherwise. */
static int choose(const json_t *v, const char *a, int va, const char *b, int vb, int *out)
{
    const char *s = json_string_value(v);
    if (s && (strcmp(s, a) == 0 || strcmp(s, b) == 0)) {
        *out = strcmp(s, a) == 0 ? va : vb;
        return 0;
    }
    return -1;
}

static int parse_numbers(fewshot_prompt *p, const json_t *v, const fewshot_prompt_options *o,
                         const char *path)
{
    const char *s = json_string_value(v);
    if (s && strcmp(s, "integer") == 0) {
        p->numbers.numbers = FEWSHOT_NUMBERS_INTEGER;
        return 0;
    }
    if (s && strcmp(s, "raw") == 0) {
        p->numbers.numbers = FEWSHOT_NUMBERS_RAW;
        return 0;
    }
    json_t *d = json_is_object(v) && json_object_size(v) == 1 ? json_object_get(v, "decimals")
                                                               : NULL;
    if (json_is_integer(d) && json_integer_value(d) >= 0 && json_integer_value(d) <= 17) {
        p->numbers.numbers = FEWSHOT_NUMBERS_DECIMALS;
        p->numbers.decimals = (int)json_integer_value(d);
        return 0;
    }
    return spec_error(o, path, "numbers", -1,
                      "expected \"integer\", \"raw\" or {\"decimals\": N} with N from 0 to 17");
}

static int parse_spec(fewshot_prompt *p, const fewshot_prompt_options *o, const json_t *spec,
                      int *dropped, const json_t **templates)
{
    const char *path = o->path ? o->path : "$";
    *templates = NULL;
    if (!spec)
        return 0;
    if (!json_is_object(spec))
        return spec_error(o, path, NULL, -1, "expected an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)spec, key, v) {
        if (strcmp(key, "order") == 0) {
            size_t i;
            json_t *item;
            int seen[B_COUNT] = {0};
            if (!json_is_array(v))
                return spec_error(o, path, key, -1, "expected a list of component names");
            p->norder = 0;
            json_array_foreach(v, i, item) {
                const char *s = json_string_value(item);
                int b = block_of(s);
                if (b < 0 && s && (strcmp(s, "meta") == 0 || strcmp(s, "comments") == 0))
                    continue;   /* inline components have no position of their own */
                if (b < 0)
                    return spec_error(o, path, key, (long)i,
                                      "expected objective, instruction, demonstrations, "
                                      "current, output (meta and comments are inline)");
                if (seen[b]++)
                    return spec_error(o, path, key, (long)i, "component listed twice");
                p->order[p->norder++] = b;
            }
        } else if (strcmp(key, "drop") == 0) {
            size_t i;
            json_t *item;
            if (!json_is_array(v))
                return spec_error(o, path, key, -1, "expected a list of component names");
            json_array_foreach(v, i, item) {
                int t = find_name(tnames, T_COUNT, json_string_value(item));
                if (t < 0)
                    return spec_error(o, path, key, (long)i,
                                      "expected objective, meta, instruction, state, action, "
                                      "feedback, comments, demonstrations, demonstration, "
                                      "current, output or outcome");
                dropped[t] = 1;
            }
        } else if (strcmp(key, "templates") == 0) {
            const char *name;
            json_t *text;
            if (!json_is_object(v))
                return spec_error(o, path, key, -1, "expected an object of template texts");
            json_object_foreach(v, name, text) {
                char sub[256];
                snprintf(sub, sizeof sub, "%s.%s", key, name);
                if (find_name(tnames, T_COUNT, name) < 0)
                    return spec_error(o, path, sub, -1, "unknown component");
                if (!json_is_string(text))
                    return spec_error(o, path, sub, -1, "expected a template string");
            }
            *templates = v;
        } else if (strcmp(key, "numbers") == 0) {
            int rc = parse_numbers(p, v, o, path);
            if (rc)
                return rc;
        } else if (strcmp(key, "style") == 0) {
            if (choose(v, "chat", FEWSHOT_PROMPT_CHAT, "completion", FEWSHOT_PROMPT_COMPLETION,
                       &p->style))
                return spec_error(o, path, key, -1, "expected \"chat\" or \"completion\"");
        } else if (strcmp(key, "system") == 0) {
            size_t i;
            json_t *item;
            if (!json_is_array(v))
                return spec_error(o, path, key, -1, "expected a list of block names");
            memset(p->in_system, 0, sizeof p->in_system);
            json_array_foreach(v, i, item) {
                int b = block_of(json_string_value(item));
                if (b < 0)
                    return spec_error(o, path, key, (long)i,
                                      "expected objective, instruction, demonstrations, "
                                      "current or output");
                p->in_system[b] = 1;
            }
        } else if (strcmp(key, "demo_order") == 0) {
            if (choose(v, "cache", FEWSHOT_PROMPT_ORDER_CACHE, "paper",
                       FEWSHOT_PROMPT_ORDER_PAPER, &p->demo_order))
                return spec_error(o, path, key, -1, "expected \"cache\" or \"paper\"");
        } else if (strcmp(key, "history_layout") == 0) {
            if (choose(v, "turns", FEWSHOT_PROMPT_HISTORY_TURNS, "demonstrations",
                       FEWSHOT_PROMPT_HISTORY_DEMONSTRATIONS, &p->history_layout))
                return spec_error(o, path, key, -1,
                                  "expected \"turns\" or \"demonstrations\"");
        } else if (strcmp(key, "reward_digits") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 17)
                return spec_error(o, path, key, -1, "expected an integer from 0 (rounded) to "
                                  "17 significant digits");
            p->numbers.reward_digits = (int)json_integer_value(v);
        } else if (strcmp(key, "separator") == 0) {
            if (!json_is_string(v))
                return spec_error(o, path, key, -1, "expected a string");
            free(p->separator);
            p->separator = strdup(json_string_value(v));
        } else {
            return spec_error(o, path, key, -1, "unknown key (expected order, drop, templates, "
                              "numbers, style, system, separator, demo_order, "
                              "history_layout, reward_digits)");
        }
    }
    return 0;
}

/* The plugin's params_doc (kept parsed for the process), or NULL. */
static const json_t *plugin_doc(fewshot_env *env)
{
    return env ? fewshot__params_doc(fewshot_env_plugin_of(env)->params_doc) : NULL;
}

/* The params_doc number `key`, or dflt. */
static double plugin_number(const json_t *doc, const char *key, double dflt)
{
    json_t *s = json_object_get(doc, key);
    return json_is_number(s) && json_number_value(s) >= 0 ? json_number_value(s) : dflt;
}

/* Everything a rendered demonstration depends on besides its own data: the templates (text,
 * or absent), the number format and the action space (a history turn shows the instructed
 * range). NULL when out of memory. */
static char *fingerprint(const fewshot_prompt *p, const char *const *used)
{
    fewshot_text_buf b = {0};
    char head[160];
    snprintf(head, sizeof head, "%d %d %a %d %zu %d\n", p->numbers.numbers, p->numbers.decimals,
             p->numbers.action_scale, p->numbers.reward_digits, p->dim, p->integer_space);
    int rc = fewshot_text_buf_puts(&b, head);
    for (size_t i = 0; rc == 0 && i < p->dim; i++) {
        snprintf(head, sizeof head, "%a %a\n", p->low[i], p->high[i]);
        rc = fewshot_text_buf_puts(&b, head);
    }
    for (int t = 0; rc == 0 && t < T_COUNT; t++) {
        snprintf(head, sizeof head, "%zu:", used[t] ? strlen(used[t]) : (size_t)0);
        rc = fewshot_text_buf_puts(&b, used[t] ? head : "-:");
        if (rc == 0 && used[t])
            rc = fewshot_text_buf_puts(&b, used[t]);
    }
    char *out = rc == 0 && b.data ? strndup(b.data, b.len) : NULL;
    fewshot_text_buf_free(&b);
    return out;
}

int fewshot_prompt_new(fewshot_prompt **out, fewshot_env *env, const fewshot_prompt_options *opts)
{
    *out = NULL;
    fewshot_prompt_options o = opts ? *opts : (fewshot_prompt_options)FEWSHOT_PROMPT_OPTIONS_INIT;
    if (o.version != FEWSHOT_PROMPT_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "prompt options version %u is not supported",
                                 o.version);
    const fewshot_space *act = o.act ? o.act : env ? fewshot_env_act_space(env) : NULL;
    if (!act)
        return fewshot_error_set(FEWSHOT_EINVAL, "prompt: no environment and no action space");
    fewshot_prompt *p = calloc(1, sizeof *p);
    if (!p)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (int b = 0; b < B_COUNT; b++)
        p->order[b] = b;
    p->norder = B_COUNT;
    p->building = -1;
    /* what stays the same for a whole episode goes first, as the system message, so
     * servers reuse their cached prefix (fewshot-prompt(7)) */
    p->in_system[B_OBJECTIVE] = 1;
    p->in_system[B_INSTRUCTION] = 1;
    p->style = FEWSHOT_PROMPT_CHAT;
    p->separator = strdup("\n\n");
    p->numbers = (fewshot_text_options)FEWSHOT_TEXT_OPTIONS_INIT;
    const json_t *doc = plugin_doc(env);
    double scale = o.action_scale > 0 ? o.action_scale : plugin_number(doc, "action_scale", 1);
    p->numbers.action_scale = scale > 0 ? scale : 1;
    p->numbers.reward_digits = (int)plugin_number(doc, "reward_digits", 3);
    p->dim = act->dim;
    p->integer_space = act->integer;
    p->low = malloc((act->dim + 1) * sizeof *p->low);
    p->high = malloc((act->dim + 1) * sizeof *p->high);
    int rc = p->separator && p->low && p->high ? 0
                                               : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < act->dim; i++) {
        p->low[i] = act->low ? act->low[i] : -INFINITY;
        p->high[i] = act->high ? act->high[i] : INFINITY;
    }
    int dropped[T_COUNT] = {0};
    const json_t *templates = NULL;
    const char *used[T_COUNT] = {0};
    p->cache = cache_new();
    if (rc == 0)
        rc = parse_spec(p, &o, o.spec, dropped, &templates);
    const char *path = o.path ? o.path : "$";
    for (int t = 0; rc == 0 && t < T_COUNT; t++) {
        if (dropped[t])
            continue;
        const char *text = json_string_value(json_object_get(templates, tnames[t]));
        if (!text && env)
            text = fewshot_env_template(env, tnames[t]);
        if (!text && !env && o.templates)
            text = o.templates(o.templates_data, tnames[t]);
        if (!text)
            text = t == T_DEMONSTRATIONS && p->demo_order == FEWSHOT_PROMPT_ORDER_CACHE ?
                   cache_demonstrations : tdefaults[t];
        if (!text)
            continue;
        char name[512];
        snprintf(name, sizeof name, "%s.templates.%s", path, tnames[t]);
        json_t *check = json_string(text);
        if (!check) {
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, name, 0, 0, "template is not valid UTF-8");
            break;
        }
        json_decref(check);
        used[t] = text;
        fewshot_template_options to = FEWSHOT_TEMPLATE_OPTIONS_INIT;
        to.escape = FEWSHOT_TEMPLATE_ESCAPE_NONE;
        to.name = name;
        rc = fewshot_template_new(&p->t[t], text, (size_t)-1, &to);
    }
    for (size_t k = 0; rc == 0 && k < p->norder; k++)
        p->turns |= p->order[k] == B_CURRENT && p->t[T_CURRENT] &&
                    p->history_layout == FEWSHOT_PROMPT_HISTORY_TURNS;
    if (rc == 0)
        p->fingerprint = fingerprint(p, used);
    p->turn_feedback = p->t[T_OUTCOME] && fewshot__template_mentions(p->t[T_OUTCOME], "feedback");
    p->turn_text = p->t[T_OUTCOME] && fewshot__template_mentions(p->t[T_OUTCOME], "text");
    if (rc) {
        fewshot_prompt_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

const fewshot_text_options *fewshot_prompt_text_options(const fewshot_prompt *p)
{
    return &p->numbers;
}

void fewshot_prompt_parse_options(const fewshot_prompt *p, fewshot_parse_options *opts)
{
    opts->action_scale = p->numbers.action_scale;
    opts->integers = p->numbers.numbers == FEWSHOT_NUMBERS_INTEGER;
}

int fewshot_prompt_spec_merge(json_t **out, const json_t *base, const json_t *over)
{
    *out = NULL;
    if ((base && !json_is_object(base)) || (over && !json_is_object(over)))
        return fewshot_error_set(FEWSHOT_EINVAL, "prompt spec merge: expected objects");
    json_t *m = base ? json_deep_copy(base) : json_object();
    if (!m)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    const char *key;
    json_t *v;
    if (over) {
        json_object_foreach((json_t *)over, key, v) {
            json_t *old = json_object_get(m, key);
            if (strcmp(key, "templates") == 0 && json_is_object(old) && json_is_object(v))
                json_object_update(old, v);
            else
                json_object_set_new(m, key, json_deep_copy(v));
        }
    }
    *out = m;
    return 0;
}

/* ------------------------------------------------------------------ tokens */

/* Character classes for the estimate: 0 blank, 1 newline, 2 letter, 3 digit, 4 other,
 * 5 UTF-8 continuation byte. */
static unsigned char token_class[256];

static void token_classes(void)
{
    for (int c = 0; c < 256; c++) {
        unsigned char k = 4;
        if (c == ' ' || c == '\t' || c == '\r')
            k = 0;
        else if (c == '\n')
            k = 1;
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            k = 2;
        else if (c >= '0' && c <= '9')
            k = 3;
        else if ((c & 0xC0) == 0x80)
            k = 5;
        token_class[c] = k;
    }
}

/* Count the tokens of base[from, len) on top of tokens, the count of what comes before from
 * (a step's start). With a memo, the position and count at a step's start are kept every
 * TOKEN_MARK bytes or so. */
static size_t scan_tokens(const char *text, size_t from, size_t len, size_t tokens,
                          token_memo *m)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, token_classes);
    const unsigned char *base = (const unsigned char *)text, *s = base + from, *end = base + len;
    size_t mark = m ? from + TOKEN_MARK : len;     /* where the next mark is due */
    /* the shape of o200k/cl100k pre-tokenization: a word takes the blank before it, digits
     * go in groups of three and never take a blank (so " 21" is two tokens), a run of
     * punctuation is one token together with the newlines after it (".\n"), a run of
     * newlines one; calibrated on shipped prompts (tests/unit/test_tokens.c) */
    while (s < end) {
        const unsigned char *start = s;
        if ((size_t)(s - base) >= mark) {
            if (memo_mark(m, (size_t)(s - base), tokens) == 0)
                mark = (size_t)(s - base) + TOKEN_MARK;
            else
                mark = len;     /* no memory: the rest is counted, not marked */
        }
        switch (token_class[*s]) {
        case 0:
            while (s < end && token_class[*s] == 0)
                s++;
            if (s < end && token_class[*s] != 1)
                tokens += (s - start > 1) + (token_class[*s] == 3);
            break;
        case 1:
            while (s < end && (*s == '\n' || *s == '\r'))
                s++;
            tokens++;
            break;
        case 2:
            while (s < end && token_class[*s] == 2)
                s++;
            tokens += 1 + (size_t)(s - start) / 10;
            break;
        case 3:
            while (s < end && token_class[*s] == 3)
                s++;
            tokens += ((size_t)(s - start) + 2) / 3;
            break;
        case 4:
            while (s < end && token_class[*s] == 4)
                s++;
            while (s < end && token_class[*s] == 1)
                s++;
            tokens++;
            break;
        default:
            /* one code point */
            s++;
            while (s < end && token_class[*s] == 5)
                s++;
            tokens++;
        }
    }
    return tokens;
}

size_t fewshot_prompt_tokens(const char *text, size_t len)
{
    return scan_tokens(text, 0, len, 0, NULL);
}

/* fewshot_prompt_tokens(s, len), counted from the last mark of m's text inside the prefix s
 * shares with it: the count before a step's start depends only on the bytes up to that start,
 * itself included, so a mark strictly inside the shared prefix holds for s too. */
static size_t memo_tokens(token_memo *m, const char *s, size_t len)
{
    size_t shared = fewshot__common_prefix(m->text ? m->text : "", s,
                                           m->len < len ? m->len : len);
    if (len + 1 > m->cap) {
        char *t = realloc(m->text, len + 1);
        if (!t) {
            m->len = m->n = 0;
            return fewshot_prompt_tokens(s, len);
        }
        m->text = t;
        m->cap = len + 1;
    }
    size_t k = m->n;
    while (k > 0 && m->at[k - 1] >= shared)
        k--;
    m->n = k;
    memcpy(m->text + shared, s + shared, len - shared);
    m->len = len;
    return scan_tokens(s, k ? m->at[k - 1] : 0, len, k ? m->count[k - 1] : 0, m);
}

/* ------------------------------------------------------------------ build */

/* Render template t over a stack of contexts (bottom first) into a new JSON string, trailing
 * whitespace removed; *out stays NULL when the template is absent or renders empty. Real
 * numbers are formatted as the prompt's numbers say (the translator, applied in place). */
static int render_str(fewshot_prompt *p, int t, const json_t *const *stack, size_t n,
                      json_t **out)
{
    *out = NULL;
    if (!p->t[t])
        return 0;
    fewshot_text_buf_reset(&p->scratch);
    int rc = fewshot_template_render_stack(p->t[t], stack, n, &p->numbers, &p->scratch);
    if (rc)
        return rc;
    size_t len = p->scratch.len;
    while (len && strchr(" \t\r\n", p->scratch.data[len - 1]))
        len--;
    if (len == 0)
        return 0;
    /* templates were checked to be UTF-8 and JSON strings are, so the rendering is too */
    *out = json_stringn_nocheck(p->scratch.data, len);
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}

/* a + sep + b, skipping empty parts; new reference or NULL when both are empty. */
static json_t *join(const json_t *a, const json_t *b, char sep)
{
    if (!a && !b)
        return NULL;
    if (!a || !b)
        return json_incref((json_t *)(a ? a : b));
    size_t la = json_string_length(a), lb = json_string_length(b);
    char *s = malloc(la + lb + 2);
    if (!s)
        return NULL;
    memcpy(s, json_string_value(a), la);
    s[la] = sep;
    memcpy(s + la + 1, json_string_value(b), lb);
    json_t *j = json_stringn_nocheck(s, la + lb + 1);
    free(s);
    return j;
}

static void set(json_t *obj, const char *key, json_t *v)
{
    if (v)
        json_object_set_new(obj, key, v);
}

/* ------------------------------------------------------------------ demonstration order */

static int source_rank(const fewshot_prompt_demo *d)
{
    /* representatives are the same all episode, nearest neighbours change with the state
     * (less with selection.stick), history grows at the end */
    switch (d->source) {
    case FEWSHOT_DEMO_REPRESENTATIVE: return 0;
    case FEWSHOT_DEMO_HISTORICAL: return 2;
    default: return 1;
    }
}

int fewshot_prompt_demo_order(const fewshot_prompt *p, const fewshot_prompt_demo *demos,
                              size_t n, size_t *perm)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    if (!p || p->demo_order == FEWSHOT_PROMPT_ORDER_PAPER)
        return 0;
    /* insertion sort: n is a handful, and it is stable */
    for (size_t i = 1; i < n; i++) {
        size_t v = perm[i], j = i;
        const fewshot_prompt_demo *a = &demos[v];
        while (j > 0) {
            const fewshot_prompt_demo *b = &demos[perm[j - 1]];
            int ra = source_rank(a), rb = source_rank(b);
            /* nearest neighbours keep the selection's order: with sticky selection the
             * previous step's survivors come first in their order, new picks after them */
            if (rb < ra || (rb == ra && (ra == 1 || b->key <= a->key || !a->key || !b->key)))
                break;
            perm[j] = perm[j - 1];
            j--;
        }
        perm[j] = v;
    }
    return 0;
}

/* ------------------------------------------------------------------ one demonstration */

/* Where demonstration d is kept: this episode's steps in the prompt's own cache (their
 * contexts are the episode's, freed with it), the dataset's in the shared one when there is
 * one. */
static fewshot__demo_cache *cache_of(fewshot_prompt *p, const fewshot_prompt_demo *d)
{
    return p->shared && d->source != FEWSHOT_DEMO_HISTORICAL ? p->shared : p->cache;
}

static demo_entry *cache_get(fewshot_prompt *p, const fewshot_prompt_demo *d)
{
    fewshot__demo_cache *c = cache_of(p, d);
    for (size_t i = 0; c && i < c->n; i++) {
        demo_entry *e = &c->e[i];
        if (e->key != d->key || e->source != d->source)
            continue;
        /* a prompt's own cache trusts the key until reset (fewshot_prompt_demo); a shared
         * one is read by other episodes, whose keys name other steps */
        if (!c->shared || (e->ctx == d->context && e->next == d->next_context &&
                           e->action == d->action && e->action_dim == d->action_dim &&
                           memcmp(&e->reward, &d->reward, sizeof e->reward) == 0))
            return e;
    }
    return NULL;
}

/* A kept demonstration shown at another position: the same parts under a new label. */
static int relabel(fewshot_prompt *p, demo_entry *e, size_t index)
{
    json_t *item = json_copy(e->item), *text = NULL;
    if (!item)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    json_object_set_new(item, "index", json_integer((json_int_t)index + 1));
    const json_t *istack[1] = {item};
    int rc = render_str(p, T_DEMONSTRATION, istack, 1, &text);
    if (rc) {
        json_decref(item);
        return rc;
    }
    json_object_set_new(item, "text", text ? text : json_string(""));
    json_decref(e->item);
    e->item = item;
    e->index = index;
    return 0;
}

static void cache_put(fewshot_prompt *p, const fewshot_prompt_demo *d, size_t index,
                      json_t *item)
{
    fewshot__demo_cache *c = cache_of(p, d);
    if (!c)
        return;
    if (c->n == c->cap) {
        /* a shared cache holds many episodes' working sets */
        if (c->cap >= (c->shared ? 2048u : 512u)) {
            cache_clear(c);     /* a new working set: start over */
        } else {
            size_t cap = c->cap ? 2 * c->cap : 32;
            demo_entry *e = realloc(c->e, cap * sizeof *e);
            if (!e)
                return;     /* not cached: rendered again next time */
            c->e = e;
            c->cap = cap;
        }
    }
    c->e[c->n++] = (demo_entry){d->key, d->source, index, json_incref(item),
                                json_incref((json_t *)d->context),
                                json_incref((json_t *)d->next_context), d->action,
                                d->action_dim, d->reward};
}

/* The kept view of a recent build whose current context was ctx, or NULL. */
static const current_memo *current_view_of(const fewshot_prompt *p, const json_t *ctx)
{
    for (size_t i = 0; ctx && i < CURRENT_MEMO; i++)
        if (p->current[i].ctx == ctx && p->current[i].have_view)
            return &p->current[i];
    return NULL;
}

static int as_turn(const fewshot_prompt *p, const fewshot_prompt_demo *d);

static int render_demo_item(fewshot_prompt *p, const fewshot_prompt_demo *d, size_t index,
                            const json_t *extra, json_t **out)
{
    int turn = as_turn(p, d);   /* shown as a turn: only its action and outcome */
    json_t *overlay = json_object(), *item = json_object(), *meta = NULL, *state = NULL,
           *action = NULL, *feedback = NULL, *comments = NULL, *actions = NULL;
    char *actions_text = NULL;
    int rc = overlay && item ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    int src = d->source >= 0 && d->source < 3 ? d->source : 0;
    char reward[64];
    fewshot_text_reward(reward, sizeof reward, d->reward, &p->numbers);
    /* views: the run's extra, the demonstration's extra, its context, then what we add */
    const json_t *stack[4] = {extra, d->extra, d->context, overlay};
    /* a history step's state texts are those its own build showed as current */
    const current_memo *seen = extra || d->extra ? NULL : current_view_of(p, d->context);
    if (seen) {
        meta = json_incref(seen->meta);
        state = json_incref(seen->state);
    }
    if (rc == 0 && !seen)
        rc = render_str(p, T_META, stack, 3, &meta);
    if (rc == 0 && !seen)
        rc = render_str(p, T_STATE, stack, 3, &state);
    if (rc == 0 && d->action)
        rc = fewshot_text_actions(&actions, &actions_text, d->action,
                                  d->action_dim ? d->action_dim : p->dim, &p->numbers);
    if (rc == 0 && d->action) {
        json_object_set(overlay, "actions", actions);
        json_object_set_new(overlay, "actions_text", json_string(actions_text));
        rc = render_str(p, T_ACTION, stack, 4, &action);
    }
    if (rc == 0 && d->next_context && p->t[T_FEEDBACK]) {
        json_object_set_new(overlay, "reward", json_string(reward));
        stack[2] = d->next_context;
        if (!turn || p->turn_feedback)
            rc = render_str(p, T_FEEDBACK, stack, 4, &feedback);
        if (rc == 0)
            rc = render_str(p, T_COMMENTS, stack, 4, &comments);
    }
    if (rc == 0) {
        json_object_set_new(item, "index", json_integer((json_int_t)index + 1));
        json_object_set_new(item, "source", json_string(source_names[src]));
        json_object_set_new(item, "selector", json_string(selector_names[src]));
        json_object_set_new(item, source_names[src], json_true());
        json_object_set_new(item, "reward", json_string(reward));
        json_object_set_new(item, "has_feedback",
                            json_boolean(d->next_context && p->t[T_FEEDBACK]));
        set(item, "description", join(meta, state, ' '));
        /* each comment on a line of its own, after the feedback's last line */
        if (!turn || p->turn_feedback)
            set(item, "feedback", join(feedback, comments, '\n'));
        set(item, "meta", json_incref(meta));
        set(item, "state", json_incref(state));
        set(item, "action", json_incref(action));
        set(item, "comments", json_incref(comments));
        if (actions_text)
            set(item, "actions_text", json_string(actions_text));
    }
    json_t *text = NULL;
    const json_t *istack[1] = {item};
    if (rc == 0 && (!turn || p->turn_text))
        rc = render_str(p, T_DEMONSTRATION, istack, 1, &text);
    if (rc == 0 && (!turn || p->turn_text))
        json_object_set_new(item, "text", text ? text : json_string(""));
    json_decref(overlay);
    json_decref(meta);
    json_decref(state);
    json_decref(action);
    json_decref(feedback);
    json_decref(comments);
    json_decref(actions);
    free(actions_text);
    if (rc)
        json_decref(item);
    else
        *out = item;
    return rc;
}

/* Append demonstration d, shown at position index, to list: its parts rendered once and kept
 * when the caller gave it a key (they depend on nothing else); only the label follows the
 * position */
static int render_demo(fewshot_prompt *p, const fewshot_prompt_demo *d, size_t index,
                       const json_t *extra, json_t *list)
{
    int cacheable = d->key && !extra && !d->extra;
    demo_entry *e = cacheable ? cache_get(p, d) : NULL;
    if (e) {
        int rc = e->index == index ? 0 : relabel(p, e, index);
        if (rc == 0 && json_array_append(list, e->item))
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        return rc;
    }
    json_t *item = NULL;
    int rc = render_demo_item(p, d, index, extra, &item);
    if (rc)
        return rc;
    if (cacheable)
        cache_put(p, d, index, item);
    rc = json_array_append_new(list, item) ? fewshot_error_set(FEWSHOT_ENOMEM, "out of memory")
                                           : 0;
    return rc;
}

/* Is d an earlier step of this episode shown as a turn of the conversation rather than as
 * a demonstration? (prompt.history_layout "turns", which needs the current block.) */
static int as_turn(const fewshot_prompt *p, const fewshot_prompt_demo *d)
{
    return d->source == FEWSHOT_DEMO_HISTORICAL && p->turns && d->context;
}

/* cur: the current state's view (extra, context, overlay), bottom first */
static int render_block(fewshot_prompt *p, int b, const fewshot_prompt_input *in,
                        const json_t *const *cur, json_t **text, json_t **sources)
{
    *text = NULL;
    switch (b) {
    case B_OBJECTIVE:
        return render_str(p, T_OBJECTIVE, cur, 3, text);
    case B_INSTRUCTION:
        return render_str(p, T_INSTRUCTION, cur, 3, text);
    case B_CURRENT:
        return render_str(p, T_CURRENT, cur, 3, text);
    case B_OUTPUT:
        return render_str(p, T_OUTPUT, cur, 3, text);
    default:
        break;
    }
    size_t shown = 0;
    for (size_t k = 0; k < in->n_demos; k++)
        shown += !as_turn(p, &in->demos[k]);
    if (!p->t[T_DEMONSTRATIONS] || shown == 0)
        return 0;
    json_t *list = json_array(), *view = json_object(), *src = json_array();
    size_t *perm = malloc(in->n_demos * sizeof *perm);
    int rc = list && view && src && perm ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (rc == 0)
        fewshot_prompt_demo_order(p, in->demos, in->n_demos, perm);
    size_t counts[3] = {0}, k = 0;
    for (size_t j = 0; rc == 0 && j < in->n_demos; j++) {
        const fewshot_prompt_demo *d = &in->demos[perm[j]];
        if (as_turn(p, d))
            continue;   /* shown as a turn after the demonstrations (history_turns) */
        rc = render_demo(p, d, k++, in->extra, list);
        int s = d->source >= 0 && d->source < 3 ? d->source : 0;
        counts[s]++;
        json_array_append_new(src, json_string(source_names[s]));
    }
    free(perm);
    if (rc == 0) {
        json_object_set_new(view, "n", json_integer((json_int_t)shown));
        json_object_set_new(view, "one", json_boolean(shown == 1));
        json_object_set_new(view, "n_expert", json_integer((json_int_t)counts[0]));
        json_object_set_new(view, "n_representative", json_integer((json_int_t)counts[1]));
        json_object_set_new(view, "n_historical", json_integer((json_int_t)counts[2]));
        size_t nd = shown - counts[2];
        json_object_set_new(view, "n_dataset", json_integer((json_int_t)nd));
        json_object_set_new(view, "one_dataset", json_boolean(nd == 1));
        json_object_set_new(view, "historical", json_boolean(counts[2] > 0));
        json_object_set(view, "demonstrations", list);
        const json_t *stack[4] = {cur[0], cur[1], cur[2], view};
        rc = render_str(p, T_DEMONSTRATIONS, stack, 4, text);
    }
    json_decref(list);
    json_decref(view);
    if (rc == 0)
        *sources = src;
    else
        json_decref(src);
    return rc;
}

/* The instructed action range: the context's "action_range" [lo, hi] (the plugin narrows
 * it by mode, e.g. HVAC heating [0, 1]) within the action space's bounds. */
void fewshot_prompt_action_range(const fewshot_prompt *p, const json_t *context, double *lo,
                                 double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < p->dim; i++) {
        *lo = fmin(*lo, p->low[i]);
        *hi = fmax(*hi, p->high[i]);
    }
    json_t *r = json_object_get(context, "action_range");
    if (json_is_array(r) && json_array_size(r) == 2 && json_is_number(json_array_get(r, 0)) &&
        json_is_number(json_array_get(r, 1))) {
        double a = json_number_value(json_array_get(r, 0)),
               b = json_number_value(json_array_get(r, 1));
        if (a <= b && fmax(a, *lo) <= fmin(b, *hi)) {
            *lo = fmax(a, *lo);
            *hi = fmin(b, *hi);
        }
    }
}

static int add_output_view(fewshot_prompt *p, const json_t *context, json_t *cur)
{
    double lo, hi, scale = p->numbers.action_scale;
    fewshot_prompt_action_range(p, context, &lo, &hi);
    json_object_set_new(cur, "n_actions", json_integer((json_int_t)p->dim));
    if (isfinite(lo))
        json_object_set_new(cur, "action_low", fewshot_text_number_json(lo * scale, &p->numbers));
    if (isfinite(hi))
        json_object_set_new(cur, "action_high",
                            fewshot_text_number_json(hi * scale, &p->numbers));
    int integers = p->numbers.numbers == FEWSHOT_NUMBERS_INTEGER || p->integer_space;
    json_object_set_new(cur, "integers", json_boolean(integers));
    /* the instruction says what kind of number the demonstrations show */
    char words[64];
    if (integers)
        snprintf(words, sizeof words, "integer");
    else if (p->numbers.numbers == FEWSHOT_NUMBERS_DECIMALS)
        snprintf(words, sizeof words, "number with %d decimal%s", p->numbers.decimals,
                 p->numbers.decimals == 1 ? "" : "s");
    else
        snprintf(words, sizeof words, "number");
    json_object_set_new(cur, "number_words", json_string(words));
    json_object_set_new(cur, "decimals", json_integer(p->numbers.numbers ==
                                                      FEWSHOT_NUMBERS_DECIMALS
                                                      ? p->numbers.decimals : 0));
    return 0;
}

/* ------------------------------------------------------------------ assembly */

/* The prompt being put together: the system and user text of chat, everything joined (the
 * completion prompt, chat's display and hashing text), and for chat the turns finished
 * before the last user message. */
typedef struct assembly {
    fewshot_prompt *p;
    fewshot_text_buf sys, user, all;
    int prev, prev_sys, prev_user;  /* the block last appended to each; -1 none */
    size_t total, nsep;             /* estimated tokens of the parts, separators */
    json_t *turns;                  /* chat: user and assistant messages before the last */
    json_t *components;
} assembly;

#define B_TURN B_COUNT              /* a history turn's outcome, as the previous block */

/* Append block b's text (to the system message when to_sys), after the separator: the
 * output format continues the current description on the next line. */
static int put(assembly *a, int b, int to_sys, const char *s, size_t len)
{
    fewshot_text_buf *dst = to_sys ? &a->sys : &a->user;
    int *prev_dst = to_sys ? &a->prev_sys : &a->prev_user;
    int rc = 0;
    if (dst->len)
        rc = fewshot_text_buf_puts(dst, *prev_dst == B_CURRENT && b == B_OUTPUT
                                            ? "\n" : a->p->separator);
    if (rc == 0)
        rc = fewshot_text_buf_append(dst, s, len);
    if (rc == 0 && a->all.len)
        rc = fewshot_text_buf_puts(&a->all, a->prev == B_CURRENT && b == B_OUTPUT
                                                ? "\n" : a->p->separator);
    if (rc == 0)
        rc = fewshot_text_buf_append(&a->all, s, len);
    a->nsep += a->prev >= 0;
    *prev_dst = b;
    a->prev = b;
    return rc;
}

/* Append a chat message {"role", "content": s} to list. */
static int push_message(json_t *list, const char *role, const char *s, size_t len)
{
    json_t *m = fewshot__put(json_object(), "role", json_string(role));
    m = fewshot__put(m, "content", json_stringn_nocheck(s ? s : "", len));
    return m && json_array_append_new(list, m) == 0
               ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}

/* What a state's current block renders over, added to view: its description, meta and
 * state texts and the instructed range (cur: extra, the state's context, view). */
static int current_view(fewshot_prompt *p, const json_t *const *cur, json_t *view)
{
    json_t *meta = NULL, *state = NULL;
    int rc = render_str(p, T_META, cur, 2, &meta);
    if (rc == 0)
        rc = render_str(p, T_STATE, cur, 2, &state);
    current_memo *m = p->building >= 0 ? &p->current[p->building] : NULL;
    if (rc == 0 && m && !cur[0] && m->ctx == cur[1] && !m->have_view) {
        m->meta = json_incref(meta);
        m->state = json_incref(state);
        m->have_view = 1;
    }
    if (rc == 0) {
        set(view, "description", join(meta, state, ' '));
        set(view, "meta", json_incref(meta));
        set(view, "state", json_incref(state));
        add_output_view(p, cur[1], view);
    }
    json_decref(meta);
    json_decref(state);
    return rc;
}

/* An earlier step's current block and output format as they were rendered when it was the
 * current step: the same views, its context in place of the current one. */
static int render_as_current(fewshot_prompt *p, const fewshot_prompt_input *in,
                             const fewshot_prompt_demo *d, json_t **cur, json_t **out)
{
    json_t *view = json_object();
    if (!view)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    const json_t *stack[3] = {in->extra, d->context, view};
    int rc = current_view(p, stack, view);
    if (rc == 0)
        rc = render_str(p, T_CURRENT, stack, 3, cur);
    if (rc == 0)
        rc = render_str(p, T_OUTPUT, stack, 3, out);
    json_decref(view);
    return rc;
}

/* An earlier step's current block and output format as its own build put them (new
 * references) and their tokens, when a recent build of this prompt rendered its context with
 * the same extra (none); 0 when none did. */
static int current_recall(fewshot_prompt *p, const fewshot_prompt_input *in,
                          const fewshot_prompt_demo *d, json_t **cur, json_t **out,
                          json_int_t *tcur, json_int_t *tout)
{
    if (in->extra || !d->context)
        return 0;
    for (size_t i = 0; i < CURRENT_MEMO; i++) {
        current_memo *m = &p->current[i];
        if (m->ctx != d->context || !m->have[0] || !m->have[1])
            continue;
        *cur = json_incref(m->text[0]);
        *out = json_incref(m->text[1]);
        *tcur = (json_int_t)m->tokens[0];
        *tout = (json_int_t)m->tokens[1];
        return 1;
    }
    return 0;
}

/* Keep what this build put as block b (the current block or the output format) for the
 * turns of later builds. */
static void current_keep(fewshot_prompt *p, int b, json_t *text, size_t tokens)
{
    if (p->building < 0 || (b != B_CURRENT && b != B_OUTPUT))
        return;
    current_memo *m = &p->current[p->building];
    int k = b == B_OUTPUT;
    json_decref(m->text[k]);
    m->text[k] = json_incref(text);
    m->tokens[k] = tokens;
    m->have[k] = 1;
}

/* The parts of an earlier step's turn, rendered once and kept in its demonstration's item
 * (which the demonstration cache keeps for the episode): {"question", "output", "outcome"
 * (each a string or absent), "tokens": [question, output, answer, outcome]}. */
static int turn_parts(fewshot_prompt *p, const fewshot_prompt_input *in,
                      const fewshot_prompt_demo *d, json_t *item, const json_t **parts)
{
    *parts = json_object_get(item, "turn");
    if (*parts)
        return 0;
    json_t *cur = NULL, *out = NULL, *outcome = NULL;
#define TOKENS_OF(j) ((json_int_t)((j) ? fewshot_prompt_tokens(json_string_value(j), \
                                                               json_string_length(j)) : 0))
    json_int_t tcur = 0, tout = 0;
    int rc = 0;
    if (!current_recall(p, in, d, &cur, &out, &tcur, &tout)) {
        rc = render_as_current(p, in, d, &cur, &out);
        tcur = TOKENS_OF(cur);
        tout = TOKENS_OF(out);
    }
    const json_t *istack[1] = {item};
    if (rc == 0)
        rc = render_str(p, T_OUTCOME, istack, 1, &outcome);
    const char *action = json_string_value(json_object_get(item, "action"));
    json_t *t = NULL;
    if (rc == 0) {
        /* {"question", "output", "outcome" (each when rendered), "tokens": [4]} */
        json_int_t counts[4] = {tcur, tout,
                                (json_int_t)fewshot_prompt_tokens(action ? action : "",
                                                                  action ? strlen(action) : 0),
                                TOKENS_OF(outcome)};
        json_t *tok = json_array();
        for (int k = 0; tok && k < 4; k++)
            if (json_array_append_new(tok, json_integer(counts[k])))
                tok = (json_decref(tok), NULL);
        t = json_object();
        if (t && cur)
            t = fewshot__put(t, "question", json_incref(cur));
        if (t && out)
            t = fewshot__put(t, "output", json_incref(out));
        if (t && outcome)
            t = fewshot__put(t, "outcome", json_incref(outcome));
        t = fewshot__put(t, "tokens", tok);
    }
#undef TOKENS_OF
    json_decref(cur);
    json_decref(out);
    json_decref(outcome);
    if (rc == 0 && (!t || json_object_set_new(item, "turn", t)))
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    *parts = json_object_get(item, "turn");
    return rc;
}

static int put_part(assembly *a, int b, const json_t *text)
{
    return text ? put(a, b, 0, json_string_value(text), json_string_length(text)) : 0;
}

/* An earlier step as a turn of the conversation: the question it was asked (the current
 * block and the output format, exactly as its own prompt ended), the actions taken as the
 * answer (an assistant message in chat), and its outcome opening the next user turn. Each
 * prompt of a history window is then the previous one continued. */
static int put_turn(assembly *a, const fewshot_prompt_input *in, const fewshot_prompt_demo *d)
{
    fewshot_prompt *p = a->p;
    json_t *list = json_array();
    const json_t *parts = NULL;
    int rc = list ? render_demo(p, d, 0, in->extra, list)
                  : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    json_t *item = json_array_get(list, 0);
    if (rc == 0)
        rc = turn_parts(p, in, d, item, &parts);
    const char *action = json_string_value(json_object_get(item, "action"));
    const json_t *outcome = json_object_get(parts, "outcome"), *tok = json_object_get(parts,
                                                                                  "tokens");
    if (rc == 0)
        rc = put_part(a, B_CURRENT, json_object_get(parts, "question"));
    if (rc == 0)
        rc = put_part(a, B_OUTPUT, json_object_get(parts, "output"));
    size_t alen = action ? strlen(action) : 0;
    if (rc == 0 && p->style == FEWSHOT_PROMPT_CHAT) {
        rc = push_message(a->turns, "user", a->user.data, a->user.len);
        if (rc == 0)
            rc = push_message(a->turns, "assistant", action, alen);
        fewshot_text_buf_reset(&a->user);
    }
    if (rc == 0)
        rc = fewshot_text_buf_puts(&a->all, " ");
    if (rc == 0)
        rc = fewshot_text_buf_append(&a->all, action ? action : "", alen);
    if (rc == 0 && outcome) {
        const char *o = json_string_value(outcome);
        size_t olen = json_string_length(outcome);
        rc = fewshot_text_buf_puts(&a->all, "\n");
        if (rc == 0)
            rc = fewshot_text_buf_append(&a->all, o, olen);
        if (rc == 0)
            rc = fewshot_text_buf_append(&a->user, o, olen);
    }
    size_t tokens = (outcome != NULL);
    for (size_t k = 0; k < 4; k++)
        tokens += (size_t)json_integer_value(json_array_get(tok, k));
    a->prev = a->prev_user = B_TURN;
    a->total += tokens;
    json_t *c = NULL, *sources = rc == 0 ? json_array() : NULL;
    if (sources && json_array_append_new(sources, json_string_nocheck("historical")))
        sources = (json_decref(sources), NULL);
    if (sources) {
        c = fewshot__put(json_object(), "name", json_string_nocheck("history"));
        c = fewshot__put(c, "tokens", json_integer((json_int_t)tokens));
        c = fewshot__put(c, "sources", sources);
    }
    if (c)
        json_array_append_new(a->components, c);
    json_decref(list);
    return rc;
}

/* The history shown as turns, oldest first. */
static int put_turns(assembly *a, const fewshot_prompt_input *in)
{
    size_t *perm = malloc((in->n_demos + 1) * sizeof *perm), n = 0;
    if (!perm)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t k = 0; k < in->n_demos; k++) {
        if (!as_turn(a->p, &in->demos[k]))
            continue;
        /* insertion by key: the agent keys history by step */
        size_t j = n++;
        while (j > 0 && in->demos[perm[j - 1]].key > in->demos[k].key) {
            perm[j] = perm[j - 1];
            j--;
        }
        perm[j] = k;
    }
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < n; k++)
        rc = put_turn(a, in, &in->demos[perm[k]]);
    free(perm);
    return rc;
}

static int put_block(assembly *a, int b, const fewshot_prompt_input *in,
                     const json_t *const *cur)
{
    fewshot_prompt *p = a->p;
    json_t *text = NULL, *sources = NULL;
    int rc = 0;
    if (b == B_CURRENT)
        rc = put_turns(a, in);
    if (rc == 0)
        rc = render_block(p, b, in, cur, &text, &sources);
    if (rc == 0 && !text)
        current_keep(p, b, NULL, 0);
    if (rc || !text) {
        json_decref(sources);
        return rc;
    }
    const char *s = json_string_value(text);
    size_t len = json_string_length(text);
    /* counted from where the block differs from its text in the last build */
    if (!p->tokens)
        p->tokens = calloc(B_COUNT, sizeof *p->tokens);
    size_t tokens = p->tokens ? memo_tokens(&p->tokens[b], s, len)
                              : fewshot_prompt_tokens(s, len);
    a->total += tokens;
    current_keep(p, b, text, tokens);
    json_t *c = fewshot__put(json_object(), "name", json_string_nocheck(bnames[b]));
    c = fewshot__put(c, "text", json_incref(text));
    c = fewshot__put(c, "tokens", json_integer((json_int_t)tokens));
    if (c && sources)
        json_object_set(c, "sources", sources);
    json_array_append_new(a->components, c);
    json_decref(sources);
    rc = put(a, b, p->style == FEWSHOT_PROMPT_CHAT && p->in_system[b], s, len);
    json_decref(text);
    return rc;
}

static int finish(assembly *a, fewshot_prompt_output *out)
{
    fewshot_prompt *p = a->p;
    out->style = p->style;
    out->components = a->components;
    a->components = NULL;
    if (p->style == FEWSHOT_PROMPT_CHAT) {
        out->messages = json_array();
        int rc = out->messages ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        if (rc == 0 && a->sys.len)
            rc = push_message(out->messages, "system", a->sys.data, a->sys.len);
        if (rc == 0 && json_array_extend(out->messages, a->turns))
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        if (rc == 0)
            rc = push_message(out->messages, "user", a->user.data, a->user.len);
        if (rc)
            return rc;
        /* about 4 tokens of framing per message */
        out->tokens = a->total + a->nsep +
                      FEWSHOT_PROMPT_MESSAGE_TOKENS * json_array_size(out->messages);
    } else {
        out->tokens = a->total + a->nsep;   /* each separator is about one token */
    }
    /* the text is handed over, and the next build gets a buffer of its size (no copy: a
     * 13 KB prompt was copied here once more) */
    size_t cap = a->all.cap;
    char *fresh = cap ? malloc(cap) : NULL;
    if (cap && !fresh)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    out->text = fewshot_text_buf_detach(&a->all);
    if (!out->text) {
        free(fresh);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    if (fresh) {
        fresh[0] = '\0';
        a->all = (fewshot_text_buf){fresh, 0, cap};
    }
    return 0;
}

int fewshot_prompt_build(fewshot_prompt *p, const fewshot_prompt_input *in,
                         fewshot_prompt_output *out)
{
    fewshot_prompt_output_clear(out);
    if (!p || !in || !in->context)
        return fewshot_error_set(FEWSHOT_EINVAL, "prompt build: no current context");
    if (in->version != FEWSHOT_PROMPT_INPUT_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "prompt input version %u is not supported",
                                 in->version);
    if (in->n_demos && !in->demos)
        return fewshot_error_set(FEWSHOT_EINVAL, "prompt build: n_demos without demos");
    /* this build's current block is kept in the oldest slot, for the turns that show it */
    p->building = -1;
    if (!in->extra) {
        p->building = (int)p->current_next;
        p->current_next = (p->current_next + 1) % CURRENT_MEMO;
        current_clear(&p->current[p->building]);
        p->current[p->building].ctx = json_incref((json_t *)in->context);
    }
    json_t *overlay = json_object();
    const json_t *cur[3] = {in->extra, in->context, overlay};
    int rc = overlay ? current_view(p, cur, overlay)
                     : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    /* the buffers are reused from build to build */
    assembly a = {p, p->sys, p->user, p->all, -1, -1, -1, 0, 0, json_array(), json_array()};
    fewshot_text_buf_reset(&a.sys);
    fewshot_text_buf_reset(&a.user);
    fewshot_text_buf_reset(&a.all);
    if (rc == 0 && (!a.components || !a.turns))
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t k = 0; rc == 0 && k < p->norder; k++)
        rc = put_block(&a, p->order[k], in, cur);
    if (rc == 0)
        rc = finish(&a, out);
    json_decref(a.components);
    json_decref(a.turns);
    json_decref(overlay);
    p->sys = a.sys;
    p->user = a.user;
    p->all = a.all;
    if (rc) {
        /* a failed build may have kept part of its blocks: not a whole one to recall */
        if (p->building >= 0)
            current_clear(&p->current[p->building]);
        fewshot_prompt_output_clear(out);
    }
    p->building = -1;
    return rc;
}
