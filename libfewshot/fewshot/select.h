/*
 * libfewshot: demonstration selection (see fewshot-selection(7)).
 *
 * A selector combines, in a configurable order:
 *   knn       the k demonstrations nearest the current state ("expert" demonstrations), ranked
 *             by similarity, optionally plus reward_lambda times the reward normalized to
 *             [0, 1] over the dataset ("reward"), optionally re-ranked by maximal marginal
 *             relevance for diversity ("mmr": mmr_lambda * relevance - (1 - mmr_lambda) *
 *             the largest similarity to those already chosen)
 *   cluster   one representative per k-means cluster of the dataset ("representative"
 *             demonstrations): the member nearest its centroid, or the best-reward member
 *   history   transitions of the online buffer ("historical" demonstrations): the most recent
 *             h (or, history_block, the steps since the last multiple of h), or the h with the
 *             best reward
 *   random    uniformly random dataset demonstrations (seeded)
 * then removes duplicates (a demonstration chosen by two selectors is kept once, credited to
 * the first) and packs under a token budget keeping each demonstration whole: one that does
 * not fit is skipped and the selector takes its next candidate.
 *
 * Similarity: the inner product for FEWSHOT_METRIC_IP indexes (cosine for normalized
 * vectors), 1 / (1 + Euclidean distance) for L2 indexes.
 *
 * Selections depend only on the inputs, the options and the seed: the same sequence of calls
 * gives the same picks.
 *
 * Thread-safety: a selector belongs to one thread (random selection advances its state).
 */
#ifndef FEWSHOT_SELECT_H
#define FEWSHOT_SELECT_H

#include "fewshot/buffer.h"
#include "fewshot/common.h"
#include "fewshot/demo.h"
#include "fewshot/index.h"
#include "fewshot/kmeans.h"

FEWSHOT_BEGIN_DECLS

typedef enum fewshot_origin {
    FEWSHOT_ORIGIN_DATASET = 0,     /* item is a transition index of the dataset */
    FEWSHOT_ORIGIN_BUFFER = 1       /* item is a position in the online buffer (0 = oldest) */
} fewshot_origin;

/* One chosen demonstration. */
typedef struct fewshot_pick {
    fewshot_origin origin;
    size_t item;
    const char *selector;       /* "knn", "reward", "mmr", "cluster", "history", "random" */
    const char *role;           /* "expert", "representative", "historical", "random" */
    double score;               /* similarity, relevance, or reward (history) */
    size_t tokens;              /* its token cost (0 without a budget) */
} fewshot_pick;

typedef struct fewshot_selection {
    size_t count;
    fewshot_pick *picks;        /* in prompt order; owned, see fewshot_selection_clear() */
    size_t tokens;              /* total token cost of the picks */
    size_t duplicates;          /* candidates dropped as already chosen */
    size_t over_budget;         /* candidates skipped because they did not fit */
} fewshot_selection;

/* Release a selection's picks and zero it. */
FEWSHOT_EXTERN(void) fewshot_selection_clear(fewshot_selection *sel);

/* Token cost of one demonstration, for the budget. */
typedef size_t (*fewshot_token_cost_fn)(void *data, fewshot_origin origin, size_t item);

/* The recent window of the history selector (selection.history_window). */
typedef enum fewshot_history_window {
    FEWSHOT_HISTORY_SLIDING = 0,    /* the newest h */
    FEWSHOT_HISTORY_BLOCK = 1,      /* the steps since the last multiple of h pushes, oldest
                                       kept in place: an appending window of 1 to h */
    FEWSHOT_HISTORY_RESTART = 2     /* the steps since the last multiple of h + 1 pushes: 0
                                       to h, restarting with none */
} fewshot_history_window;

typedef struct fewshot_selector_options {
    unsigned int version;           /* FEWSHOT_SELECTOR_OPTIONS_VERSION */
    size_t knn;                     /* nearest demonstrations (0: none) */
    double reward_lambda;           /* >0: relevance = similarity + lambda * normalized reward */
    double mmr_lambda;              /* 1: no MMR; in [0, 1): MMR trade-off */
    size_t candidates;              /* neighbours re-ranked (0: max(4 * knn, 20)) */
    size_t clusters;                /* k-means clusters, one representative each (0: none) */
    fewshot_representative representative;
    unsigned int kmeans_iterations; /* 0: 25 */
    size_t history;                 /* online-buffer transitions (0: none) */
    int history_best;               /* 0: most recent first; 1: best reward first */
    size_t random;                  /* random dataset demonstrations (0: none) */
    uint64_t seed;                  /* k-means and random selection */
    size_t token_budget;            /* 0: unlimited */
    const size_t *token_costs;      /* dataset item costs, or NULL */
    fewshot_token_cost_fn token_cost;   /* other costs (the buffer's), or NULL: 0 */
    void *token_cost_data;
    const char *order;              /* e.g. "history,knn": NULL = "knn,cluster,history,random" */
    double stick;                   /* <= 1: pure knn; > 1: with a previous selection, its knn
                                       picks still among the nearest stick * knn candidates
                                       are kept first, in their order, and new picks follow */
    int history_block;              /* a fewshot_history_window */
} fewshot_selector_options;

#define FEWSHOT_SELECTOR_OPTIONS_VERSION 1
#define FEWSHOT_SELECTOR_OPTIONS_INIT \
    {FEWSHOT_SELECTOR_OPTIONS_VERSION, 4, 0.0, 1.0, 0, 0, FEWSHOT_REPRESENTATIVE_NEAREST, 0, 0, \
     0, 0, 0, 0, NULL, NULL, NULL, NULL, 1.0, 0}

FEWSHOT_EXTERN(int) fewshot_selector_options_init(fewshot_selector_options *opts,
                                                  unsigned int version);

typedef struct fewshot_selector fewshot_selector;

/* A selector over dataset ds (rewards, count) and index ix (its vectors, labels = transition
 * indexes). vectors (count x dim, kept by reference, must outlive the selector) may be NULL:
 * then they are read back from the index. ds and ix may be NULL when only history is used.
 * k-means for cluster selection runs here, once. */
FEWSHOT_EXTERN(int) fewshot_selector_new(fewshot_selector **out,
                                         const fewshot_selector_options *opts,
                                         const fewshot_demos *ds, const fewshot_index *ix,
                                         const float *vectors);
FEWSHOT_EXTERN(void) fewshot_selector_free(fewshot_selector *s);

/* Restart the random selection stream. */
FEWSHOT_EXTERN(void) fewshot_selector_reseed(fewshot_selector *s, uint64_t seed);

/* Choose demonstrations for the state embedded as query (index dim floats; may be NULL when
 * neither knn nor mmr is used), from the dataset and buffer (may be NULL). out is cleared
 * and filled. */
FEWSHOT_EXTERN(int) fewshot_selector_select(fewshot_selector *s, const float *query,
                                            const fewshot_buffer *buffer,
                                            fewshot_selection *out);

/* As fewshot_selector_select(), given the previous step's selection of the same episode
 * (NULL: none), from which knn keeps the picks still near enough (options stick), so that
 * consecutive prompts share their demonstration block and a server's prefix cache. */
FEWSHOT_EXTERN(int) fewshot_selector_select_after(fewshot_selector *s, const float *query,
                                                  const fewshot_buffer *buffer,
                                                  const fewshot_selection *previous,
                                                  fewshot_selection *out);

/* The dataset transitions chosen as cluster representatives (count = clusters), or NULL. */
FEWSHOT_EXTERN(const int64_t *) fewshot_selector_representatives(const fewshot_selector *s,
                                                                 size_t *count);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_SELECT_H */
