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
#include "fewshot/demo.h"
#include "fewshot/llm.h"
#include "internal.h"
#include "retriever.h"

typedef struct fewshot__sweep_arm {
    const json_t *arm;              /* the expanded arm (borrowed from the config) */
    const fewshot_config *config;
    char *blocker;                  /* why it is skipped, or NULL */
    int prepared;
    int no_llm;                     /* do not make an LLM client (printing prompts) */
    int dry_run;                    /* check only: no generation, no remote call, no cache */
    int failed_in_row, succeeded, stopped;  /* stop an arm whose first episodes all fail */
    long long decisions, parse_failures;    /* LLM decisions this run, for the failure guard */
    fewshot_llm *llm;               /* the LLM client (shared by arms with equal llm sections) */
    int own_llm;
    fewshot_demos *demos;           /* the demonstrations (shared by equal demos sections) */
    int own_demos;
    char *demos_file;               /* where generated demonstrations were written */
    fewshot__retriever *ret;        /* what the arm's agents share for retrieval */
} fewshot__sweep_arm;

/* Make arm i's shared resources (demonstrations loaded or generated into run_dir, which may
 * be NULL to keep them in memory; the retriever; the LLM client), reusing those of earlier
 * arms with equal sections. env is an environment of the first scenario. */
FEWSHOT_HIDDEN int fewshot__sweep_arm_prepare(fewshot__sweep_arm *arms, size_t i,
                                              fewshot_env *env, const char *run_dir);

/* An agent for one episode of this arm. */
FEWSHOT_HIDDEN int fewshot__sweep_agent(fewshot__sweep_arm *arm, fewshot_env *env,
                                        uint64_t seed, fewshot_agent **out);

/* Add a decision's usage to an episode's counters. */
FEWSHOT_HIDDEN void fewshot__sweep_account(const json_t *decision, long long *calls,
                                           long long *prompt_tokens,
                                           long long *completion_tokens, double *cost,
                                           long long *parse_failures, long long *cache_hits);

/* Wait up to timeout seconds for LLM replies of any arm and deliver them to their agents. */
FEWSHOT_HIDDEN int fewshot__sweep_wait(fewshot__sweep_arm *arms, size_t n, double timeout);

FEWSHOT_HIDDEN void fewshot__sweep_arm_clear(fewshot__sweep_arm *arm);

/* Estimate a prepared LLM arm's prompts over one episode (at most max_steps) of scenario:
 * *out = {"scenario", "steps", "mean" (tokens per decision), "max", "total", "cacheable"
 * (tokens that are a prefix of an earlier prompt of the episode), "static" (tokens every
 * prompt starts with), "completion" (tokens of a reply)}. sweep_estimate.c */
FEWSHOT_HIDDEN int fewshot__sweep_estimate(fewshot__sweep_arm *arm, size_t scenario,
                                           unsigned int max_steps, json_t **out);
/* The same over one episode of every scenario: "steps" and "completion" are per episode
 * and reply on average, "mean" per decision over all, "total" and "cacheable" summed, "max"
 * the largest prompt, "static" the shortest shared start. */
FEWSHOT_HIDDEN int fewshot__sweep_estimate_all(fewshot__sweep_arm *arm, unsigned int max_steps,
                                               json_t **out);

#endif
