/*
 * libfewshot: agents, the decision loop as one object.
 *
 * An agent acts in one environment. An LLM agent runs observe -> translate -> embed ->
 * select demonstrations -> render the prompt -> ask the LLM -> parse -> act, and records each
 * transition in its online buffer; a baseline agent (the plugin's expert or any plugin policy,
 * zero, random, const:V, knn-imitation) answers at once through the same interface.
 *
 * Synchronous use:
 *     fewshot_agent_act(agent, obs, action);          the action for obs
 *     ... fewshot_env_step(env, action, &step) ...
 *     fewshot_agent_observe(agent, action, &step);    feed back the outcome
 *
 * Event-loop use (many agents sharing one LLM client, one thread): fewshot_agent_start()
 * begins a decision and returns 0 when the action is ready or FEWSHOT_EAGAIN while the LLM is
 * asked. The owner drives the client with fewshot_llm_poll() and hands every reply to
 * fewshot_agent_deliver() (the reply's user pointer is the agent); fewshot_agent_poll() then
 * says whether the action is ready and fewshot_agent_action() reads it.
 *
 * Thread-safety: an agent belongs to one thread at a time.
 */
#ifndef FEWSHOT_AGENT_H
#define FEWSHOT_AGENT_H

#include <jansson.h>
#include "fewshot/common.h"
#include "fewshot/demo.h"
#include "fewshot/env.h"
#include "fewshot/llm.h"
#include "fewshot/plugin.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_agent fewshot_agent;

typedef struct fewshot_agent_options {
    unsigned int version;       /* FEWSHOT_AGENT_OPTIONS_VERSION */
    /* A baseline policy spec ("zero", "random", "const:V", "expert", a plugin policy, or
     * "knn-imitation"), or NULL for the LLM loop. */
    const char *policy;
    /* The arm's sections as a JSON object ({"demos", "embedding", "selection", "prompt",
     * "parse", "llm"}, see fewshot-config(5)), or NULL for defaults. Borrowed. */
    const json_t *arm;
    /* Seeds the agent's own randomness (the random policy, random selection). */
    uint64_t seed;
    /* An LLM client shared with other agents (borrowed), or NULL: the agent makes its own
     * from the arm's llm section when it needs one. */
    fewshot_llm *llm;
    /* The demonstrations to retrieve from (borrowed), or NULL: none, unless the arm's demos
     * section names a file, which the agent then loads. */
    fewshot_demos *demos;
} fewshot_agent_options;

#define FEWSHOT_AGENT_OPTIONS_VERSION 1
#define FEWSHOT_AGENT_OPTIONS_INIT {FEWSHOT_AGENT_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL}

FEWSHOT_EXTERN(int) fewshot_agent_options_init(fewshot_agent_options *opts,
                                               unsigned int version);

/* An agent acting in env (borrowed; it must outlive the agent). */
FEWSHOT_EXTERN(int) fewshot_agent_new(fewshot_agent **out, fewshot_env *env,
                                      const fewshot_agent_options *opts);
FEWSHOT_EXTERN(void) fewshot_agent_free(fewshot_agent *agent);

/* Start a new episode: forget the online buffer, reseed. */
FEWSHOT_EXTERN(int) fewshot_agent_reset(fewshot_agent *agent, uint64_t seed);

/* Does this agent ask an LLM? */
FEWSHOT_EXTERN(int) fewshot_agent_uses_llm(const fewshot_agent *agent);

/* Decide the action for obs (act space dim values into action), waiting for the LLM. */
FEWSHOT_EXTERN(int) fewshot_agent_act(fewshot_agent *agent, const double *obs, double *action);

/* Begin a decision for obs: 0 when the action is ready, FEWSHOT_EAGAIN while waiting. */
FEWSHOT_EXTERN(int) fewshot_agent_start(fewshot_agent *agent, const double *obs);

/* Continue a decision: 0 when the action is ready, FEWSHOT_EAGAIN while waiting. Does not
 * block; the owner drives the LLM client in between. */
FEWSHOT_EXTERN(int) fewshot_agent_poll(fewshot_agent *agent);

/* The decided action (after start or poll returned 0). */
FEWSHOT_EXTERN(int) fewshot_agent_action(fewshot_agent *agent, double *action);

/* Hand a reply of the shared LLM client to the agent that asked (reply->user); takes
 * ownership of the reply. FEWSHOT_EINVAL for a reply no agent is waiting for. */
FEWSHOT_EXTERN(int) fewshot_agent_deliver(fewshot_llm_reply *reply);

/* The agent's LLM client (NULL for baselines, and before an LLM agent's first request when
 * it makes its own). */
FEWSHOT_EXTERN(fewshot_llm *) fewshot_agent_llm(const fewshot_agent *agent);

/* The prompt the agent would send for obs, without sending it, as a new JSON object:
 *   {"style": "chat"|"completion", "messages": [...] (chat), "text": "...",
 *    "tokens": N, "components": [...], "demos": [{"id", "selector", "role", "score",
 *    "distance", "agreement"}], "demos_distinct", "demos_agreement", "demos_distance"}
 * (the retrieval measures of fewshot-selection(7); agreement needs the plugin's expert). */
FEWSHOT_EXTERN(int) fewshot_agent_prompt(fewshot_agent *agent, const double *obs,
                                         json_t **out);

/* Record the outcome of the last action: step holds the next observation, reward, terms and
 * done/truncated as fewshot_env_step() filled them. */
FEWSHOT_EXTERN(int) fewshot_agent_observe(fewshot_agent *agent, const double *action,
                                          const fewshot_step *step);

/* What the last decision did, a new reference:
 *   {"prompt_hash", "reply", "demos": [{"id", "selector"}], "parse": {"ok", "pattern",
 *    "reason", "reasked"}, "prompt_tokens", "completion_tokens", "latency", "cache_hit",
 *    "cost"}
 * with the retrieval measures of fewshot-selection(7): per demonstration "distance" and
 * "agreement", their means "demos_distance", "demos_agreement" and the share of distinct ones
 * "demos_distinct". knn-imitation returns the neighbours it averaged ("demos": [{"id",
 * "selector", "role", "weight", "distance", "agreement"}]) and the same means. Other
 * baselines return {}. */
FEWSHOT_EXTERN(json_t *) fewshot_agent_decision(const fewshot_agent *agent);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_AGENT_H */
