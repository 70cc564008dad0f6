/* Buildings: the JSON format (round trip, errors with line/column and JSON path), U-values,
 * prototype lookup, and the EnergyPlus importer (small hand-made tables, and the shared
 * EnergyPlus outputs when ../shared is present). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <fewshot.h>

static char tmpdir[256];
static char srcbuildings[1024];

static const char *tmpfile_with(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/fewshot-building.XXXXXX", getenv("TMPDIR") ?: "/tmp");
    assert_non_null(mkdtemp(tmpdir));
    const char *src = getenv("top_srcdir");
    snprintf(srcbuildings, sizeof srcbuildings, "%s/plugins/hvac/buildings", src ? src : "..");
    setenv("FEWSHOT_BUILDING_PATH", srcbuildings, 1);
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_u_values(void **state)
{
    const char *const *types = fewshot_building_types();
    size_t n = 0;
    double u[7];
    for (; types[n]; n++)
        assert_int_equal(fewshot_building_u_values(types[n], u), 0);
    assert_int_equal(n, 16);
    assert_int_equal(fewshot_building_u_values("officesmall", u), 0);
    assert_true(u[FEWSHOT_U_INTERIOR_WALL] == 6.299 && u[FEWSHOT_U_CEILING] == 4.488 &&
                u[FEWSHOT_U_GROUND_FLOOR] == 0.319 && u[FEWSHOT_U_WINDOW] == 2.615);
    assert_int_equal(fewshot_building_u_values("Warehouse", u), 0);
    assert_true(u[FEWSHOT_U_CEILING] == 10.06 && u[FEWSHOT_U_ROOF] == 0.5892);
    assert_int_equal(fewshot_building_u_values("OutPatientHealthCare", u), 0);
    assert_true(u[FEWSHOT_U_GROUND_FLOOR] == 0.00565);
    assert_int_equal(fewshot_building_u_values("Igloo", u), FEWSHOT_ENOTFOUND);
    assert_non_null(strstr(fewshot_error_last()->message, "unknown building type 'Igloo'"));
    assert_non_null(strstr(fewshot_error_last()->message, "SchoolSecondary"));
}

static void assert_same_building(const fewshot_building *a, const fewshot_building *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->type, b->type);
    assert_memory_equal(a->u, b->u, sizeof a->u);
    assert_int_equal(a->n_zones, b->n_zones);
    assert_int_equal(a->n_layers, b->n_layers);
    for (size_t i = 0; i < a->n_zones; i++) {
        const fewshot_building_zone *x = &a->zones[i], *y = &b->zones[i];
        assert_string_equal(x->name, y->name);
        double vx[] = {x->xmin, x->xmax, x->ymin, x->ymax, x->zmin, x->zmax, x->centroid_z,
                       x->floor_area, x->wall_area, x->window_area};
        double vy[] = {y->xmin, y->xmax, y->ymin, y->ymax, y->zmin, y->zmax, y->centroid_z,
                       y->floor_area, y->wall_area, y->window_area};
        assert_memory_equal(vx, vy, sizeof vx);
        assert_int_equal(x->layer, y->layer);
    }
}

static void test_prototype_round_trip(void **state)
{
    const char *const names[] = {"OfficeSmall", "OfficeMedium", "RestaurantFastFood",
                                 "RestaurantSitDown", "RetailStandalone", "RetailStripmall",
                                 "Warehouse"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        fewshot_building *a, *b;
        assert_int_equal(fewshot_building_load(&a, names[k]), 0);
        assert_string_equal(a->name, names[k]);
        char path[512];
        snprintf(path, sizeof path, "%s/%s.json", tmpdir, names[k]);
        assert_int_equal(fewshot_building_save(a, path), 0);
        assert_int_equal(fewshot_building_load(&b, path), 0);
        assert_same_building(a, b);
        char *ta, *tb;
        assert_int_equal(fewshot_building_dumps(a, &ta), 0);
        assert_int_equal(fewshot_building_dumps(b, &tb), 0);
        assert_string_equal(ta, tb);
        free(ta);
        free(tb);
        /* zones come sorted by centroid Z with layers numbered from the ground */
        for (size_t i = 1; i < a->n_zones; i++) {
            assert_true(a->zones[i - 1].centroid_z <= a->zones[i].centroid_z);
            assert_int_equal(a->zones[i].layer, a->zones[i - 1].layer +
                             (a->zones[i].centroid_z != a->zones[i - 1].centroid_z));
        }
        assert_int_equal(a->zones[0].layer, 0);
        fewshot_building_free(a);
        fewshot_building_free(b);
    }
    fewshot_building *small;
    assert_int_equal(fewshot_building_load(&small, "officesmall"), 0);  /* case-insensitive */
    const char *order[] = {"CORE_ZN", "PERIMETER_ZN_1", "PERIMETER_ZN_2", "PERIMETER_ZN_3",
                           "PERIMETER_ZN_4", "ATTIC"};
    assert_int_equal(small->n_zones, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(small->zones[i].name, order[i]);
    assert_int_equal(small->n_layers, 2);
    assert_true(small->zones[5].floor_area == 567.98 && small->zones[1].window_area == 20.64);
    fewshot_building_free(small);
    fewshot_building_free(NULL);
}

static void test_unknown_building(void **state)
{
    fewshot_building *b = (fewshot_building *)1;
    assert_int_equal(fewshot_building_load(&b, "Igloo"), FEWSHOT_ENOTFOUND);
    assert_null(b);
    const char *m = fewshot_error_last()->message;
    assert_non_null(strstr(m, "unknown building 'Igloo'"));
    assert_non_null(strstr(m, "OfficeSmall"));
    assert_non_null(strstr(m, "Warehouse"));
    assert_int_equal(fewshot_building_load(&b, "/nonexistent/b.json"), FEWSHOT_ENOTFOUND);
    assert_string_equal(fewshot_error_last()->file, "/nonexistent/b.json");
}

static const char *good_zone =
    "{\"name\": \"A\", \"xmin\": 0, \"xmax\": 10, \"ymin\": 0, \"ymax\": 5, \"zmin\": 0, "
    "\"zmax\": 3, \"floor_area\": 50, \"wall_area\": 30, \"window_area\": 6}";

static void test_custom_and_sorting(void **state)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"name\": \"Tiny\", \"type\": \"Warehouse\", \"u_values\": {\"window\": 1.5},\n"
             " \"zones\": [\n"
             "  {\"name\": \"Up\", \"xmin\": 0, \"xmax\": 10, \"ymin\": 0, \"ymax\": 5, "
             "\"zmin\": 3, \"zmax\": 6, \"floor_area\": 50},\n"
             "  %s,\n"
             "  {\"name\": \"B\", \"xmin\": 10, \"xmax\": 20, \"ymin\": 0, \"ymax\": 5, "
             "\"zmin\": 0, \"zmax\": 3, \"floor_area\": 50, \"layer\": 0}]}\n", good_zone);
    fewshot_building *b;
    assert_int_equal(fewshot_building_load(&b, tmpfile_with("tiny.json", text)), 0);
    assert_int_equal(b->n_zones, 3);
    /* stable: A before B (equal centroid Z, file order), then Up */
    assert_string_equal(b->zones[0].name, "A");
    assert_string_equal(b->zones[1].name, "B");
    assert_string_equal(b->zones[2].name, "Up");
    assert_int_equal(b->zones[2].layer, 1);
    assert_true(b->zones[0].centroid_z == 1.5);   /* default: middle of zmin..zmax */
    assert_true(b->u[FEWSHOT_U_WINDOW] == 1.5);    /* overridden */
    assert_true(b->u[FEWSHOT_U_CEILING] == 10.06); /* from the type */
    fewshot_building_free(b);

    /* a custom type needs all seven U-values */
    snprintf(text, sizeof text, "{\"name\": \"C\", \"type\": \"Shed\", \"u_values\": "
             "{\"interior_wall\": 1, \"floor\": 1, \"exterior_wall\": 1, \"roof\": 1, "
             "\"ceiling\": 1, \"ground_floor\": 1, \"window\": 1}, \"zones\": [%s]}", good_zone);
    assert_int_equal(fewshot_building_load(&b, tmpfile_with("shed.json", text)), 0);
    assert_string_equal(b->type, "Shed");
    fewshot_building_free(b);
}

/* Each bad document: the error's JSON path and a piece of the message. */
static void test_bad_values(void **state)
{
    struct { const char *doc, *path, *msg; } cases[] = {
        {"[1]", "$", "must be a JSON object"},
        {"{\"name\": \"X\", \"type\": \"Shed\", \"zones\": [%s]}", "$.type",
         "no built-in U-values"},
        {"{\"name\": \"X\", \"zones\": [%s]}", "$", "name (the default type) 'X' has no "
         "built-in U-values"},
        {"{\"name\": \"X\", \"type\": \"OfficeSmall\", \"zones\": []}", "$.zones", "non-empty"},
        {"{\"name\": \"X\", \"type\": \"OfficeSmall\", \"colour\": 1, \"zones\": [%s]}",
         "$.colour", "unknown key 'colour'"},
        {"{\"type\": \"OfficeSmall\", \"zones\": [%s]}", "$.name", "missing 'name'"},
        {"{\"name\": \"X\", \"type\": \"OfficeSmall\", \"u_values\": {\"roof\": -1}, "
         "\"zones\": [%s]}", "$.u_values.roof", "must be positive"},
        {"{\"name\": \"X\", \"type\": \"OfficeSmall\", \"zones\": [%s, {\"name\": \"B\"}]}",
         "$.zones[1].xmin", "missing 'xmin'"},
        {"{\"name\": \"X\", \"type\": \"OfficeSmall\", \"zones\": [{\"name\": \"B\", \"xmin\": 1,"
         " \"xmax\": 0, \"ymin\": 0, \"ymax\": 1, \"zmin\": 0, \"zmax\": 1, \"floor_area\": 1}]}",
         "$.zones[0].xmax", "must be greater than xmin"},
        {"{\"name\": \"X\", \"type\": \"OfficeSmall\", \"zones\": [{\"name\": \"B\", \"xmin\": 0,"
         " \"xmax\": \"wide\", \"ymin\": 0, \"ymax\": 1, \"zmin\": 0, \"zmax\": 1, "
         "\"floor_area\": 1}]}", "$.zones[0].xmax", "must be a number"},
        {"{\"name\": \"X\", \"type\": \"OfficeSmall\", \"zones\": [%s, %s]}", "$.zones[1].name",
         "also zone 0"},
        {"{\"name\": \"X\", \"type\": \"OfficeSmall\", \"format\": \"fewshot-building/9\", "
         "\"zones\": [%s]}", "$.format", "fewshot-building/1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text, cases[i].doc, good_zone, good_zone);
        const char *path = tmpfile_with("bad.json", text);
        fewshot_building *b = NULL;
        int rc = fewshot_building_load(&b, path);
        if (rc != FEWSHOT_EPARSE || strcmp(fewshot_error_last()->path, cases[i].path) != 0 ||
            !strstr(fewshot_error_last()->message, cases[i].msg))
            fail_msg("case %zu: rc %d, path '%s', message '%s'", i, rc,
                     fewshot_error_last()->path, fewshot_error_last()->message);
        assert_string_equal(fewshot_error_last()->file, path);
        assert_null(b);
    }
    /* a layer that contradicts the heights */
    char text[2048];
    snprintf(text, sizeof text, "{\"name\": \"X\", \"type\": \"OfficeSmall\", \"zones\": "
             "[{\"name\": \"B\", \"xmin\": 0, \"xmax\": 1, \"ymin\": 0, \"ymax\": 1, \"zmin\": 3,"
             " \"zmax\": 4, \"floor_area\": 1, \"layer\": 0}, %s]}", good_zone);
    fewshot_building *b;
    assert_int_equal(fewshot_building_load(&b, tmpfile_with("layer.json", text)),
                     FEWSHOT_EPARSE);
    assert_string_equal(fewshot_error_last()->path, "$.zones[0].layer");
    assert_non_null(strstr(fewshot_error_last()->message, "this zone is in layer 1"));
}

static void test_bad_json_syntax(void **state)
{
    const char *path = tmpfile_with("syntax.json", "{\n  \"name\": \"X\",\n  \"zones\": [1,, 2]\n}\n");
    fewshot_building *b;
    assert_int_equal(fewshot_building_load(&b, path), FEWSHOT_EPARSE);
    const fewshot_error *e = fewshot_error_last();
    assert_string_equal(e->file, path);
    assert_int_equal(e->line, 3);
    assert_true(e->column > 0);
    char line[1024];
    fewshot_error_format(line, sizeof line);
    assert_non_null(strstr(line, "syntax.json:3:"));
}

/* A hand-made EnergyPlus-like table: columns in another order, extra columns, a <tbody>. */
static const char *mini_table =
    "<html><body>\n"
    "<b>Zone Summary</b><br><br>\n<table><tr><td>x</td></tr></table>\n"
    "<b>Zone Information</b><br><br>\n"
    "<!-- FullName:Initialization Summary_Entire Facility_Zone Information-->\n"
    "<table border=\"1\"><tbody>\n"
    "<tr><td></td><td>Floor Area {m2}</td><td>Zone Name</td><td>Minimum X {m}</td>"
    "<td>Maximum X {m}</td><td>Minimum Y {m}</td><td>Maximum Y {m}</td><td>Minimum Z {m}</td>"
    "<td>Maximum Z {m}</td><td>Centroid Z-Coordinate {m}</td><td>Exterior Net Wall Area {m2}</td>"
    "<td>Exterior Window Area {m2}</td><td>Volume {m3}</td></tr>\n"
    "<tr><td>1</td><td>100.0</td><td>TOP</td><td>0</td><td>10</td><td>0</td><td>10</td>"
    "<td>3</td><td>6</td><td>4.5</td><td>0</td><td>0</td><td>300</td></tr>\n"
    "<tr><td>2</td><td> 50.00 </td><td> EAST </td><td>5</td><td>10</td><td>0</td><td>10</td>"
    "<td>0</td><td>3</td><td>1.5</td><td>30</td><td>5</td><td>150</td></tr>\n"
    "<tr><td>3</td><td>%s</td><td>WEST</td><td>0</td><td>5</td><td>0</td><td>10</td>"
    "<td>0</td><td>3</td><td>1.5</td><td>30</td><td>5</td><td>150</td></tr>\n"
    "</tbody></table></body></html>\n";

static void test_import_mini(void **state)
{
    char text[4096];
    snprintf(text, sizeof text, mini_table, "50");
    const char *path = tmpfile_with("Mini_RetailStripmall.table.htm", text);
    fewshot_building *b;
    assert_int_equal(fewshot_building_import_energyplus(&b, path, NULL), 0);
    assert_string_equal(b->type, "RetailStripmall");
    assert_int_equal(b->n_zones, 3);
    assert_string_equal(b->zones[0].name, "EAST");
    assert_string_equal(b->zones[1].name, "WEST");
    assert_string_equal(b->zones[2].name, "TOP");
    assert_true(b->zones[0].floor_area == 50 && b->zones[0].wall_area == 30 &&
                b->zones[0].window_area == 5 && b->zones[0].xmin == 5);
    assert_int_equal(b->zones[2].layer, 1);
    fewshot_building_free(b);
    /* an explicit type wins over the file name; load() dispatches on .htm */
    assert_int_equal(fewshot_building_import_energyplus(&b, path, "hospital"), 0);
    assert_string_equal(b->type, "Hospital");
    fewshot_building_free(b);
    assert_int_equal(fewshot_building_load(&b, path), 0);
    fewshot_building_free(b);

    /* a cell that is not a number: file and line of the cell */
    snprintf(text, sizeof text, mini_table, "fifty");
    path = tmpfile_with("Bad_OfficeSmall.table.htm", text);
    assert_int_equal(fewshot_building_import_energyplus(&b, path, NULL), FEWSHOT_EPARSE);
    assert_int_equal(fewshot_error_last()->line, 10);
    assert_non_null(strstr(fewshot_error_last()->message,
                           "zone 'WEST': 'Floor Area' is 'fifty', expected a number"));

    /* a missing column */
    snprintf(text, sizeof text, mini_table, "50");
    char *col = strstr(text, "<td>Exterior Window Area {m2}</td>");
    memcpy(col, "<td>Exterior Door Area {m2}</td>  ", 34);
    path = tmpfile_with("NoWin_OfficeSmall.table.htm", text);
    assert_int_equal(fewshot_building_import_energyplus(&b, path, NULL), FEWSHOT_EPARSE);
    assert_int_equal(fewshot_error_last()->line, 7);
    assert_non_null(strstr(fewshot_error_last()->message, "no 'Exterior Window Area' column"));

    /* no such table, unknown type, type not in the name, missing file */
    path = tmpfile_with("Empty_OfficeSmall.table.htm", "<html><body><p>hi</p></body></html>");
    assert_int_equal(fewshot_building_import_energyplus(&b, path, NULL), FEWSHOT_EPARSE);
    assert_non_null(strstr(fewshot_error_last()->message, "no 'Zone Information' table"));
    assert_int_equal(fewshot_building_import_energyplus(&b, path, "Igloo"), FEWSHOT_ENOTFOUND);
    assert_non_null(strstr(fewshot_error_last()->message, "OfficeSmall"));
    path = tmpfile_with("plain.table.htm", "<html></html>");
    assert_int_equal(fewshot_building_import_energyplus(&b, path, NULL), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "cannot tell the building type"));
    assert_int_equal(fewshot_building_import_energyplus(&b, "/nonexistent/x_OfficeSmall.htm",
                                                        NULL), FEWSHOT_EIO);
}

/* The shared EnergyPlus outputs re-import to exactly the shipped building files. */
static void test_import_shared(void **state)
{
    const char *shared = getenv("FEWSHOT_SHARED");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/energyplus", shared ? shared : "");
    if (!shared || access(dir, R_OK) != 0) {
        skip();
        return;
    }
    const char *const names[] = {"OfficeSmall", "OfficeMedium", "RestaurantFastFood",
                                 "RestaurantSitDown", "RetailStandalone", "RetailStripmall",
                                 "Warehouse"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char htm[1200], json[1200];
        snprintf(htm, sizeof htm, "%s/ASHRAE901_%s_STD2019_Tucson.table.htm", dir, names[k]);
        snprintf(json, sizeof json, "%s/%s.json", srcbuildings, names[k]);
        fewshot_building *imported, *shipped;
        assert_int_equal(fewshot_building_import_energyplus(&imported, htm, NULL), 0);
        assert_int_equal(fewshot_building_load(&shipped, json), 0);
        assert_same_building(imported, shipped);
        char *a, *b;
        assert_int_equal(fewshot_building_dumps(imported, &a), 0);
        assert_int_equal(fewshot_building_dumps(shipped, &b), 0);
        assert_string_equal(a, b);
        free(a);
        free(b);
        if (k == 0) {
            const char *order[] = {"CORE_ZN", "PERIMETER_ZN_1", "PERIMETER_ZN_2",
                                   "PERIMETER_ZN_3", "PERIMETER_ZN_4", "ATTIC"};
            for (size_t i = 0; i < 6; i++)
                assert_string_equal(imported->zones[i].name, order[i]);
        }
        fewshot_building_free(imported);
        fewshot_building_free(shipped);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u_values),
        cmocka_unit_test(test_prototype_round_trip),
        cmocka_unit_test(test_unknown_building),
        cmocka_unit_test(test_custom_and_sorting),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_bad_json_syntax),
        cmocka_unit_test(test_import_mini),
        cmocka_unit_test(test_import_shared),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
