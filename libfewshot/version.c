/* The run-time half of <fewshot/version.h>. */
#include "config.h"

#include "fewshot/version.h"

const char *fewshot_version_str(void)
{
    return FEWSHOT_VERSION;
}

unsigned int fewshot_version_hex(void)
{
    return FEWSHOT_VERSION_HEX;
}
