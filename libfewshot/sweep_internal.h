/*
 * Internal: what the sweep runner keeps per arm (its resolved sections, why it cannot run,
 * resources its agents share), and the glue between the runner and the agents. Not installed.
 */
#ifndef FEWSHOT_SWEEP_INTERNAL_H
#define FEWSHOT_SWEEP_INTERNAL_H

#include <jansson.h>
#include "fewshot/agent.h"
#include "fewshot/config.h"
#include "fewshot/env.h"
#include "internal.h"

typedef struct fewshot__sweep_arm {
    const json_t *arm;              /* the expanded arm (borrowed from the config) */
    const fewshot_config *config;
    char *blocker;                  /* why it is skipped, or NULL */
    void *llm;                      /* shared LLM client, made on first use */
    void *demos;                    /* shared demonstrations, loaded on first use */
} fewshot__sweep_arm;

/* An agent for one episode of this arm. */
FEWSHOT_HIDDEN int fewshot__sweep_agent(fewshot__sweep_arm *arm, fewshot_env *env,
                                        uint64_t seed, fewshot_agent **out);

/* Add a decision's usage to an episode's counters. */
FEWSHOT_HIDDEN void fewshot__sweep_account(const json_t *decision, long long *calls,
                                           long long *prompt_tokens,
                                           long long *completion_tokens, double *cost,
                                           long long *parse_failures, long long *cache_hits);

/* Wait up to timeout seconds for any LLM reply of any arm. */
FEWSHOT_HIDDEN int fewshot__sweep_wait(fewshot__sweep_arm *arms, size_t n, double timeout);

FEWSHOT_HIDDEN void fewshot__sweep_arm_clear(fewshot__sweep_arm *arm);

#endif
