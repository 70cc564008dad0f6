/*
 * `fewshot llm models|chat|complete|embed`: check an endpoint by hand. The reply goes to
 * stdout; usage, latency and cache status to stderr.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_llm_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot llm models [OPTIONS]\n"
            "       fewshot llm chat [OPTIONS] [--system TEXT] [TEXT|-]\n"
            "       fewshot llm complete [OPTIONS] [TEXT|-]\n"
            "       fewshot llm embed [OPTIONS] [TEXT|-]\n"
            "\n"
            "options:\n"
            "  --base-url URL        endpoint (default $FEWSHOT_BASE_URL, $OPENAI_BASE_URL, then\n"
            "                        https://api.openai.com/v1)\n"
            "  --model NAME          model (default $FEWSHOT_MODEL)\n"
            "  --api-key-env NAME    environment variable holding the key (default OPENAI_API_KEY)\n"
            "  --provider NAME       openai, azure, vllm, llama.cpp, ollama\n"
            "  --config FILE         read the `llm` section of FILE (flags override it)\n"
            "  --temperature T  --top-p P  --max-tokens N  --seed S  --stop TEXT\n"
            "  --json-schema FILE    structured output: the reply must match the schema\n"
            "  --stream              stream the reply (printed as it arrives)\n"
            "  --timeout SECONDS     per attempt      --retries N\n"
            "  --cache FILE          cache file (default $XDG_CACHE_HOME/fewshot/llm.sqlite)\n"
            "  --no-cache            neither read nor write the cache\n"
            "\n"
            "TEXT is the user message or prompt; - or no TEXT reads it from stdin. Exit status:\n"
            "0 success, 1 the endpoint failed after retries, 2 usage errors. See fewshot-llm(1).\n");
}

enum {
    O_BASE = 256, O_MODEL, O_KEYENV, O_PROVIDER, O_CONFIG, O_TEMP, O_TOPP, O_MAXTOK, O_SEED,
    O_STOP, O_SCHEMA, O_STREAM, O_TIMEOUT, O_RETRIES, O_CACHE, O_NOCACHE, O_SYSTEM
};

static const struct option long_options[] = {
    {"base-url", required_argument, NULL, O_BASE},
    {"model", required_argument, NULL, O_MODEL},
    {"api-key-env", required_argument, NULL, O_KEYENV},
    {"provider", required_argument, NULL, O_PROVIDER},
    {"config", required_argument, NULL, O_CONFIG},
    {"temperature", required_argument, NULL, O_TEMP},
    {"top-p", required_argument, NULL, O_TOPP},
    {"max-tokens", required_argument, NULL, O_MAXTOK},
    {"seed", required_argument, NULL, O_SEED},
    {"stop", required_argument, NULL, O_STOP},
    {"json-schema", required_argument, NULL, O_SCHEMA},
    {"stream", no_argument, NULL, O_STREAM},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"retries", required_argument, NULL, O_RETRIES},
    {"cache", required_argument, NULL, O_CACHE},
    {"no-cache", no_argument, NULL, O_NOCACHE},
    {"system", required_argument, NULL, O_SYSTEM},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_real(const char *text, const char *flag, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(v >= lo && v <= hi))
        return cli_usage_error("%s: expected a number in [%g, %g], got '%s'", flag, lo, hi, text);
    *out = v;
    return 0;
}

static char *read_stdin(void)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (len > ((size_t)64 << 20)) {     /* a prompt, not /dev/zero */
            free(buf);
            fprintf(stderr, "fewshot: standard input is larger than 64 MiB\n");
            return NULL;
        }
        if (cap - len < 2) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
        }
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

static int print_delta(void *user, const char *text, size_t len)
{
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static void print_usage_line(const fewshot_llm_reply *r)
{
    fprintf(stderr, "usage: prompt_tokens=%llu completion_tokens=%llu total_tokens=%llu",
            (unsigned long long)r->usage.prompt_tokens,
            (unsigned long long)r->usage.completion_tokens,
            (unsigned long long)r->usage.total_tokens);
    if (r->usage.cached_tokens > 0)
        fprintf(stderr, " cached_tokens=%llu", (unsigned long long)r->usage.cached_tokens);
    if (r->usage.cost > 0)
        fprintf(stderr, " cost=%.6f", r->usage.cost);
    fprintf(stderr, " latency=%.3fs attempts=%u cache=%s", r->latency, r->attempts,
            r->cache_hit ? "hit" : "miss");
    if (r->finish_reason[0])
        fprintf(stderr, " finish_reason=%s", r->finish_reason);
    fputc('\n', stderr);
}

int cli_llm(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        cli_llm_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    int endpoint;
    if (strcmp(sub, "models") == 0)
        endpoint = FEWSHOT_LLM_MODELS;
    else if (strcmp(sub, "chat") == 0)
        endpoint = FEWSHOT_LLM_CHAT;
    else if (strcmp(sub, "complete") == 0)
        endpoint = FEWSHOT_LLM_COMPLETION;
    else if (strcmp(sub, "embed") == 0)
        endpoint = FEWSHOT_LLM_EMBEDDING;
    else
        return cli_usage_error("llm: unknown subcommand '%s' (models, chat, complete, embed)",
                               sub);

    json_t *conf = json_object();
    const char *config_file = NULL, *system = NULL, *schema_file = NULL, *cache_path = NULL;
    int no_cache = 0, stream = 0, c, rc = EXIT_USAGE;
    double d;
    uint64_t u;
    json_t *file_doc = NULL, *input = NULL;
    char *text = NULL;
    fewshot_llm *llm = NULL;
    fewshot_llm_reply *reply = NULL;

    optind = 1;
    opterr = 0;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (c) {
        case O_BASE: json_object_set_new(conf, "base_url", json_string(optarg)); break;
        case O_MODEL: json_object_set_new(conf, "model", json_string(optarg)); break;
        case O_KEYENV: json_object_set_new(conf, "api_key_env", json_string(optarg)); break;
        case O_PROVIDER: json_object_set_new(conf, "provider", json_string(optarg)); break;
        case O_CONFIG: config_file = optarg; break;
        case O_SYSTEM: system = optarg; break;
        case O_SCHEMA: schema_file = optarg; break;
        case O_STREAM: stream = 1; break;
        case O_CACHE: cache_path = optarg; break;
        case O_NOCACHE: no_cache = 1; break;
        case O_STOP: json_object_set_new(conf, "stop", json_string(optarg)); break;
        case O_TEMP:
            if (parse_real(optarg, "--temperature", 0, 2, &d))
                goto out;
            json_object_set_new(conf, "temperature", json_real(d));
            break;
        case O_TOPP:
            if (parse_real(optarg, "--top-p", 0, 1, &d))
                goto out;
            json_object_set_new(conf, "top_p", json_real(d));
            break;
        case O_TIMEOUT:
            if (parse_real(optarg, "--timeout", 0.001, 86400, &d))
                goto out;
            json_object_set_new(conf, "timeouts", json_pack("{s:f}", "request", d));
            break;
        case O_MAXTOK:
            if (cli_parse_u64(optarg, "--max-tokens", &u))
                goto out;
            json_object_set_new(conf, "max_tokens", json_integer((json_int_t)u));
            break;
        case O_SEED:
            if (cli_parse_u64(optarg, "--seed", &u))
                goto out;
            json_object_set_new(conf, "seed", json_integer((json_int_t)u));
            break;
        case O_RETRIES:
            if (cli_parse_u64(optarg, "--retries", &u))
                goto out;
            json_object_set_new(conf, "retries", json_integer((json_int_t)u));
            break;
        case 'h':
            cli_llm_usage(stdout);
            rc = EXIT_OK;
            goto out;
        default:
            rc = cli_usage_error("llm %s: unknown or incomplete option '%s'", sub,
                                 argv[optind - 1]);
            goto out;
        }
    }
    if (argc - optind > 1) {
        rc = cli_usage_error("llm %s: give the text as one argument (quote it), or - for stdin",
                             sub);
        goto out;
    }
    if (endpoint == FEWSHOT_LLM_MODELS && argc - optind == 1) {
        rc = cli_usage_error("llm models: unexpected argument '%s'", argv[optind]);
        goto out;
    }

    /* the config's llm section, then the flags on top */
    if (config_file) {
        json_error_t jerr;
        file_doc = json_load_file(config_file, 0, &jerr);
        if (!file_doc) {
            fewshot_error_set_at(FEWSHOT_EPARSE, config_file, jerr.line, jerr.column, "%s",
                                 jerr.text);
            cli_error_last();
            goto out;
        }
        json_t *section = json_object_get(file_doc, "llm");
        if (!section)
            section = file_doc;
        json_t *merged = json_deep_copy(section);
        json_object_update(merged, conf);
        json_decref(conf);
        conf = merged;
    }
    if (!json_object_get(conf, "model") && getenv("FEWSHOT_MODEL"))
        json_object_set_new(conf, "model", json_string(getenv("FEWSHOT_MODEL")));
    if (stream)
        json_object_set_new(conf, "stream", json_true());
    if (schema_file) {
        json_error_t jerr;
        json_t *schema = json_load_file(schema_file, 0, &jerr);
        if (!schema) {
            fewshot_error_set_at(FEWSHOT_EPARSE, schema_file, jerr.line, jerr.column, "%s",
                                 jerr.text);
            cli_error_last();
            goto out;
        }
        json_object_set_new(conf, "response_format",
                            json_pack("{s:s,s:{s:s,s:b,s:o}}", "type", "json_schema",
                                      "json_schema", "name", "reply", "strict", 1,
                                      "schema", schema));
    }
    /* the cache: on by default (read-write), as the config says, or as the flags say */
    json_t *cache_conf = json_object_get(conf, "cache");
    if (!json_is_object(cache_conf) && !json_is_string(cache_conf)) {
        if (!cache_conf)
            json_object_set_new(conf, "cache", cache_conf = json_object());
    } else if (json_is_string(cache_conf)) {
        json_object_set_new(conf, "cache", cache_conf = json_pack("{s:s}", "mode",
                                                                   json_string_value(cache_conf)));
    }
    if (json_is_object(cache_conf)) {
        if (no_cache || endpoint == FEWSHOT_LLM_MODELS)
            json_object_set_new(cache_conf, "mode", json_string("off"));
        if (cache_path)
            json_object_set_new(cache_conf, "path", json_string(cache_path));
    }
    if (fewshot_llm_config_check(conf, config_file) != 0) {
        cli_error_last();
        goto out;
    }
    if (fewshot_llm_new_from_config(&llm, conf, config_file) != 0) {
        const fewshot_error *e = fewshot_error_last();
        if (!strstr(e->message, "$.llm.cache")) {
            cli_error_last();
            goto out;
        }
        /* an unusable cache does not stop a check by hand */
        char buf[1024];
        fewshot_error_format(buf, sizeof buf);
        fprintf(stderr, "fewshot: warning: cache not used: %s\n", buf);
        json_object_set_new(cache_conf, "mode", json_string("off"));
        if (fewshot_llm_new_from_config(&llm, conf, config_file) != 0) {
            cli_error_last();
            goto out;
        }
    }

    if (endpoint != FEWSHOT_LLM_MODELS) {
        if (argc - optind == 0 || strcmp(argv[optind], "-") == 0) {
            text = read_stdin();
            if (!text) {
                fprintf(stderr, "fewshot: cannot read stdin\n");
                rc = EXIT_FAILED;
                goto out;
            }
        } else {
            text = strdup(argv[optind]);
        }
        if (endpoint == FEWSHOT_LLM_CHAT)
            input = fewshot_llm_messages(system, text);
        else
            input = json_string(text);
    }
    fewshot_llm_params params = *fewshot_llm_default_params(llm);
    if (stream) {
        params.on_delta = print_delta;
        params.on_delta_user = NULL;
    }
    int r = fewshot_llm_call(llm, endpoint, input, &params, &reply);
    if (r && !reply) {
        cli_error_last();
        rc = cli_exit_for(r);
        goto out;
    }
    if (reply->status) {
        fprintf(stderr, "fewshot: %s\n", reply->error);
        rc = reply->status == FEWSHOT_EINVAL ? EXIT_USAGE : EXIT_FAILED;
        goto out;
    }
    if (endpoint == FEWSHOT_LLM_MODELS) {
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(reply->body, "data"), i, m) {
            const char *id = json_string_value(json_object_get(m, "id"));
            if (id)
                printf("%s\n", id);
        }
        fprintf(stderr, "latency=%.3fs attempts=%u\n", reply->latency, reply->attempts);
    } else if (endpoint == FEWSHOT_LLM_EMBEDDING) {
        size_t dim = 0;
        fewshot_llm_reply_embedding(reply, 0, NULL, 0, &dim);
        float *v = calloc(dim ? dim : 1, sizeof *v);
        fewshot_llm_reply_embedding(reply, 0, v, dim, &dim);
        putchar('[');
        for (size_t i = 0; i < dim; i++) {
            if (i)
                fputs(", ", stdout);
            cli_print_double(stdout, v[i]);
        }
        puts("]");
        free(v);
        fprintf(stderr, "dimension=%zu ", dim);
        print_usage_line(reply);
    } else {
        if (stream && !reply->cache_hit)
            putchar('\n');
        else
            printf("%s\n", reply->text);
        print_usage_line(reply);
        if (reply->truncated)
            fprintf(stderr, "fewshot: warning: the reply was truncated at max_tokens "
                            "(finish_reason \"length\")\n");
    }
    rc = EXIT_OK;
    const char *why;
    if (fewshot_llm_cache_errors(llm, &why)) {  /* the answer is printed, but was not kept */
        fprintf(stderr, "fewshot: the reply could not be stored in the cache: %s\n", why);
        rc = EXIT_FAILED;
    }
out:
    fewshot_llm_reply_free(reply);
    fewshot_llm_free(llm);
    json_decref(input);
    json_decref(conf);
    json_decref(file_doc);
    free(text);
    return rc;
}
