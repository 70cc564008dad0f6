/*
 * Benchmark: one decision's prompt render (8 demonstrations, 18 rooms as paper.json's
 * OfficeMedium, the paper's HVAC templates) plus the parse of a realistic reply; measured
 * with the demonstrations keyed as the agent keys them (consecutive decisions show the same
 * nearest neighbours, rendered once) and without keys (every one rendered each time). Writes the inputs, the rendered prompt and the reply to
 * DATA.json so tests/bench/prompt.py can do the same work in Python and check it got the same
 * prompt; prints microseconds per decision (CPU time of this process, so that other load on
 * the machine does not count).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fewshot.h>

#define ROOMS 18
#define DEMOS 8

static const char *tpl(void *data, const char *c)
{
    if (!strcmp(c, "objective"))
        return "You are an HVAC administrator. Your primary objective is to fine-tune the actions "
               "to maintain the temperature in each room close to the target temperature, while "
               "maximizing the rewards as much as possible.";
    if (!strcmp(c, "meta"))
        return "You are the HVAC administrator responsible for managing a building of type "
               "{{building}} located in {{city}}, where the climate is {{climate}}.";
    if (!strcmp(c, "instruction"))
        return "{{#heating}}You are heating. Actions are integers from 0 to 100, one per room. "
               "If a room is warmer than the target, the larger the difference, the lower its "
               "action; if colder, the higher.{{/heating}}{{#cooling}}You are cooling. Actions "
               "are integers from -100 to 0, one per room.{{/cooling}}";
    if (!strcmp(c, "state"))
        return "The building has {{n_rooms}} rooms in total. Currently, temperature in each room "
               "is as follows:\n{{#rooms}}{{name}}: {{temperature}} degrees Celsius\n{{/rooms}}"
               "The external climate conditions are as follows:\nOutside Temperature: {{outside}}"
               " degrees Celsius.\nGlobal Horizontal Irradiance: {{ghi}}.\nGround Temperature: "
               "{{ground}} degrees Celsius.\nOccupant Power: {{occupancy}} KW.\nTarget "
               "Temperature: {{target}} degrees Celsius.";
    if (!strcmp(c, "feedback"))
        return "Comments: After taking the above actions, temperature in each room becomes:\n"
               "{{#rooms}}{{name}}: {{temperature}} degree Celsius\n{{/rooms}}";
    if (!strcmp(c, "comments"))
        return "{{#rooms}}{{#below_target}}The action for {{name}} shall be increased as its "
               "temperature is lower than the target temperature.\n{{/below_target}}"
               "{{#above_target}}The action for {{name}} shall be decreased as its temperature "
               "is higher than the target temperature.\n{{/above_target}}{{/rooms}}";
    if (!strcmp(c, "current"))
        return "Please decide opening of the valve in each room based on the following "
               "description:\nDescription: {{{description}}}";
    return NULL;
}

static json_t *context(fewshot_rng *rng)
{
    json_t *rooms = json_array();
    for (int i = 0; i < ROOMS; i++) {
        char name[16];
        snprintf(name, sizeof name, "Room %d", i + 1);
        double t = 18 + 8 * fewshot_rng_uniform(rng);
        json_array_append_new(rooms, json_pack("{s:s, s:f, s:b, s:b}", "name", name,
                                               "temperature", t, "below_target", t < 21.5,
                                               "above_target", t > 22.5));
    }
    return json_pack("{s:i, s:o, s:f, s:f, s:f, s:f, s:f, s:b, s:b, s:s, s:s, s:s}", "n_rooms",
                     ROOMS, "rooms", rooms, "outside", 5 + 3 * fewshot_rng_uniform(rng), "ghi",
                     120 * fewshot_rng_uniform(rng), "ground", 10.4, "occupancy",
                     2.5 * fewshot_rng_uniform(rng), "target", 22.0, "heating", 1, "cooling", 0,
                     "building", "OfficeMedium", "city", "Buffalo", "climate", "Cool and Humid");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_prompt DATA.json\n");
        return 2;
    }
    fewshot_rng rng;
    fewshot_rng_seed(&rng, 7);
    static double lo[ROOMS], hi[ROOMS];
    for (int i = 0; i < ROOMS; i++) {
        lo[i] = -1;
        hi[i] = 1;
    }
    fewshot_space act = {ROOMS, lo, hi, 0, NULL};
    fewshot_prompt_options o = FEWSHOT_PROMPT_OPTIONS_INIT;
    o.act = &act;
    o.action_scale = 100;
    o.templates = tpl;
    /* every one of the 8 a demonstration, the history ones too (prompt.py's text) */
    json_t *spec = json_pack("{s:s}", "history_layout", "demonstrations");
    o.spec = spec;
    fewshot_prompt *p;
    int prc = fewshot_prompt_new(&p, NULL, &o);
    json_decref(spec);
    if (prc) {
        fprintf(stderr, "%s\n", fewshot_error_last()->message);
        return 1;
    }
    fewshot_parse_options po = FEWSHOT_PARSE_OPTIONS_INIT;
    fewshot_prompt_parse_options(p, &po);
    fewshot_parser *parser;
    fewshot_parser_new(&parser, &act, &po);

    json_t *ctx[DEMOS + 1], *next[DEMOS];
    double actions[DEMOS][ROOMS], rewards[DEMOS];
    fewshot_prompt_demo demos[DEMOS];
    json_t *jdemos = json_array();
    for (int d = 0; d < DEMOS; d++) {
        ctx[d] = context(&rng);
        next[d] = context(&rng);
        json_t *a = json_array();
        for (int i = 0; i < ROOMS; i++) {
            actions[d][i] = 2 * fewshot_rng_uniform(&rng) - 1;
            json_array_append_new(a, json_real(actions[d][i]));
        }
        rewards[d] = -3 * fewshot_rng_uniform(&rng);
        demos[d] = (fewshot_prompt_demo){d % 3, ctx[d], actions[d], rewards[d], next[d], NULL,
                                         0, (uint64_t)d + 1};
        json_array_append_new(jdemos, json_pack("{s:O, s:o, s:f, s:O}", "context", ctx[d],
                                                "action", a, "reward", rewards[d], "next",
                                                next[d]));
    }
    ctx[DEMOS] = context(&rng);
    const char *reply = "Room 3 is far below the target, so its valve opens more.\n"
                        "Actions: [45, 60, 100, 20, 35, 50, 45, 60, 100, 20, 35, 50, 45, 60, 100, "
                        "20, 35, 50]\nThis should raise every room.";
    fewshot_prompt_input in = FEWSHOT_PROMPT_INPUT_INIT;
    in.context = ctx[DEMOS];
    in.demos = demos;
    in.n_demos = DEMOS;
    fewshot_prompt_output out = FEWSHOT_PROMPT_OUTPUT_INIT;
    double action[ROOMS];
    fewshot_parse_result res;
    /* keyed (the agent's case) first, then the same demonstrations without keys */
    for (int keyed = 1; keyed >= 0; keyed--) {
        for (int d = 0; d < DEMOS; d++)
            demos[d].key = keyed ? (uint64_t)d + 1 : 0;
        fewshot_prompt_reset(p);
        int n = 0;
        double t0 = now(), t;
        do {
            for (int k = 0; k < 200; k++) {
                if (fewshot_prompt_build(p, &in, &out) ||
                    fewshot_parser_parse(parser, reply, (size_t)-1, action, &res)) {
                    fprintf(stderr, "%s\n", fewshot_error_last()->message);
                    return 1;
                }
                n++;
            }
            t = now() - t0;
        } while (t < 1.0);
        printf("%s%.3f", keyed ? "" : " ", t / n * 1e6);
    }
    printf("\n");
    json_t *shown = json_array();
    for (int i = 0; i < ROOMS; i++)
        json_array_append_new(shown, json_real(action[i]));
    json_t *dump = json_pack("{s:o, s:O, s:s, s:s, s:o}", "demos", jdemos,
                             "current", ctx[DEMOS], "reply", reply, "prompt", out.text, "action",
                             shown);
    json_dump_file(dump, argv[1], JSON_REAL_PRECISION(17));
    json_decref(dump);
    fewshot_prompt_output_clear(&out);
    for (int d = 0; d <= DEMOS; d++)
        json_decref(ctx[d]);
    for (int d = 0; d < DEMOS; d++)
        json_decref(next[d]);
    fewshot_parser_free(parser);
    fewshot_prompt_free(p);
    return 0;
}
