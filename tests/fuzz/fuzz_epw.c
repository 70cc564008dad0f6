/* libFuzzer target: EPW weather files, as the hvac plugin reads them (plugins/hvac/weather.c). */
#include "fuzz_common.h"

#include "fewshot/error.h"
#include "weather.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("weather.epw", data, size);
    hvac_weather w;
    if (hvac_weather_load_epw(&w, path) == 0)
        hvac_weather_free(&w);
    return 0;
}
