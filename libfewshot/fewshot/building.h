/*
 * libfewshot: building descriptions for thermal models: zones with geometry and areas, layers,
 * and the U-values of the building's construction.
 *
 * A building comes from a JSON file (format in fewshot-building(5)), from an EnergyPlus tabular
 * output file (*.table.htm, its "Zone Information" table), or from the name of a shipped
 * prototype ("OfficeSmall"), looked up as NAME.json in, in order: the directories of
 * $FEWSHOT_BUILDING_PATH (colon-separated), the installed data directory
 * (fewshot_building_dir()), and, for programs run from the build tree, the source tree's
 * plugins/hvac/buildings.
 *
 * Zones are stable-sorted by centroid Z (the zone index is the position after the sort); zones
 * with equal centroid Z form a layer, layer 0 touches the ground.
 *
 * Thread-safety: a building is plain data; functions touch only their arguments.
 */
#ifndef FEWSHOT_BUILDING_H
#define FEWSHOT_BUILDING_H

#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

/* Indices into fewshot_building.u (W/(m2 K)). */
enum fewshot_building_u_index {
    FEWSHOT_U_INTERIOR_WALL = 0,
    FEWSHOT_U_FLOOR = 1,
    FEWSHOT_U_EXTERIOR_WALL = 2,
    FEWSHOT_U_ROOF = 3,
    FEWSHOT_U_CEILING = 4,
    FEWSHOT_U_GROUND_FLOOR = 5,
    FEWSHOT_U_WINDOW = 6,
    FEWSHOT_U_COUNT = 7
};

typedef struct fewshot_building_zone {
    char *name;
    double xmin, xmax, ymin, ymax, zmin, zmax;  /* m */
    double centroid_z;                          /* m */
    double floor_area;                          /* m2 */
    double wall_area;                           /* exterior net wall area, m2 */
    double window_area;                         /* exterior window area, m2 */
    int layer;                                  /* 0 touches the ground */
} fewshot_building_zone;

typedef struct fewshot_building {
    char *name;        /* e.g. "OfficeSmall" */
    char *type;        /* U-value building type, e.g. "OfficeSmall" */
    double u[7];       /* W/(m2 K): interior wall, floor, exterior wall, roof, ceiling,
                          ground floor, window (see enum fewshot_building_u_index) */
    size_t n_zones;
    fewshot_building_zone *zones;   /* stable-sorted by centroid_z; index = zone index */
    int n_layers;      /* number of layers (largest zone layer + 1) */
    char *source;      /* where it came from (file path or EnergyPlus table name), or NULL */
} fewshot_building;

/* Load a building from a JSON building file, an EnergyPlus *.table.htm (U-values guessed from
 * the file name), or a shipped prototype name. Errors name the file with the line and column
 * (malformed JSON), the JSON path (wrong values) or the table row; an unknown name is
 * FEWSHOT_ENOTFOUND listing the shipped prototypes. */
FEWSHOT_EXTERN(int) fewshot_building_load(fewshot_building **out, const char *path_or_name);

/* Import the "Zone Information" table of an EnergyPlus tabular HTML output file. type picks
 * the U-values (one of fewshot_building_types()); NULL guesses it from the file name, e.g.
 * ASHRAE901_OfficeSmall_STD2019_Tucson.table.htm -> OfficeSmall. */
FEWSHOT_EXTERN(int) fewshot_building_import_energyplus(fewshot_building **out,
                                                       const char *htm_path, const char *type);

/* Write b as a JSON building file ("-" writes to standard output). */
FEWSHOT_EXTERN(int) fewshot_building_save(const fewshot_building *b, const char *path);

/* The JSON building document as a new string (free() it). */
FEWSHOT_EXTERN(int) fewshot_building_dumps(const fewshot_building *b, char **out);

FEWSHOT_EXTERN(void) fewshot_building_free(fewshot_building *b);

/* U-values of one of the 16 BEAR building types (name compared case-insensitively);
 * FEWSHOT_ENOTFOUND listing the valid types otherwise. */
FEWSHOT_EXTERN(int) fewshot_building_u_values(const char *type, double u[7]);

/* The 16 building types with U-values, NULL-terminated. */
FEWSHOT_EXTERN(const char *const *) fewshot_building_types(void);

/* Resolve a prototype name to the path of its JSON file (malloc'd, free() it), searching as
 * described above; FEWSHOT_ENOTFOUND lists the names found. */
FEWSHOT_EXTERN(int) fewshot_building_find(const char *name, char **path);

/* The installed directory of shipped building files. */
FEWSHOT_EXTERN(const char *) fewshot_building_dir(void);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_BUILDING_H */
