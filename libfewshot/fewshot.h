/*
 * libfewshot: training-free few-shot decision making with pre-trained LLMs.
 *
 * The umbrella header: include this one and get the whole public API.
 * Plugin authors include <fewshot/plugin.h> as well.
 */
#ifndef FEWSHOT_H
#define FEWSHOT_H

#include "fewshot/common.h"
#include "fewshot/version.h"
#include "fewshot/error.h"
#include "fewshot/rng.h"
#include "fewshot/space.h"
#include "fewshot/env.h"
#include "fewshot/policy.h"
#include "fewshot/vecenv.h"
#include "fewshot/config.h"
#include "fewshot/agent.h"
#include "fewshot/sweep.h"
#include "fewshot/report.h"
#include "fewshot/demo.h"
#include "fewshot/buffer.h"
#include "fewshot/index.h"
#include "fewshot/kmeans.h"
#include "fewshot/embed.h"
#include "fewshot/select.h"
#include "fewshot/text.h"
#include "fewshot/template.h"
#include "fewshot/parse.h"
#include "fewshot/prompt.h"
#include "fewshot/llm.h"
#include "fewshot/cache.h"
#include "fewshot/building.h"

#endif /* FEWSHOT_H */
