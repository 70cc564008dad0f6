/*
 * Internal: agents that share an arm's retrieval (demonstration contexts, embedder, index)
 * instead of building their own. Not installed.
 */
#ifndef FEWSHOT_AGENT_INTERNAL_H
#define FEWSHOT_AGENT_INTERNAL_H

#include "fewshot/agent.h"
#include "internal.h"
#include "retriever.h"

/* fewshot_agent_new() with a shared retriever (NULL: build one as fewshot_agent_new does). */
FEWSHOT_HIDDEN int fewshot__agent_new_shared(fewshot_agent **out, fewshot_env *env,
                                             const fewshot_agent_options *opts,
                                             fewshot__retriever *ret);

/* The current decision's record (new reference, an empty object when none), handed over
 * rather than copied: the agent keeps none until its next decision. */
FEWSHOT_HIDDEN json_t *fewshot__agent_take_decision(fewshot_agent *agent);

#endif
