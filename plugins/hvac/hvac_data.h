/* The data side of the plugin: buildings (library module), weather, ground temperatures. */
#ifndef HVAC_DATA_H
#define HVAC_DATA_H
#include <fewshot/building.h>
#include "weather.h"
#endif
