/*
 * The C layout of every struct the Python package declares to cffi (python/fewshot/_lib.py),
 * as JSON: {"STRUCT": {"size": N, "fields": {"FIELD": OFFSET, ...}}, ..., "versions": {...}}.
 * tests/python/test_abi.py compares it with cffi's view of the same declarations, so a field
 * added on one side only is caught before it corrupts memory.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "fewshot.h"

static int first_struct = 1, first_field;

static void open_struct(const char *name, size_t size)
{
    printf("%s\n \"%s\": {\"size\": %zu, \"fields\": {", first_struct ? "{" : ",", name, size);
    first_struct = 0;
    first_field = 1;
}

static void field(const char *name, size_t offset)
{
    printf("%s\"%s\": %zu", first_field ? "" : ", ", name, offset);
    first_field = 0;
}

static void close_struct(void)
{
    printf("}}");
}

#define STRUCT(T) open_struct(#T, sizeof(T))
#define FIELD(T, f) field(#f, offsetof(T, f))

int main(void)
{
    STRUCT(json_t);
    FIELD(json_t, type); FIELD(json_t, refcount);
    close_struct();
    STRUCT(json_error_t);
    FIELD(json_error_t, line); FIELD(json_error_t, column); FIELD(json_error_t, position);
    FIELD(json_error_t, source); FIELD(json_error_t, text);
    close_struct();
    STRUCT(fewshot_error);
    FIELD(fewshot_error, code); FIELD(fewshot_error, message); FIELD(fewshot_error, file);
    FIELD(fewshot_error, line); FIELD(fewshot_error, column); FIELD(fewshot_error, position);
    FIELD(fewshot_error, path);
    close_struct();
    STRUCT(fewshot_space);
    FIELD(fewshot_space, dim); FIELD(fewshot_space, low); FIELD(fewshot_space, high);
    FIELD(fewshot_space, integer); FIELD(fewshot_space, names);
    close_struct();
    STRUCT(fewshot_step);
    FIELD(fewshot_step, obs); FIELD(fewshot_step, reward); FIELD(fewshot_step, terms);
    FIELD(fewshot_step, done); FIELD(fewshot_step, truncated); FIELD(fewshot_step, term_values);
    close_struct();
    STRUCT(fewshot_env_plugin);
    FIELD(fewshot_env_plugin, abi); FIELD(fewshot_env_plugin, name);
    FIELD(fewshot_env_plugin, summary); FIELD(fewshot_env_plugin, version);
    FIELD(fewshot_env_plugin, params_doc); FIELD(fewshot_env_plugin, create);
    FIELD(fewshot_env_plugin, destroy); FIELD(fewshot_env_plugin, spaces);
    FIELD(fewshot_env_plugin, params); FIELD(fewshot_env_plugin, reset);
    FIELD(fewshot_env_plugin, step); FIELD(fewshot_env_plugin, context);
    FIELD(fewshot_env_plugin, features); FIELD(fewshot_env_plugin, policies);
    FIELD(fewshot_env_plugin, policy); FIELD(fewshot_env_plugin, template_text);
    FIELD(fewshot_env_plugin, term_names); FIELD(fewshot_env_plugin, feature_names);
    FIELD(fewshot_env_plugin, reserved);
    close_struct();
    STRUCT(fewshot_agent_options);
    FIELD(fewshot_agent_options, version); FIELD(fewshot_agent_options, policy);
    FIELD(fewshot_agent_options, arm); FIELD(fewshot_agent_options, seed);
    FIELD(fewshot_agent_options, llm); FIELD(fewshot_agent_options, demos);
    close_struct();
    STRUCT(fewshot_sweep_options);
    FIELD(fewshot_sweep_options, version); FIELD(fewshot_sweep_options, run_dir);
    FIELD(fewshot_sweep_options, shard_index); FIELD(fewshot_sweep_options, shard_count);
    FIELD(fewshot_sweep_options, jobs); FIELD(fewshot_sweep_options, dry_run);
    FIELD(fewshot_sweep_options, progress); FIELD(fewshot_sweep_options, log);
    FIELD(fewshot_sweep_options, cancel);
    close_struct();
    STRUCT(fewshot_sweep_result);
    FIELD(fewshot_sweep_result, planned); FIELD(fewshot_sweep_result, already_done);
    FIELD(fewshot_sweep_result, ran); FIELD(fewshot_sweep_result, failed);
    FIELD(fewshot_sweep_result, stopped); FIELD(fewshot_sweep_result, skipped);
    FIELD(fewshot_sweep_result, skipped_arms); FIELD(fewshot_sweep_result, prompt_tokens);
    FIELD(fewshot_sweep_result, completion_tokens); FIELD(fewshot_sweep_result, cost);
    FIELD(fewshot_sweep_result, seconds);
    close_struct();
    STRUCT(fewshot_report_options);
    FIELD(fewshot_report_options, version); FIELD(fewshot_report_options, table);
    FIELD(fewshot_report_options, plots); FIELD(fewshot_report_options, format);
    FIELD(fewshot_report_options, wide); FIELD(fewshot_report_options, out_dir);
    FIELD(fewshot_report_options, set); FIELD(fewshot_report_options, trace_arm);
    FIELD(fewshot_report_options, trace_scenario); FIELD(fewshot_report_options, trace_seed);
    close_struct();
    printf(",\n \"versions\": {\"fewshot_agent_options\": %d, \"fewshot_sweep_options\": %d, "
           "\"fewshot_report_options\": %d, \"plugin_abi\": %d}\n}\n",
           FEWSHOT_AGENT_OPTIONS_VERSION, FEWSHOT_SWEEP_OPTIONS_VERSION,
           FEWSHOT_REPORT_OPTIONS_VERSION, FEWSHOT_PLUGIN_ABI);
    return 0;
}
