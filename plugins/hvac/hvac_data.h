/* The data side of the plugin (buildings, weather, ground temperatures). */
#ifndef HVAC_DATA_H
#define HVAC_DATA_H
#include <fewshot/building.h>
#include "standin.h"
#endif
