/*
 * Internal pieces of the building module shared by building.c and energyplus.c.
 */
#ifndef FEWSHOT_BUILDING_INTERNAL_H
#define FEWSHOT_BUILDING_INTERNAL_H

#include "fewshot/building.h"
#include "internal.h"

/* Stable-sort b's zones by centroid Z, number the layers (equal centroid Z = one layer) and
 * set b->n_layers. */
FEWSHOT_HIDDEN void fewshot__building_layer(fewshot_building *b);

/* Read the zones of the "Zone Information" table of an EnergyPlus tabular HTML file into b
 * (unsorted, in table order). Errors name the file and line. */
FEWSHOT_HIDDEN int fewshot__energyplus_zones(const char *path, fewshot_building *b);

/* The building type named in a file name (longest type name contained in the base name,
 * case-insensitively), or NULL. */
FEWSHOT_HIDDEN const char *fewshot__building_type_in_name(const char *path);

#endif
