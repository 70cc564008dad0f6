/*
 * The mlp:FILE policy: a small feed-forward network read from JSON (the format
 * `python3 -m fewshot.ppo` exports, see fewshot-config(5)). Internal to the policy module.
 */
#ifndef FEWSHOT_POLICY_MLP_H
#define FEWSHOT_POLICY_MLP_H

#include <stddef.h>
#include "internal.h"

typedef struct fewshot_mlp fewshot_mlp;

/* Load path and check it against the environment's dimensions. Errors name the file and the
 * JSON path of the fault. */
FEWSHOT_HIDDEN int fewshot__mlp_load(fewshot_mlp **out, const char *path, size_t obs_dim,
                                     size_t act_dim);
FEWSHOT_HIDDEN void fewshot__mlp_free(fewshot_mlp *mlp);

/* action = scale(net(normalize(obs))). Allocation-free. */
FEWSHOT_HIDDEN void fewshot__mlp_forward(fewshot_mlp *mlp, const double *obs, double *action);

#endif
