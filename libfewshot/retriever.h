/*
 * Internal: what an arm's agents share for retrieval: the demonstrations with their contexts,
 * the embedder fitted on them, the index of their vectors, and the selector options. Built
 * once per arm (or per agent when used alone). Not installed.
 */
#ifndef FEWSHOT_RETRIEVER_H
#define FEWSHOT_RETRIEVER_H

#include <jansson.h>
#include "fewshot/demo.h"
#include "fewshot/embed.h"
#include "fewshot/env.h"
#include "fewshot/index.h"
#include "fewshot/select.h"
#include "fewshot/text.h"
#include "internal.h"

/* Bytes of a state text's digest (SHA-256). */
#define FEWSHOT__STATE_DIGEST 32

typedef struct fewshot__retriever {
    fewshot_demos *demos;           /* borrowed, may be NULL: no dataset */
    size_t n;                       /* transitions */
    json_t **contexts;              /* 2n: contexts of state and next state, built on use */
    unsigned char (*digests)[FEWSHOT__STATE_DIGEST];  /* n: state text digests, made on use */
    unsigned char *digest_made;     /* n flags */
    fewshot_env **envs;             /* one per distinct scenario of the dataset */
    json_t **env_params;            /* their parameters */
    size_t n_envs;
    fewshot_embedder *embedder;     /* NULL without a dataset */
    fewshot_index *index;
    float *vectors;                 /* n x dim */
    size_t dim;
    int text;                       /* the embedder reads state texts (not features) */
    char *state_template;           /* the state text template for text embedders */
    fewshot_text_options numbers;
    fewshot_selector_options sopts;
    char *order;                    /* storage for sopts.order */
    size_t *token_costs;
    fewshot_selector *shared;       /* used by every agent unless random selection is on */
    fewshot_selector *nearest;      /* imitate_k nearest, for knn-imitation (made on first use) */
    size_t imitate_k;
    size_t buffer;                  /* online buffer capacity */
    fewshot__demo_cache *rendered;  /* the agents' prompts' demonstrations, rendered once */
    int refs;
} fewshot__retriever;

/* Build from an arm's sections (embedding, selection, prompt) and a dataset (may be NULL).
 * env gives the state template for text embedders. */
FEWSHOT_HIDDEN int fewshot__retriever_new(fewshot__retriever **out, fewshot_env *env,
                                          const json_t *arm, fewshot_demos *demos);
FEWSHOT_HIDDEN fewshot__retriever *fewshot__retriever_ref(fewshot__retriever *r);
FEWSHOT_HIDDEN void fewshot__retriever_unref(fewshot__retriever *r);

/* The raw context of transition i's state (next: its next state), built on first use with
 * an environment of the transition's own scenario and kept; NULL on failure (the error set).
 * It fills a cache: callers sharing a retriever must not call it from several threads at once
 * (a sweep's agents run in one event loop). */
FEWSHOT_HIDDEN const json_t *fewshot__retriever_context(fewshot__retriever *r, size_t i,
                                                        int next);

/* Does selection need a query vector? */
FEWSHOT_HIDDEN int fewshot__retriever_needs_query(const fewshot__retriever *r);

/* Embed the state obs (whose raw context is ctx) of env into out (r->dim floats). */
FEWSHOT_HIDDEN int fewshot__retriever_query(fewshot__retriever *r, fewshot_env *env,
                                            const double *obs, const json_t *ctx, float *out);

/* A selector of this arm's options over its dataset (own: the caller frees it). */
FEWSHOT_HIDDEN int fewshot__retriever_selector(fewshot__retriever *r, uint64_t seed,
                                               fewshot_selector **out, int *own);

/* The state text of a raw context as a text embedder reads it (free() it). */
FEWSHOT_HIDDEN int fewshot__retriever_state_text(fewshot__retriever *r, const json_t *ctx,
                                                 char **out);

/* The SHA-256 of the state text of ctx (of "" when ctx is NULL or its text fails), so
 * equal digests mean equal texts without keeping the texts. */
FEWSHOT_HIDDEN void fewshot__retriever_state_digest(fewshot__retriever *r, const json_t *ctx,
                                                    unsigned char *md);

/* The same for transition i's state, computed once per dataset and kept (a cache like the
 * contexts': one thread at a time). 0, or FEWSHOT_ENOMEM / FEWSHOT_ERANGE (no item i). */
FEWSHOT_HIDDEN int fewshot__retriever_item_digest(fewshot__retriever *r, size_t i,
                                                  unsigned char *md);

/* The imitate_k demonstrations nearest query, nearest first (knn-imitation);
 * FEWSHOT_ENOTFOUND without a dataset. out is filled; clear it. */
FEWSHOT_HIDDEN int fewshot__retriever_neighbours(fewshot__retriever *r, const float *query,
                                                 fewshot_selection *out);

#endif
