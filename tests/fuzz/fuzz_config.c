/*
 * libFuzzer target: config documents and --set assignments. The first line of the input is
 * applied as a --set (when it has an '='), the rest is the config JSON.
 */
#include "fuzz_common.h"

#include "fewshot/config.h"
#include "fewshot/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = memchr(text, '\n', size), *set = NULL, *doc = text;
    if (nl && memchr(text, '=', (size_t)(nl - text))) {
        *nl = '\0';
        set = text;
        doc = nl + 1;
    }
    fewshot_config *cfg = NULL;
    if (fewshot_config_parse(&cfg, doc, "fuzz.json") == 0) {
        if (set)
            fewshot_config_set(cfg, set);
        /* every accessor of a config that loaded works */
        (void)fewshot_config_hash(cfg);
        (void)fewshot_config_arms(cfg);
        (void)fewshot_config_scenarios(cfg);
        (void)fewshot_config_seeds(cfg);
        (void)fewshot_config_reference(cfg);
        fewshot_config_free(cfg);
    } else if (!fewshot_error_last()->message[0]) {
        abort();    /* a refused config always says why */
    }
    free(text);
    return 0;
}
