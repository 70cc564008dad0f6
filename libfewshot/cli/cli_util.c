/* Helpers shared by the subcommands of `fewshot`. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_error_last(void)
{
    char buf[2048];
    fewshot_error_format(buf, sizeof buf);
    /* messages quote names and text from files anyone may have written (a run directory's
     * arms, a config's strings): no control byte reaches the terminal */
    for (char *s = buf; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f)
            *s = '?';
    fprintf(stderr, "fewshot: %s\n", buf);
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("fewshot: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

int cli_exit_for(int rc)
{
    switch (rc) {
    case FEWSHOT_OK:
        return EXIT_OK;
    case FEWSHOT_EINVAL:
    case FEWSHOT_ENOTFOUND:
    case FEWSHOT_EPARSE:
    case FEWSHOT_EPLUGIN:
    case FEWSHOT_EMISMATCH:
    case FEWSHOT_EUNSUPPORTED:
        return EXIT_USAGE;
    default:
        return EXIT_FAILED;
    }
}

int cli_parse_assignment(json_t *obj, const char *text, const char *flag)
{
    const char *eq = strchr(text, '=');
    if (!eq || eq == text)
        return cli_usage_error("%s %s: expected key=value", flag, text);
    char *key = strndup(text, (size_t)(eq - text));
    const char *raw = eq + 1;
    json_t *value = json_loads(raw, JSON_DECODE_ANY, NULL);
    if (!value)
        value = json_string(raw);
    json_t *parent = obj;
    char *save = NULL, *part = strtok_r(key, ".", &save), *next;
    while (part && (next = strtok_r(NULL, ".", &save)) != NULL) {
        json_t *child = json_object_get(parent, part);
        if (!json_is_object(child)) {
            child = json_object();
            if (json_object_set_new(parent, part, child) != 0) {    /* not UTF-8: freed */
                free(key);
                json_decref(value);
                return cli_usage_error("%s %s: the key is not valid UTF-8", flag, text);
            }
        }
        parent = child;
        part = next;
    }
    if (!part) {
        free(key);
        json_decref(value);
        return cli_usage_error("%s %s: empty key", flag, text);
    }
    int bad = json_object_set_new(parent, part, value) != 0;
    free(key);
    return bad ? cli_usage_error("%s %s: the key is not valid UTF-8", flag, text) : 0;
}

int cli_parse_u64(const char *text, const char *flag, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!text || !*text || *text == '-')
        return cli_usage_error("%s: expected a non-negative integer, got '%s'", flag,
                               text ? text : "");
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return cli_usage_error("%s: expected a non-negative integer, got '%s'", flag, text);
    *out = v;
    return 0;
}

void cli_print_double(FILE *out, double v)
{
    char buf[40];
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}
