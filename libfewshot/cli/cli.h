/*
 * Shared pieces of the `fewshot` program: exit codes, error printing, option helpers.
 */
#ifndef FEWSHOT_CLI_H
#define FEWSHOT_CLI_H

#include <stdio.h>
#include <jansson.h>

#include "fewshot.h"

/* Exit status, as fewshot(1) documents it. */
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,     /* a run finished with failures, or an endpoint failed */
    EXIT_USAGE = 2       /* usage or configuration error */
};

/* One subcommand group: `fewshot NAME ...`. argv[0] is NAME. */
typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *out);
} cli_command;

/* Print "fewshot: " + the library's last error (with file:line:column and JSON path). */
void cli_error_last(void);

/* Print "fewshot: " + a formatted message. Returns EXIT_USAGE for `return cli_usage_error(...)`. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit code for a library error: configuration-type errors are 2, run failures 1. */
int cli_exit_for(int rc);

/* Parse "key=value" into obj: value as JSON when it parses, as a string otherwise.
 * Dotted keys ("a.b=1") create nested objects. */
int cli_parse_assignment(json_t *obj, const char *text, const char *flag);

/* Parse an unsigned integer option value; prints an error naming the option on failure. */
int cli_parse_u64(const char *text, const char *flag, uint64_t *out);

/* Write a double so that it reads back to the same value, in the shortest such form. */
void cli_print_double(FILE *out, double v);

/* Is argv[i] one of the help flags? */
int cli_is_help(const char *arg);

int cli_env(int argc, char **argv);
void cli_env_usage(FILE *out);
int cli_demos(int argc, char **argv);
void cli_demos_usage(FILE *out);

/* Load CONFIG and apply --set values; prints the error and returns the exit code on failure. */
int cli_load_config(const char *path, char **sets, size_t n_sets, fewshot_config **out);
int cli_sweep(int argc, char **argv);
void cli_sweep_usage(FILE *out);
int cli_merge(int argc, char **argv);
void cli_merge_usage(FILE *out);
int cli_report(int argc, char **argv);
void cli_report_usage(FILE *out);
int cli_prompt(int argc, char **argv);
void cli_prompt_usage(FILE *out);

int cli_template(int argc, char **argv);
void cli_template_usage(FILE *out);
int cli_llm(int argc, char **argv);
void cli_llm_usage(FILE *out);
int cli_cache(int argc, char **argv);
void cli_cache_usage(FILE *out);
/* `fewshot env import-energyplus`, argv[0] = "import-energyplus" (import_cmd.c). */
int cli_env_import(int argc, char **argv);

#endif
