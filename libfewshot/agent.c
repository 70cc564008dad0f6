/*
 * Agents: the LLM decision loop (observe -> translate -> embed -> select demonstrations ->
 * render the prompt -> ask the LLM -> parse, re-ask or fall back -> act -> record in the
 * online buffer), knn-imitation, and baselines through <fewshot/policy.h>.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "agent_internal.h"
#include "fewshot/agent.h"
#include "fewshot/buffer.h"
#include "fewshot/error.h"
#include "fewshot/parse.h"
#include "fewshot/policy.h"
#include "fewshot/prompt.h"
#include "fewshot/select.h"
#include "fewshot/text.h"
#include "measure.h"
#include "retriever.h"

typedef enum { AGENT_POLICY, AGENT_LLM, AGENT_KNN } agent_kind;

/* A shown demonstration's action as the prompt writes it, kept for the steps that show it
 * again (sticky neighbours and history stay for many steps). */
typedef struct action_key {
    int history;
    size_t item;
    double *action;     /* the values it was written from */
    size_t dim;
    char *text;
} action_key;

struct fewshot_agent {
    agent_kind kind;
    fewshot_env *env;
    fewshot_policy *policy;
    size_t act_dim, obs_dim;
    double *action, *last, *expert, *obs;
    int expert_ready;               /* expert holds the expert's action for obs (measured) */
    int has_last, ready, waiting;
    int failed;                     /* the decision failed: error kept in error_msg */
    int error_code;
    char error_msg[1024];
    uint64_t seed;
    /* retrieval */
    fewshot_demos *own_demos;
    fewshot__retriever *ret;
    fewshot_selector *selector;
    int own_selector;
    fewshot_buffer *buffer;
    fewshot_selection previous;     /* the last prompt's picks (sticky nearest neighbours) */
    json_t *hist_ctx, *hist_next;   /* contexts of this episode's transitions, by step */
    float *query;
    float *hist_vec;                /* query vectors of this episode's steps, by step */
    unsigned char (*hist_digest)[FEWSHOT__STATE_DIGEST];  /* their state texts' digests, */
    unsigned char *hist_digest_made;    /* made when first shown (the measures' distinctness) */
    size_t hist_digest_cap;
    struct action_key *akeys;       /* shown demonstrations' action texts (the measures') */
    size_t n_akeys, cap_akeys;
    size_t hist_vec_n, hist_vec_cap;
    int query_ok;                   /* query holds the state being decided */
    json_t *ctx;                    /* raw context of the state being decided */
    json_t *next_ctx;               /* context of the last observed next state, and that */
    double *next_obs;               /* state: the next decision starts from it */
    size_t next_steps;              /* the environment's step count then */
    /* prompting and parsing */
    fewshot_prompt *prompt;
    fewshot_parser *parser;
    int reask;
    /* the LLM */
    fewshot_llm *llm;
    int own_llm;
    /* consecutive prompts share most of their text: hashed from where they differ */
    fewshot__digest *prompt_digest, *key_digest;
    json_t *llm_config;
    json_t *input;                  /* what was sent: messages (chat) or the prompt string */
    int style;
    char *first_reply;
    int reasked;
    json_t *decision;
};

int fewshot_agent_options_init(fewshot_agent_options *opts, unsigned int version)
{
    if (version != FEWSHOT_AGENT_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_agent_options version %u, expected %u",
                                 version, FEWSHOT_AGENT_OPTIONS_VERSION);
    fewshot_agent_options init = FEWSHOT_AGENT_OPTIONS_INIT;
    *opts = init;
    return 0;
}

/* ---------------------------------------------------------------- construction */

static int make_prompt(fewshot_agent *a, const json_t *arm)
{
    fewshot_prompt_options po = FEWSHOT_PROMPT_OPTIONS_INIT;
    fewshot_parse_options pa = FEWSHOT_PARSE_OPTIONS_INIT;
    /* action_scale is ours (the generator takes it as an option, not in its spec) */
    json_t *spec = json_deep_copy(json_object_get(arm, "prompt"));
    json_t *scale = json_object_get(spec, "action_scale");
    if (json_is_number(scale))
        po.action_scale = json_number_value(scale);
    json_object_del(spec, "action_scale");
    po.spec = spec;
    po.path = "$.prompt";
    int rc = fewshot_prompt_new(&a->prompt, a->env, &po);
    json_decref(spec);
    /* the arm's episodes show the same dataset demonstrations: rendered once for all */
    if (rc == 0)
        rc = fewshot__prompt_share_demos(a->prompt, &a->ret->rendered);
    if (rc)
        return rc;
    fewshot_prompt_parse_options(a->prompt, &pa);
    if ((rc = fewshot_parse_options_from_json(&pa, json_object_get(arm, "parse"), NULL,
                                              "$.parse")) != 0)
        return rc;
    a->reask = pa.reask;
    return fewshot_parser_new(&a->parser, fewshot_env_act_space(a->env), &pa);
}

static int load_demos(fewshot_agent *a, const json_t *arm)
{
    const char *file = json_string_value(json_object_get(json_object_get(arm, "demos"), "file"));
    if (!file)
        return 0;
    return fewshot_demos_load(&a->own_demos, file);
}

int fewshot__agent_new_shared(fewshot_agent **out, fewshot_env *env,
                              const fewshot_agent_options *opts, fewshot__retriever *ret)
{
    fewshot_agent_options defaults = FEWSHOT_AGENT_OPTIONS_INIT;
    int rc = 0;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->version != FEWSHOT_AGENT_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_agent_options version %u, expected %u",
                                 opts->version, FEWSHOT_AGENT_OPTIONS_VERSION);
    fewshot_agent *a = calloc(1, sizeof *a);
    if (!a)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    a->env = env;
    a->seed = opts->seed;
    a->act_dim = fewshot_env_act_space(env)->dim;
    a->obs_dim = fewshot_env_obs_space(env)->dim;
    a->action = calloc(a->act_dim + 1, sizeof *a->action);
    a->last = calloc(a->act_dim + 1, sizeof *a->last);
    a->expert = calloc(a->act_dim + 1, sizeof *a->expert);
    a->obs = calloc(a->obs_dim + 1, sizeof *a->obs);
    a->next_obs = calloc(a->obs_dim + 1, sizeof *a->next_obs);
    a->hist_ctx = json_array();
    a->hist_next = json_array();
    if (!a->action || !a->last || !a->expert || !a->obs || !a->next_obs) {
        fewshot_agent_free(a);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    const json_t *arm = opts->arm;
    if (opts->policy && strcmp(opts->policy, "knn-imitation") != 0) {
        a->kind = AGENT_POLICY;
        rc = fewshot_policy_new(&a->policy, env, opts->policy, opts->seed);
    } else {
        a->kind = opts->policy ? AGENT_KNN : AGENT_LLM;
        if (ret) {
            a->ret = fewshot__retriever_ref(ret);
        } else {
            fewshot_demos *demos = opts->demos;
            if (!demos && (rc = load_demos(a, arm)) == 0)
                demos = a->own_demos;
            if (rc == 0)
                rc = fewshot__retriever_new(&a->ret, env, arm, demos);
        }
        if (rc == 0 && a->kind == AGENT_KNN && !a->ret->n)
            rc = fewshot_error_set(FEWSHOT_EINVAL, "knn-imitation needs demonstrations: set "
                                   "demos (a file or generation settings)");
        if (rc == 0 && a->kind == AGENT_LLM)
            rc = fewshot__retriever_selector(a->ret, opts->seed, &a->selector,
                                             &a->own_selector);
        if (rc == 0 && a->kind == AGENT_LLM)
            rc = fewshot_buffer_new(&a->buffer, a->ret->buffer);
        if (rc == 0 && a->ret->dim)
            a->query = calloc(a->ret->dim, sizeof *a->query);
        if (rc == 0 && a->kind == AGENT_LLM)
            rc = make_prompt(a, arm);
        if (rc == 0 && a->kind == AGENT_LLM) {
            a->llm = opts->llm;     /* NULL: made from the arm's llm section on first use */
            a->llm_config = json_deep_copy(json_object_get(arm, "llm"));
        }
    }
    if (rc) {
        fewshot_agent_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int fewshot_agent_new(fewshot_agent **out, fewshot_env *env, const fewshot_agent_options *opts)
{
    return fewshot__agent_new_shared(out, env, opts, NULL);
}

static void clear_action_keys(fewshot_agent *a)
{
    for (size_t i = 0; i < a->n_akeys; i++) {
        free(a->akeys[i].action);
        free(a->akeys[i].text);
    }
    a->n_akeys = 0;
}

static void clear_decision(fewshot_agent *a)
{
    json_decref(a->input);
    json_decref(a->ctx);
    json_decref(a->decision);
    free(a->first_reply);
    a->input = a->ctx = a->decision = NULL;
    a->first_reply = NULL;
    a->reasked = a->waiting = a->ready = a->failed = 0;
    a->expert_ready = 0;
}

void fewshot_agent_free(fewshot_agent *agent)
{
    if (!agent)
        return;
    clear_decision(agent);
    fewshot_policy_free(agent->policy);
    fewshot_prompt_free(agent->prompt);
    fewshot_parser_free(agent->parser);
    fewshot_buffer_free(agent->buffer);
    fewshot_selection_clear(&agent->previous);
    if (agent->own_selector)
        fewshot_selector_free(agent->selector);
    fewshot__retriever_unref(agent->ret);
    fewshot_demos_free(agent->own_demos);
    if (agent->own_llm)
        fewshot_llm_free(agent->llm);
    fewshot__digest_free(agent->prompt_digest);
    fewshot__digest_free(agent->key_digest);
    json_decref(agent->llm_config);
    json_decref(agent->hist_ctx);
    json_decref(agent->hist_next);
    json_decref(agent->next_ctx);
    free(agent->next_obs);
    free(agent->query);
    free(agent->hist_vec);
    free(agent->hist_digest);
    free(agent->hist_digest_made);
    clear_action_keys(agent);
    free(agent->akeys);
    free(agent->action);
    free(agent->last);
    free(agent->expert);
    free(agent->obs);
    free(agent);
}

int fewshot_agent_reset(fewshot_agent *agent, uint64_t seed)
{
    clear_decision(agent);
    agent->seed = seed;
    agent->has_last = 0;
    if (agent->policy)
        fewshot_policy_reset(agent->policy, seed);
    if (agent->buffer)
        fewshot_buffer_clear(agent->buffer);
    /* picks stick within an episode only */
    fewshot_selection_clear(&agent->previous);
    if (agent->own_selector)
        fewshot_selector_reseed(agent->selector, agent->ret->sopts.seed ^ seed);
    json_array_clear(agent->hist_ctx);
    json_array_clear(agent->hist_next);
    json_decref(agent->next_ctx);
    agent->next_ctx = NULL;
    agent->hist_vec_n = 0;
    if (agent->hist_digest_made)
        memset(agent->hist_digest_made, 0, agent->hist_digest_cap);
    clear_action_keys(agent);
    /* history keys are step numbers: the next episode's steps are other transitions */
    if (agent->prompt)
        fewshot_prompt_reset(agent->prompt);
    return 0;
}

int fewshot_agent_uses_llm(const fewshot_agent *agent)
{
    return agent->kind == AGENT_LLM;
}

fewshot_llm *fewshot_agent_llm(const fewshot_agent *agent)
{
    return agent->llm;
}

/* ---------------------------------------------------------------- demonstrations */

static const char *role_source_name(const char *role)
{
    return role ? role : "expert";
}

static int source_of(const char *role)
{
    if (role && strcmp(role, "representative") == 0)
        return FEWSHOT_DEMO_REPRESENTATIVE;
    if (role && strcmp(role, "historical") == 0)
        return FEWSHOT_DEMO_HISTORICAL;
    return FEWSHOT_DEMO_EXPERT;
}

/* The prompt_hash: the SHA-256 of the prompt text, from where it differs from the last. */
static void hash_text(fewshot_agent *a, const char *text, char out[65])
{
    if (!a->prompt_digest && (fewshot__digest_new(&a->prompt_digest) != 0 ||
                              fewshot__digest_new(&a->key_digest) != 0))
        fewshot_error_clear();  /* without one, hashed in one pass (the client keys its own) */
    if (!a->prompt_digest || fewshot__digest_text(a->prompt_digest, text, strlen(text), out)) {
        fewshot_error_clear();
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        static const char hex[] = "0123456789abcdef";
        EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
        for (unsigned int i = 0; i < len && i < 32; i++) {
            out[2 * i] = hex[md[i] >> 4];
            out[2 * i + 1] = hex[md[i] & 15];
        }
        out[64] = '\0';
    }
}

/* ---------------------------------------------------------------- measuring retrieval */

/* One demonstration shown for a decision, as the measures read it. */
typedef struct shown {
    const double *action;
    size_t act_dim;
    const double *obs;              /* its state */
    size_t obs_dim;
    const float *vec;               /* its embedding, or NULL */
    const json_t *context;          /* its state's raw context, or NULL */
    int history;                    /* from this episode's steps (else the dataset) */
    size_t item;                    /* its step, or its dataset index */
} shown;

/* The bytes of n doubles in hex, appended at out (2 * 8 * n characters). */
static char *hex_doubles(char *out, const double *v, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = (const unsigned char *)v;
    for (size_t i = 0; i < n * sizeof *v; i++) {
        *out++ = digits[b[i] >> 4];
        *out++ = digits[b[i] & 15];
    }
    return out;
}

/* Room for the state digest of this episode's step (flags of new slots cleared). */
static int hist_digest_slot(fewshot_agent *a, size_t step)
{
    if (step < a->hist_digest_cap)
        return 0;
    size_t cap = a->hist_digest_cap ? 2 * a->hist_digest_cap : 64;
    while (cap <= step)
        cap *= 2;
    void *md = realloc(a->hist_digest, cap * sizeof *a->hist_digest);
    if (!md)
        return -1;
    a->hist_digest = md;
    unsigned char *made = realloc(a->hist_digest_made, cap);
    if (!made)
        return -1;
    memset(made + a->hist_digest_cap, 0, cap - a->hist_digest_cap);
    a->hist_digest_made = made;
    a->hist_digest_cap = cap;
    return 0;
}

/* The digest of a shown demonstration's state text: made once per dataset item (in the
 * retriever) or per step of this episode (here), since the same states are shown again for
 * many consecutive decisions and rendering their texts cost more than the rest of the
 * measures. */
static void state_digest(fewshot_agent *a, const shown *s, unsigned char *md)
{
    if (!s->history && s->context && fewshot__retriever_item_digest(a->ret, s->item, md) == 0)
        return;
    if (s->history && s->context && hist_digest_slot(a, s->item) == 0) {
        if (!a->hist_digest_made[s->item]) {
            fewshot__retriever_state_digest(a->ret, s->context, a->hist_digest[s->item]);
            a->hist_digest_made[s->item] = 1;
        }
        memcpy(md, a->hist_digest[s->item], FEWSHOT__STATE_DIGEST);
        return;
    }
    fewshot__retriever_state_digest(a->ret, s->context, md);
}

/* What makes two shown demonstrations the same for knn-imitation, which shows no text: the
 * exact state and action. */
static char *exact_key(const shown *s)
{
    char *key = malloc(2 * sizeof(double) * (s->obs_dim + s->act_dim) + 2);
    if (key) {
        char *p = hex_doubles(key, s->obs, s->obs_dim);
        *p++ = '/';
        *hex_doubles(p, s->action, s->act_dim) = '\0';
    }
    return key;
}

/* In a prompt two shown demonstrations are the same when their actions as shown and their
 * state texts are equal. keys hold the action texts (exact_key's for knn-imitation); the
 * state texts' digests are made only for demonstrations whose actions tie, which is rare. */
typedef struct sameness {
    fewshot_agent *a;
    const shown *s;
    char **keys;
    unsigned char (*md)[FEWSHOT__STATE_DIGEST];    /* NULL: compare keys alone */
    unsigned char *made;
} sameness;

static int same_shown(size_t i, size_t j, void *arg)
{
    sameness *c = arg;
    if (!c->keys[i] || !c->keys[j] || strcmp(c->keys[i], c->keys[j]) != 0)
        return 0;
    if (!c->md)
        return 1;
    size_t both[2] = {i, j};
    for (int k = 0; k < 2; k++)
        if (!c->made[both[k]]) {
            state_digest(c->a, &c->s[both[k]], c->md[both[k]]);
            c->made[both[k]] = 1;
        }
    return memcmp(c->md[i], c->md[j], FEWSHOT__STATE_DIGEST) == 0;
}

/* The action of shown demonstration s as the prompt writes it (a new string, NULL on
 * failure): kept per demonstration and the values it was written from. */
static char *action_text(fewshot_agent *a, const shown *s)
{
    for (size_t i = 0; i < a->n_akeys; i++) {
        action_key *k = &a->akeys[i];
        if (k->history == s->history && k->item == s->item && k->dim == s->act_dim &&
            memcmp(k->action, s->action, s->act_dim * sizeof *s->action) == 0)
            return strdup(k->text);
    }
    char *text = NULL;
    if (fewshot_text_actions(NULL, &text, s->action, s->act_dim,
                             fewshot_prompt_text_options(a->prompt)) != 0)
        return NULL;
    if (a->n_akeys == a->cap_akeys) {
        if (a->cap_akeys >= 256) {
            clear_action_keys(a);   /* a new working set */
        } else {
            size_t cap = a->cap_akeys ? 2 * a->cap_akeys : 32;
            action_key *k = realloc(a->akeys, cap * sizeof *k);
            if (!k)
                return text;
            a->akeys = k;
            a->cap_akeys = cap;
        }
    }
    action_key k = {s->history, s->item, malloc(s->act_dim * sizeof *s->action + 1), s->act_dim,
                    strdup(text)};
    if (!k.action || !k.text) {
        free(k.action);
        free(k.text);
        return text;
    }
    memcpy(k.action, s->action, s->act_dim * sizeof *s->action);
    a->akeys[a->n_akeys++] = k;
    return text;
}

/* The share of distinct demonstrations among the n shown (NAN out of memory). */
static double distinct_share(fewshot_agent *a, const shown *s, size_t n)
{
    sameness c = {a, s, calloc(n, sizeof *c.keys), NULL, NULL};
    double share = NAN;
    if (a->prompt) {
        c.md = malloc(n * sizeof *c.md);
        c.made = calloc(n, 1);
    }
    if (!c.keys || (a->prompt && (!c.md || !c.made)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        c.keys[i] = a->prompt ? action_text(a, &s[i]) : exact_key(&s[i]);
    }
    fewshot_error_clear();
    share = (double)fewshot__measure_distinct_by(n, same_shown, &c) / (double)n;
done:
    for (size_t i = 0; c.keys && i < n; i++)
        free(c.keys[i]);
    free(c.keys);
    free(c.md);
    free(c.made);
    return share;
}

/* Measure the n demonstrations shown for the state obs (fewshot-selection(7)): each one's
 * distance to the query and agreement with the expert's action for obs go into its entry of
 * list; dec gets their means and the share of distinct ones. */
static void measure(fewshot_agent *a, const double *obs, const shown *s, size_t n,
                    json_t *list, json_t *dec)
{
    if (n == 0)
        return;
    const fewshot_space *space = fewshot_env_act_space(a->env);
    int expert = fewshot_env_policies(a->env)[0] &&
                 fewshot_env_policy(a->env, "expert", obs, a->expert) == 0;
    fewshot_error_clear();
    /* the parse fallback of this decision takes it from here instead of asking again */
    a->expert_ready = expert && memcmp(obs, a->obs, a->obs_dim * sizeof *obs) == 0;
    double *fitted = calloc(a->act_dim + 1, sizeof *fitted);
    double dsum = 0, asum = 0;
    size_t dn = 0, an = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *entry = json_array_get(list, i);
        if (a->query_ok && s[i].vec && isfinite(s[i].vec[0])) {
            double d = fewshot__measure_distance(a->query, s[i].vec, a->ret->dim);
            json_object_set_new(entry, "distance", json_real(d));
            dsum += d;
            dn++;
        }
        if (expert && fitted) {
            fewshot__action_fit(s[i].action, s[i].act_dim, fitted, a->act_dim);
            double g = fewshot__measure_agreement(fitted, a->expert, a->act_dim, space);
            json_object_set_new(entry, "agreement", json_real(g));
            asum += g;
            an++;
        }
    }
    double distinct = distinct_share(a, s, n);
    if (!isnan(distinct))
        json_object_set_new(dec, "demos_distinct", json_real(distinct));
    if (an)
        json_object_set_new(dec, "demos_agreement", json_real(asum / (double)an));
    if (dn)
        json_object_set_new(dec, "demos_distance", json_real(dsum / (double)dn));
    free(fitted);
}

/* The embedding of a dataset item, or of an earlier step of this episode. */
static const float *item_vector(const fewshot_agent *a, fewshot_origin origin, size_t item)
{
    if (origin == FEWSHOT_ORIGIN_DATASET)
        return a->ret->vectors && item < a->ret->n ? a->ret->vectors + item * a->ret->dim
                                                   : NULL;
    return a->hist_vec && item < a->hist_vec_n ? a->hist_vec + item * a->ret->dim : NULL;
}

/* ---------------------------------------------------------------- the prompt */

/* Does the prompt show its demonstrations (an arm may drop the block)? */
static int shows_demos(const fewshot_prompt_output *po)
{
    size_t i;
    json_t *c;
    json_array_foreach(po->components, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (name && strcmp(name, "demonstrations") == 0)
            return 1;
    }
    return 0;
}

/* The context of obs: the one observe() built when obs is the state it saw come next and the
 * environment has not stepped since, so each state's context is built once. */
static int state_context(fewshot_agent *a, const double *obs, json_t **out)
{
    if (a->next_ctx && fewshot_env_steps(a->env) == a->next_steps &&
        memcmp(obs, a->next_obs, a->obs_dim * sizeof *obs) == 0) {
        *out = json_incref(a->next_ctx);
        return 0;
    }
    return fewshot_env_context(a->env, obs, out);
}

/* Select demonstrations for the current state and render the prompt; dec (may be NULL)
 * receives the retrieval measures. */
static int build_prompt(fewshot_agent *a, const double *obs, fewshot_prompt_output *po,
                        json_t **demos_out, json_t *dec)
{
    fewshot_selection sel = {0};
    int rc = 0;
    json_decref(a->ctx);
    a->ctx = NULL;
    a->query_ok = 0;
    if ((rc = state_context(a, obs, &a->ctx)) != 0)
        return rc;
    if (fewshot__retriever_needs_query(a->ret)) {
        rc = fewshot__retriever_query(a->ret, a->env, obs, a->ctx, a->query);
        a->query_ok = rc == 0;
    }
    if (rc == 0)
        rc = fewshot_selector_select_after(a->selector, a->query, a->buffer, &a->previous,
                                           &sel);
    if (rc) {
        fewshot_selection_clear(&sel);
        return rc;
    }
    fewshot_prompt_demo *pd = calloc(sel.count + 1, sizeof *pd);
    shown *sh = calloc(sel.count + 1, sizeof *sh);
    json_t *list = json_array();
    if (!pd || !sh) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    size_t pushed = fewshot_buffer_pushed(a->buffer), held = fewshot_buffer_count(a->buffer);
    for (size_t i = 0; i < sel.count; i++) {
        const fewshot_pick *p = &sel.picks[i];
        const fewshot_demo *d;
        char id[64];
        if (p->origin == FEWSHOT_ORIGIN_DATASET) {
            d = fewshot_demos_get(a->ret->demos, p->item);
            pd[i].context = fewshot__retriever_context(a->ret, p->item, 0);
            pd[i].next_context = fewshot__retriever_context(a->ret, p->item, 1);
            sh[i].vec = item_vector(a, p->origin, p->item);
            snprintf(id, sizeof id, "demo:%zu", p->item);
            pd[i].key = (uint64_t)p->item + 1;
            sh[i].item = p->item;
            if (d && (!pd[i].context || !pd[i].next_context)) {
                rc = fewshot_error_last()->code;    /* the context's own error */
                if (rc >= 0)
                    rc = fewshot_error_set(FEWSHOT_ERROR, "demonstration %zu: no context",
                                           p->item);
                goto done;
            }
        } else {
            d = fewshot_buffer_get(a->buffer, p->item);
            size_t step = (size_t)(pushed - held) + p->item;
            pd[i].context = json_array_get(a->hist_ctx, step);
            pd[i].next_context = json_array_get(a->hist_next, step);
            sh[i].vec = item_vector(a, p->origin, step);
            snprintf(id, sizeof id, "step:%zu", step);
            pd[i].key = (uint64_t)step + 1;
            sh[i].history = 1;
            sh[i].item = step;
        }
        if (!d || !pd[i].context) {
            rc = fewshot_error_set(FEWSHOT_ERROR, "selection returned an unknown item");
            goto done;
        }
        /* a demonstration shows the action it took, in its own scenario's dimension */
        pd[i].source = source_of(p->role);
        pd[i].action = d->action;
        pd[i].action_dim = d->act_dim;
        pd[i].reward = d->reward;
        sh[i].action = d->action;
        sh[i].act_dim = d->act_dim;
        sh[i].obs = d->obs;
        sh[i].obs_dim = d->obs_dim;
        sh[i].context = pd[i].context;
        json_t *e = fewshot__put(json_object(), "id", json_string_nocheck(id));
        e = fewshot__put(e, "selector", json_string(p->selector ? p->selector : ""));
        e = fewshot__put(e, "role", json_string(role_source_name(p->role)));
        e = fewshot__put(e, "score", json_real(isfinite(p->score) ? p->score : 0.0));
        json_array_append_new(list, e);
    }
    /* the order the prompt shows them in */
    size_t *perm = calloc(sel.count + 1, sizeof *perm);
    if (!perm) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    fewshot_prompt_demo_order(a->prompt, pd, sel.count, perm);
    fewshot_prompt_input in = FEWSHOT_PROMPT_INPUT_INIT;
    in.context = a->ctx;
    in.demos = pd;
    in.n_demos = sel.count;
    rc = fewshot_prompt_build(a->prompt, &in, po);
    if (rc == 0) {
        /* replies are held to the range the instruction stated for this state */
        double lo, hi;
        fewshot_prompt_action_range(a->prompt, a->ctx, &lo, &hi);
        fewshot_parser_set_range(a->parser, lo, hi);
    }
    if (rc == 0 && dec && shows_demos(po))
        measure(a, obs, sh, sel.count, list, dec);
    /* the record lists the demonstrations in the order the prompt shows them */
    json_t *in_order = rc == 0 ? json_array() : NULL;
    if (rc == 0 && !in_order)
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (rc == 0) {
        for (size_t k = 0; k < sel.count; k++)
            json_array_append(in_order, json_array_get(list, perm[k]));
        json_decref(list);
        list = in_order;
        in_order = NULL;
    }
    json_decref(in_order);
    free(perm);
done:
    free(pd);
    free(sh);
    if (rc == 0) {
        /* the next step's selection keeps what still fits */
        fewshot_selection_clear(&a->previous);
        a->previous = sel;
    } else
        fewshot_selection_clear(&sel);
    if (rc)
        json_decref(list);
    else
        *demos_out = list;
    return rc;
}

int fewshot_agent_prompt(fewshot_agent *agent, const double *obs, json_t **out)
{
    fewshot_prompt_output po = FEWSHOT_PROMPT_OUTPUT_INIT;
    json_t *demos = NULL;
    *out = NULL;
    if (agent->kind != AGENT_LLM)
        return fewshot_error_set(FEWSHOT_EINVAL, "this agent does not prompt an LLM");
    json_t *o = json_object();
    int rc = build_prompt(agent, obs ? obs : fewshot_env_obs(agent->env), &po, &demos, o);
    if (rc) {
        json_decref(o);
        return rc;
    }
    json_t *head = json_pack("{s:s, s:s, s:I, s:O, s:o}", "style",
                             po.style == FEWSHOT_PROMPT_CHAT ? "chat" : "completion",
                             "text", po.text ? po.text : "", "tokens", (json_int_t)po.tokens,
                             "components", po.components ? po.components : json_array(),
                             "demos", demos);
    json_object_update(o, head);
    json_decref(head);
    if (po.messages)
        json_object_set(o, "messages", po.messages);
    fewshot_prompt_output_clear(&po);
    *out = o;
    return 0;
}

/* ---------------------------------------------------------------- deciding */

static int submit(fewshot_agent *a)
{
    if (!a->llm) {
        int rc = fewshot_llm_new_from_config(&a->llm, a->llm_config, NULL);
        if (rc)
            return rc;
        a->own_llm = 1;
    }
    const fewshot_llm_params *params = fewshot_llm_default_params(a->llm);
    int endpoint = a->style == FEWSHOT_PROMPT_CHAT ? FEWSHOT_LLM_CHAT : FEWSHOT_LLM_COMPLETION;
    int rc = fewshot__llm_submit_keyed(a->llm, endpoint, a->input, params, a, NULL,
                                       a->key_digest);
    if (rc == 0)
        a->waiting = 1;
    return rc;
}

static int start_llm(fewshot_agent *a, const double *obs)
{
    fewshot_prompt_output po = FEWSHOT_PROMPT_OUTPUT_INIT;
    json_t *demos = NULL, *measures = json_object();
    int rc = build_prompt(a, obs, &po, &demos, measures);
    if (rc) {
        json_decref(measures);
        return rc;
    }
    char hash[65];
    hash_text(a, po.text ? po.text : "", hash);
    a->style = po.style;
    a->input = po.style == FEWSHOT_PROMPT_CHAT
                   ? json_incref(po.messages)
                   : fewshot__json_text(po.text ? po.text : "", po.text ? strlen(po.text) : 0);
    json_t *d = fewshot__put(json_object(), "prompt_hash", json_string_nocheck(hash));
    d = fewshot__put(d, "demos", demos);
    d = fewshot__put(d, "prompt_estimate", json_integer((json_int_t)po.tokens));
    d = fewshot__put(d, "llm_calls", json_integer(0));
    d = fewshot__put(d, "prompt_tokens", json_integer(0));
    d = fewshot__put(d, "completion_tokens", json_integer(0));
    d = fewshot__put(d, "latency", json_real(0.0));
    d = fewshot__put(d, "cost", json_real(0.0));
    d = fewshot__put(d, "cache_hit", json_false());
    d = fewshot__put(d, "cached_tokens", json_integer(0));
    a->decision = fewshot__put(d, "out_of_range", json_integer(0));
    json_object_update(a->decision, measures);
    json_decref(measures);
    fewshot_prompt_output_clear(&po);
    if ((rc = submit(a)) != 0)
        return rc;
    return FEWSHOT_EAGAIN;
}

/* knn-imitation: the distance-weighted mean of the k nearest demonstrations' actions,
 * element by element (Shepard's inverse-distance weights; demonstrations at distance 0, when
 * there are any, share the decision alone). A demonstration of another action count is
 * fitted first (fewshot__action_fit). */
static int start_knn(fewshot_agent *a, const double *obs)
{
    fewshot_selection sel = {0};
    json_t *ctx = NULL;
    int rc = 0;
    a->query_ok = 0;
    if (a->ret->text)
        rc = fewshot_env_context(a->env, obs, &ctx);
    if (rc == 0)
        rc = fewshot__retriever_query(a->ret, a->env, obs, ctx, a->query);
    json_decref(ctx);
    a->query_ok = rc == 0;
    if (rc == 0)
        rc = fewshot__retriever_neighbours(a->ret, a->query, &sel);
    if (rc) {
        fewshot_selection_clear(&sel);
        return rc;
    }
    size_t n = sel.count, exact = 0;
    double *w = calloc(n + 1, sizeof *w), *fitted = calloc(a->act_dim + 1, sizeof *fitted);
    shown *sh = calloc(n + 1, sizeof *sh);
    json_t *list = json_array();
    if (!w || !fitted || !sh) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const float *v = item_vector(a, FEWSHOT_ORIGIN_DATASET, sel.picks[i].item);
        w[i] = v ? fewshot__measure_distance(a->query, v, a->ret->dim) : 1.0;
        exact += w[i] == 0;
    }
    double wsum = 0;
    for (size_t i = 0; i < n; i++) {
        w[i] = exact ? (w[i] == 0 ? 1.0 : 0.0) : 1.0 / w[i];
        wsum += w[i];
    }
    memset(a->action, 0, a->act_dim * sizeof *a->action);
    for (size_t i = 0; i < n; i++) {
        size_t item = sel.picks[i].item;
        const fewshot_demo *d = fewshot_demos_get(a->ret->demos, item);
        fewshot__action_fit(d->action, d->act_dim, fitted, a->act_dim);
        for (size_t j = 0; j < a->act_dim; j++)
            a->action[j] += w[i] / wsum * fitted[j];
        sh[i] = (shown){d->action, d->act_dim, d->obs, d->obs_dim,
                        item_vector(a, FEWSHOT_ORIGIN_DATASET, item), NULL, 0, item};
        char id[64];
        snprintf(id, sizeof id, "demo:%zu", item);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:f}", "id", id, "selector",
                                              "knn", "role", "expert", "weight",
                                              w[i] / wsum));
    }
    a->decision = json_pack("{s:O}", "demos", list);
    measure(a, obs, sh, n, json_object_get(a->decision, "demos"), a->decision);
done:
    json_decref(list);
    free(w);
    free(fitted);
    free(sh);
    fewshot_selection_clear(&sel);
    return rc;
}

int fewshot_agent_start(fewshot_agent *agent, const double *obs)
{
    int rc;
    clear_decision(agent);
    if (!obs)
        obs = fewshot_env_obs(agent->env);
    if (!obs)
        return fewshot_error_set(FEWSHOT_EINVAL, "no observation: reset the environment first");
    memcpy(agent->obs, obs, agent->obs_dim * sizeof *obs);
    switch (agent->kind) {
    case AGENT_POLICY:
        rc = fewshot_policy_act(agent->policy, obs, agent->action);
        break;
    case AGENT_KNN:
        rc = start_knn(agent, obs);
        break;
    default:
        rc = start_llm(agent, obs);
        if (rc == FEWSHOT_EAGAIN)
            return rc;
        break;
    }
    if (rc)
        return rc;
    fewshot_space_clip(fewshot_env_act_space(agent->env), agent->action);
    agent->ready = 1;
    return 0;
}

static void set_num(json_t *obj, const char *key, double add)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        json_object_set_new(obj, key, json_integer(json_integer_value(v) + (json_int_t)add));
    else
        json_object_set_new(obj, key, json_real(json_number_value(v) + add));
}

static void fail(fewshot_agent *a, int code, const char *what, const char *detail)
{
    a->failed = 1;
    a->error_code = code;
    snprintf(a->error_msg, sizeof a->error_msg, "%s%s", what, detail);
}

/* Parse a reply; re-ask once or fall back as configured. */
static void take_reply(fewshot_agent *a, const fewshot_llm_reply *reply)
{
    json_t *d = a->decision;
    set_num(d, "llm_calls", 1);
    set_num(d, "prompt_tokens", (double)reply->usage.prompt_tokens);
    set_num(d, "completion_tokens", (double)reply->usage.completion_tokens);
    set_num(d, "cached_tokens", (double)reply->usage.cached_tokens);
    set_num(d, "cost", reply->usage.cost);
    set_num(d, "latency", reply->latency);
    if (reply->cache_hit)
        json_object_set_new(d, "cache_hit", json_true());
    /* what served the reply, for the report's provenance (kept only when sent) */
    const json_t *fp = json_object_get(reply->body, "system_fingerprint");
    const json_t *served = json_object_get(reply->body, "model");
    if (json_is_string(fp) && json_string_length(fp) <= 200)
        json_object_set(d, "system_fingerprint", (json_t *)fp);
    if (json_is_string(served) && json_string_length(served) <= 200)
        json_object_set(d, "server_model", (json_t *)served);
    if (reply->status != 0) {
        fail(a, reply->status, "the LLM request failed: ", reply->error);
        return;
    }
    const char *text = reply->text ? reply->text : "";
    if (a->first_reply) {
        size_t n = strlen(a->first_reply) + strlen(text) + 32;
        char *both = malloc(n);
        snprintf(both, n, "%s\n--- re-asked ---\n%s", a->first_reply, text);
        json_object_set_new(d, "reply", json_string(both));
        free(both);
    } else {
        json_object_set_new(d, "reply", json_string(text));
    }
    fewshot_parse_result res;
    int rc = fewshot_parser_parse(a->parser, text, (size_t)-1, a->action, &res);
    set_num(d, "out_of_range", (double)res.out_of_range);
    if (rc == 0) {
        json_t *pr = fewshot__put(json_object(), "ok", json_true());
        pr = fewshot__put(pr, "pattern", json_string(res.pattern ? res.pattern : ""));
        pr = fewshot__put(pr, "reasked", json_boolean(a->reasked));
        pr = fewshot__put(pr, "clamped", json_integer((int)res.clamped));
        pr = fewshot__put(pr, "rounded", json_integer((int)res.rounded));
        json_object_set_new(d, "parse", pr);
        a->ready = 1;
        return;
    }
    if (a->reask && !a->reasked) {
        char *msg = NULL;
        if (fewshot_parser_reask(a->parser, &res, &msg) == 0) {
            a->first_reply = strdup(text);
            a->reasked = 1;
            if (a->style == FEWSHOT_PROMPT_CHAT) {
                json_array_append_new(a->input, json_pack("{s:s, s:s}", "role", "assistant",
                                                          "content", text));
                json_array_append_new(a->input, json_pack("{s:s, s:s}", "role", "user",
                                                          "content", msg));
            } else {
                const char *prev = json_string_value(a->input);
                size_t n = strlen(prev) + strlen(text) + strlen(msg) + 32;
                char *next = malloc(n);
                snprintf(next, n, "%s%s\n\n%s\nActions:", prev, text, msg);
                json_decref(a->input);
                a->input = json_string(next);
                free(next);
            }
            free(msg);
            if (submit(a) == 0)
                return;
            fail(a, fewshot_error_last()->code, "", fewshot_error_last()->message);
            return;
        }
    }
    /* fall back: the expert's action when the plugin has one */
    const double *expert = NULL;
    if (a->expert_ready || (fewshot_env_policies(a->env)[0] &&
                            fewshot_env_policy(a->env, "expert", a->obs, a->expert) == 0))
        expert = a->expert;
    fewshot_error_clear();
    int frc = fewshot_parser_fallback(a->parser, a->has_last ? a->last : NULL, expert,
                                      a->action, &res);
    json_object_set_new(d, "parse", json_pack("{s:b, s:s, s:s, s:b, s:s}", "ok", 0, "reason",
                                              res.reason, "pattern",
                                              res.pattern ? res.pattern : "", "reasked",
                                              a->reasked, "fallback",
                                              res.fallback ? res.fallback : "none"));
    if (frc) {
        fail(a, FEWSHOT_EPARSE, "the reply could not be parsed and parse.fallback is none: ",
             res.reason);
        return;
    }
    a->ready = 1;
}

int fewshot_agent_deliver(fewshot_llm_reply *reply)
{
    fewshot_agent *a = reply ? reply->user : NULL;
    if (!a || a->kind != AGENT_LLM || !a->waiting) {
        fewshot_llm_reply_free(reply);
        return fewshot_error_set(FEWSHOT_EINVAL, "a reply no agent is waiting for");
    }
    a->waiting = 0;
    take_reply(a, reply);
    fewshot_llm_reply_free(reply);
    if (a->ready)
        fewshot_space_clip(fewshot_env_act_space(a->env), a->action);
    return 0;
}

int fewshot_agent_poll(fewshot_agent *agent)
{
    if (agent->failed)
        return fewshot_error_set(agent->error_code ? agent->error_code : FEWSHOT_ERROR, "%s",
                                 agent->error_msg);
    return agent->ready ? 0 : FEWSHOT_EAGAIN;
}

int fewshot_agent_action(fewshot_agent *agent, double *action)
{
    if (!agent->ready)
        return fewshot_error_set(FEWSHOT_EAGAIN, "the agent has not decided yet");
    memcpy(action, agent->action, agent->act_dim * sizeof *action);
    return 0;
}

int fewshot_agent_act(fewshot_agent *agent, const double *obs, double *action)
{
    int rc = fewshot_agent_start(agent, obs);
    while (rc == FEWSHOT_EAGAIN) {
        fewshot_llm_reply *reply = NULL;
        int got = fewshot_llm_poll(agent->llm, 100, &reply);
        if (got < 0)
            return got;
        if (got == 1)
            fewshot_agent_deliver(reply);
        rc = fewshot_agent_poll(agent);
    }
    return rc ? rc : fewshot_agent_action(agent, action);
}

/* Keep the step's query vector (NAN when there was none) for history distances. */
static int keep_query(fewshot_agent *a)
{
    size_t dim = a->ret->dim;
    if (!dim)
        return 0;
    if (a->hist_vec_n == a->hist_vec_cap) {
        size_t cap = a->hist_vec_cap ? 2 * a->hist_vec_cap : 32;
        float *v = realloc(a->hist_vec, cap * dim * sizeof *v);
        if (!v)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        a->hist_vec = v;
        a->hist_vec_cap = cap;
    }
    float *slot = a->hist_vec + a->hist_vec_n++ * dim;
    if (a->query_ok)
        memcpy(slot, a->query, dim * sizeof *slot);
    else
        slot[0] = NAN;
    return 0;
}

int fewshot_agent_observe(fewshot_agent *agent, const double *action, const fewshot_step *step)
{
    memcpy(agent->last, action, agent->act_dim * sizeof *action);
    agent->has_last = 1;
    if (agent->kind != AGENT_LLM)
        return 0;
    json_t *next = NULL;
    int rc = fewshot_env_context(agent->env, step->obs, &next);
    if (rc)
        return rc;
    json_t *ctx = agent->ctx ? json_incref(agent->ctx) : NULL;
    if (!ctx && (rc = fewshot_env_context(agent->env, agent->obs, &ctx)) != 0) {
        json_decref(next);
        return rc;
    }
    json_array_append_new(agent->hist_ctx, ctx);
    json_array_append_new(agent->hist_next, next);
    json_decref(agent->next_ctx);
    agent->next_ctx = json_incref(next);
    memcpy(agent->next_obs, step->obs, agent->obs_dim * sizeof *step->obs);
    agent->next_steps = fewshot_env_steps(agent->env);
    if ((rc = keep_query(agent)) != 0)
        return rc;
    fewshot_demo t = {0};
    t.episode = 0;
    t.step = json_array_size(agent->hist_ctx) - 1;
    t.obs = agent->obs;
    t.obs_dim = agent->obs_dim;
    t.action = action;
    t.act_dim = agent->act_dim;
    t.reward = step->reward;
    t.terms = step->terms;
    t.next_obs = step->obs;
    t.done = step->done;
    t.truncated = step->truncated;
    t.source = "llm";
    return fewshot_buffer_push(agent->buffer, &t);
}

json_t *fewshot__agent_take_decision(fewshot_agent *agent)
{
    json_t *d = agent->decision ? agent->decision : json_object();
    agent->decision = NULL;
    return d;
}

json_t *fewshot_agent_decision(const fewshot_agent *agent)
{
    return agent->decision ? json_deep_copy(agent->decision) : json_object();
}
