/* libFuzzer target: demonstrations JSONL files (fewshot-demos(5)) and their statistics. */
#include "fuzz_common.h"

#include "fewshot/demo.h"
#include "fewshot/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("demos.jsonl", data, size);
    fewshot_demos *ds = NULL;
    if (fewshot_demos_load(&ds, path) == 0) {
        json_t *st = NULL;
        if (fewshot_demos_stats(ds, &st) == 0)
            json_decref(st);
        for (size_t i = 0; i < fewshot_demos_count(ds); i++)
            if (!fewshot_demos_get(ds, i))
                abort();
        fewshot_demos_free(ds);
    } else if (!fewshot_error_last()->message[0]) {
        abort();
    }
    return 0;
}
