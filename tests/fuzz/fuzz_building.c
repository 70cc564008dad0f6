/*
 * libFuzzer target: building JSON files (fewshot-building(5)) and EnergyPlus HTML tables, the
 * first byte choosing which reader (even: JSON, odd: EnergyPlus).
 */
#include "fuzz_common.h"

#include "fewshot/building.h"
#include "fewshot/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    fewshot_building *b = NULL;
    int rc;
    if (data[0] & 1)
        rc = fewshot_building_import_energyplus(&b, fuzz_file("in.table.htm", data + 1,
                                                               size - 1), NULL);
    else
        rc = fewshot_building_load(&b, fuzz_file("in.json", data + 1, size - 1));
    if (rc == 0) {
        char *text = NULL;
        if (fewshot_building_dumps(b, &text) == 0)
            free(text);
        fewshot_building_free(b);
    }
    return 0;
}
