/*
 * The translator (numbers), the prompt generator (the paper's prompt for the room test plugin,
 * compared with golden files in tests/data/, and each ablation: drop, reorder, re-word,
 * numbers, chat) and its errors. FEWSHOT_REGEN_GOLDEN=1 rewrites the golden files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot.h>

#include "xorshift.h"

static int failures, checks;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        checks++;                                                                            \
        if (!(cond)) {                                                                       \
            failures++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                             \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
        }                                                                                    \
    } while (0)

static char srcdir[4096];

static void test_numbers(void)
{
    /* half away from zero, unlike Python's round(): 0.5 1.5 2.5 -2.5 -> 1 2 3 -3 */
    CHECK(fewshot_text_round(0.5) == 1 && fewshot_text_round(1.5) == 2 &&
          fewshot_text_round(2.5) == 3 && fewshot_text_round(-2.5) == -3, "round half away");
    CHECK(signbit(fewshot_text_round(-0.4)) == 0, "-0 becomes 0");
    char b[64];
    fewshot_text_fixed(b, sizeof b, -0.001, 2);
    CHECK(strcmp(b, "0.00") == 0, "fixed -0.00: %s", b);
    fewshot_text_fixed(b, sizeof b, 23.456, 1);
    CHECK(strcmp(b, "23.5") == 0, "fixed 23.5: %s", b);
    fewshot_text_shortest(b, sizeof b, 0.1);
    CHECK(strcmp(b, "0.1") == 0, "shortest 0.1: %s", b);
    fewshot_text_shortest(b, sizeof b, 1.0 / 3);
    CHECK(strtod(b, NULL) == 1.0 / 3, "shortest round-trips: %s", b);
    fewshot_text_shortest(b, sizeof b, 100);
    CHECK(strcmp(b, "100") == 0, "shortest 100: %s", b);
    fewshot_text_number(b, sizeof b, NAN, NULL);
    CHECK(strcmp(b, "nan") == 0, "nan: %s", b);

    json_t *ctx = json_pack("{s:f, s:i, s:s, s:b, s:[{s:f}]}", "t", 23.5, "n", 7, "s", "x",
                            "b", 1, "rooms", "temperature", -2.5), *out;
    fewshot_text_options o = FEWSHOT_TEXT_OPTIONS_INIT;
    CHECK(fewshot_text_translate(&out, ctx, &o) == 0, "translate");
    char *s = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(strcmp(s, "{\"b\":true,\"n\":7,\"rooms\":[{\"temperature\":-3}],\"s\":\"x\",\"t\":24}") == 0,
          "translate integers: %s", s);
    free(s);
    json_decref(out);
    o.numbers = FEWSHOT_NUMBERS_DECIMALS;
    o.decimals = 2;
    CHECK(fewshot_text_translate(&out, ctx, &o) == 0, "translate");
    s = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(strcmp(s, "{\"b\":true,\"n\":7,\"rooms\":[{\"temperature\":\"-2.50\"}],\"s\":\"x\","
                    "\"t\":\"23.50\"}") == 0, "translate decimals: %s", s);
    free(s);
    json_decref(out);
    json_decref(ctx);

    double a[3] = {0.456, -1, 0.005};
    json_t *list;
    char *text;
    o = (fewshot_text_options)FEWSHOT_TEXT_OPTIONS_INIT;
    o.action_scale = 100;
    CHECK(fewshot_text_actions(&list, &text, a, 3, &o) == 0, "actions");
    CHECK(strcmp(text, "[46, -100, 1]") == 0, "actions text: %s", text);
    CHECK(json_integer_value(json_array_get(list, 1)) == -100, "actions list");
    free(text);
    json_decref(list);

    /* rewards keep three significant digits under integer numbers */
    static const struct { double x; const char *want; } sig[] = {
        {1.8734, "1.87"}, {0.012345, "0.0123"}, {12345.6, "12346"}, {-96.24, "-96.2"},
        {1.5, "1.5"}, {2.0, "2"}, {-0.0004, "-0.0004"}, {0, "0"}, {999.6, "1000"},
        {-0.00049999, "-0.0005"}};
    o = (fewshot_text_options)FEWSHOT_TEXT_OPTIONS_INIT;
    for (size_t i = 0; i < sizeof sig / sizeof sig[0]; i++) {
        fewshot_text_reward(b, sizeof b, sig[i].x, &o);
        CHECK(strcmp(b, sig[i].want) == 0, "reward %g: %s, expected %s", sig[i].x, b,
              sig[i].want);
    }
    o.reward_digits = 0;    /* the paper's integers */
    fewshot_text_reward(b, sizeof b, 1.8734, &o);
    CHECK(strcmp(b, "2") == 0, "reward rounded: %s", b);
    o.numbers = FEWSHOT_NUMBERS_DECIMALS;
    o.decimals = 1;
    o.reward_digits = 3;
    fewshot_text_reward(b, sizeof b, 1.8734, &o);
    CHECK(strcmp(b, "1.9") == 0, "reward with decimals follows them: %s", b);
    /* the estimate: blanks before digits count, punctuation takes its newline */
    CHECK(fewshot_prompt_tokens("Room 18: 21 degrees Celsius\n", 28) == 9, "room line: %zu",
          fewshot_prompt_tokens("Room 18: 21 degrees Celsius\n", 28));
    CHECK(fewshot_prompt_tokens("Reward: 1.29\n", 13) == 7, "reward line: %zu",
          fewshot_prompt_tokens("Reward: 1.29\n", 13));        /* o200k: 7 */
    CHECK(fewshot_prompt_tokens("Ground: -5 degrees Celsius.\n", 28) == 7, "ground line: %zu",
          fewshot_prompt_tokens("Ground: -5 degrees Celsius.\n", 28));  /* o200k: 7 */
}

/* ---- the room plugin, three demonstrations and the current state ---- */

typedef struct fixture {
    fewshot_env *env;
    json_t *ctx[4], *next[3];
    double action[3];
    double reward[3];
    fewshot_prompt_demo demos[3];
    json_t *meta;
} fixture;

static void setup(fixture *f)
{
    memset(f, 0, sizeof *f);
    const char *plugins = getenv("FEWSHOT_TEST_PLUGINS");
    if (plugins)
        fewshot_env_path_add(plugins);
    int rc = fewshot_env_new(&f->env, "room", NULL);
    if (rc) {
        fprintf(stderr, "room plugin: %s\n", fewshot_error_last()->message);
        exit(1);
    }
    /* three transitions from different starts, with the thermostat */
    static const int sources[3] = {FEWSHOT_DEMO_EXPERT, FEWSHOT_DEMO_REPRESENTATIVE,
                                   FEWSHOT_DEMO_HISTORICAL};
    static const double starts[3] = {14.2, 25.6, 19.5};
    for (int i = 0; i < 3; i++) {
        json_t *opt = json_pack("{s:f}", "initial", starts[i]);
        double obs[2], next[2];
        fewshot_env_reset(f->env, 0, opt, obs);
        json_decref(opt);
        fewshot_env_context(f->env, obs, &f->ctx[i]);
        fewshot_env_policy(f->env, "expert", obs, &f->action[i]);
        fewshot_step st = {.obs = next};
        fewshot_env_step(f->env, &f->action[i], &st);
        json_decref(st.terms);
        f->reward[i] = st.reward;
        fewshot_env_context(f->env, next, &f->next[i]);
        /* the booleans the comments template branches on */
        json_t *room = json_array_get(json_object_get(f->next[i], "rooms"), 0);
        json_object_set_new(room, "colder", json_boolean(next[0] < 21.5));
        json_object_set_new(room, "warmer", json_boolean(next[0] > 22.5));
        f->demos[i] = (fewshot_prompt_demo){sources[i], f->ctx[i], &f->action[i], f->reward[i],
                                            f->next[i], NULL, 0, 0};
    }
    json_t *opt = json_pack("{s:f}", "initial", 17.3);
    double obs[2];
    fewshot_env_reset(f->env, 0, opt, obs);
    json_decref(opt);
    fewshot_env_context(f->env, obs, &f->ctx[3]);
    json_object_set_new(f->ctx[3], "heating", json_true());
    f->meta = json_pack("{s:s, s:s, s:s}", "building", "OfficeMedium", "city", "Buffalo",
                        "climate", "Cool and Humid");
}

static void teardown(fixture *f)
{
    for (int i = 0; i < 4; i++)
        json_decref(f->ctx[i]);
    for (int i = 0; i < 3; i++)
        json_decref(f->next[i]);
    json_decref(f->meta);
    fewshot_env_free(f->env);
}

static json_t *paper_spec(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/data/prompt-paper.json", srcdir);
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e);
    if (!doc) {
        fprintf(stderr, "%s:%d: %s\n", path, e.line, e.text);
        exit(1);
    }
    json_t *spec = json_incref(json_object_get(doc, "prompt"));
    json_decref(doc);
    return spec;
}

/* Build one prompt over the paper's spec with arm merged in, for context ctx; returns 0 or
 * the error code. */
static int build_at(fixture *f, const json_t *arm, const json_t *ctx,
                    const fewshot_prompt_demo *demos, size_t n, fewshot_prompt_output *out)
{
    json_t *base = paper_spec(), *spec;
    fewshot_prompt_spec_merge(&spec, base, arm);
    json_decref(base);
    fewshot_prompt_options o = FEWSHOT_PROMPT_OPTIONS_INIT;
    o.spec = spec;
    o.file = "config.json";
    o.path = "$.prompt";
    o.action_scale = 100;   /* as the HVAC plugin declares: actions shown x100 */
    fewshot_prompt *p;
    int rc = fewshot_prompt_new(&p, f->env, &o);
    json_decref(spec);
    if (rc)
        return rc;
    fewshot_prompt_input in = FEWSHOT_PROMPT_INPUT_INIT;
    in.context = ctx;
    in.demos = demos;
    in.n_demos = n;
    in.extra = f->meta;
    rc = fewshot_prompt_build(p, &in, out);
    fewshot_prompt_free(p);
    return rc;
}

/* The fixture's current state with its first ndemos demonstrations. */
static int build(fixture *f, const json_t *arm, fewshot_prompt_output *out, size_t ndemos)
{
    return build_at(f, arm, f->ctx[3], f->demos, ndemos, out);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fewshot_text_buf b = FEWSHOT_TEXT_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        fewshot_text_buf_append(&b, chunk, n);
    fclose(fp);
    return fewshot_text_buf_detach(&b);
}

static void golden(const char *name, const char *got)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/data/%s", srcdir, name);
    if (getenv("FEWSHOT_REGEN_GOLDEN")) {
        FILE *fp = fopen(path, "wb");
        fputs(got, fp);
        fclose(fp);
    }
    char *want = slurp(path);
    CHECK(want && strcmp(want, got) == 0, "%s differs; got:\n%s", name, got);
    free(want);
}

static const char *component(const fewshot_prompt_output *o, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(o->components, i, c)
        if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
            return json_string_value(json_object_get(c, "text"));
    return NULL;
}

static void test_paper_prompt(fixture *f)
{
    fewshot_prompt_output out = FEWSHOT_PROMPT_OUTPUT_INIT;
    /* the paper's layout: the history as demonstrations (the default shows it as turns,
     * test_history_turns) */
    json_t *layout = json_pack("{s:s}", "history_layout", "demonstrations");
    CHECK(build(f, layout, &out, 3) == 0, "build: %s", fewshot_error_last()->message);
    if (!out.text)
        return;
    golden("prompt-paper.golden", out.text);
    /* the structure of PAPER.md, in order */
    static const char *const parts[] = {
        "You control the heating of one room. Keep it close to 22 degrees.\n\n",
        "You are now heating the building. Actions are a list of integers from 0 to 100",
        /* the default (cache) order's header counts the dataset's demonstrations; the paper's
         * "3 demonstrations are provided below." is demo_order "paper" */
        "\n\nFor your reference, 2 demonstrations are provided below, followed by steps taken "
        "earlier in this episode. The greater the reward a "
        "demonstration achieves, the more effective it is.\nDemonstration 1:\nDescription: The "
        "following is the state of a building of type OfficeMedium located in Buffalo, where the "
        "climate is Cool and Humid. Room 1: ",
        "\nReward: ", "\nActions: [", "]\nComments: After the action, ",
        /* each comment on its own line, not glued to the last room */
        ".\nThe action for Room 1 shall be ", "\nDemonstration 2:\n", "\nDemonstration 3:\n",
        "\n\nPlease decide opening of the valve in each room based on the following "
        "description:\nDescription: The following is the state",
        "Room 1: 17 degrees Celsius\nOutside Temperature: 5 degrees Celsius.\nActions:"};
    const char *at = out.text;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *hit = strstr(at, parts[i]);
        CHECK(hit != NULL, "part %zu missing after offset %td: %s", i, at - out.text, parts[i]);
        if (hit)
            at = hit + strlen(parts[i]);
    }
    CHECK(strcmp(out.text + strlen(out.text) - 8, "Actions:") == 0, "ends with Actions:");
    CHECK(strstr(out.text, "shall be increased as its temperature is lower") != NULL, "comments");
    CHECK(out.messages == NULL && out.style == FEWSHOT_PROMPT_COMPLETION, "completion");
    CHECK(json_array_size(out.components) == 5, "5 blocks");
    /* tokens: per component, the total about the text's length / 4 */
    size_t sum = 0, i;
    json_t *c;
    json_array_foreach(out.components, i, c) {
        size_t t = (size_t)json_integer_value(json_object_get(c, "tokens"));
        CHECK(t > 0, "tokens of %s", json_string_value(json_object_get(c, "name")));
        sum += t;
    }
    CHECK(out.tokens >= sum && out.tokens < sum + 10, "total tokens %zu vs %zu", out.tokens, sum);
    size_t len = strlen(out.text);
    CHECK(out.tokens > len / 8 && out.tokens < len / 2, "tokens %zu for %zu chars", out.tokens,
          len);
    json_t *src = json_object_get(json_array_get(out.components, 2), "sources");
    char *s = json_dumps(src, JSON_COMPACT);
    /* the cache order: representatives (the same all episode) first, history last */
    CHECK(strcmp(s, "[\"representative\",\"expert\",\"historical\"]") == 0, "sources %s", s);
    free(s);
    fewshot_prompt_output_clear(&out);
    json_t *paper = json_pack("{s:s, s:s}", "demo_order", "paper", "history_layout",
                              "demonstrations");
    CHECK(build(f, paper, &out, 3) == 0, "paper order");
    json_decref(paper);
    s = json_dumps(json_object_get(json_array_get(out.components, 2), "sources"), JSON_COMPACT);
    CHECK(strcmp(s, "[\"expert\",\"representative\",\"historical\"]") == 0,
          "paper order: as selected, %s", s);
    free(s);
    fewshot_prompt_output_clear(&out);

    /* chat: the objective and the instruction (the same all episode) are the system
     * message, the rest the user's */
    json_t *arm = json_pack("{s:s, s:s}", "style", "chat", "history_layout", "demonstrations");
    CHECK(build(f, arm, &out, 3) == 0, "chat");
    json_decref(arm);
    json_decref(layout);
    s = json_dumps(out.messages, JSON_INDENT(1));
    golden("prompt-paper-chat.golden.json", s);
    free(s);
    CHECK(json_array_size(out.messages) == 2 &&
              strcmp(json_string_value(json_object_get(json_array_get(out.messages, 0), "role")),
                     "system") == 0, "chat roles");
    CHECK(strncmp(json_string_value(json_object_get(json_array_get(out.messages, 1), "content")),
                  "For your reference", 18) == 0, "user starts with the demonstrations");
    fewshot_prompt_output_clear(&out);
}

static const char *content(const json_t *messages, size_t i)
{
    return json_string_value(json_object_get(json_array_get(messages, i), "content"));
}

static const char *role(const json_t *messages, size_t i)
{
    return json_string_value(json_object_get(json_array_get(messages, i), "role"));
}

/* The default history layout: earlier steps as the conversation so far. Two consecutive
 * steps of a history window: the second prompt continues the first (its text starts with
 * the first's, its messages start with the first's), which the paper's layout does not. */
static void test_history_turns(fixture *f)
{
    /* step A: one earlier step (ctx[0] -> next[0]), now in next[0]; step B: that step and
     * one more (next[0] -> ctx[3]), now in ctx[3]; all heating, so the instruction stays */
    json_t *mid = json_deep_copy(f->next[0]);
    json_object_set_new(mid, "heating", json_true());   /* as the fixture's current state */
    fewshot_prompt_demo a[3] = {f->demos[0], f->demos[1], f->demos[2]}, b[4];
    a[2] = (fewshot_prompt_demo){FEWSHOT_DEMO_HISTORICAL, f->ctx[0], &f->action[0],
                                 f->reward[0], f->next[0], NULL, 0, 1};
    memcpy(b, a, sizeof a);
    b[3] = (fewshot_prompt_demo){FEWSHOT_DEMO_HISTORICAL, mid, &f->action[1],
                                 f->reward[1], f->ctx[3], NULL, 0, 2};
    static const char *const styles[] = {"completion", "chat"};
    for (int k = 0; k < 2; k++) {
        json_t *arm = json_pack("{s:s}", "style", styles[k]);
        fewshot_prompt_output oa = FEWSHOT_PROMPT_OUTPUT_INIT, ob = FEWSHOT_PROMPT_OUTPUT_INIT;
        CHECK(build_at(f, arm, mid, a, 3, &oa) == 0 &&
                  build_at(f, arm, f->ctx[3], b, 4, &ob) == 0,
              "turns %s: %s", styles[k], fewshot_error_last()->message);
        json_decref(arm);
        if (!oa.text || !ob.text)
            { json_decref(mid); return; }
        size_t la = strlen(oa.text);
        CHECK(strncmp(ob.text, oa.text, la) == 0 && strncmp(ob.text + la, " [", 2) == 0,
              "%s: the next prompt continues this one with its answer:\n%s\n----\n%s",
              styles[k], oa.text, ob.text);
        /* the header counts the dataset's demonstrations; the turns follow them */
        CHECK(strstr(oa.text, "2 demonstrations are provided below. The greater") != NULL,
              "%s: header", styles[k]);
        CHECK(strstr(ob.text, "Demonstration 3") == NULL, "%s: history is no demonstration",
              styles[k]);
        const char *turn = strstr(ob.text, "\n\nPlease decide");
        CHECK(turn && strstr(turn, "Room 1: 14 degrees Celsius\nOutside Temperature: 5 degrees "
                                   "Celsius.\nActions: [") != NULL,
              "%s: the earlier step's question, as asked, then its actions", styles[k]);
        CHECK(strstr(ob.text, "]\nReward: ") != NULL, "%s: its outcome", styles[k]);
        size_t sum = 0, i, turns = 0;
        json_t *c;
        json_array_foreach(ob.components, i, c) {
            sum += (size_t)json_integer_value(json_object_get(c, "tokens"));
            turns += strcmp(json_string_value(json_object_get(c, "name")), "history") == 0;
        }
        CHECK(turns == 2, "%s: two history components, %zu", styles[k], turns);
        size_t framing = FEWSHOT_PROMPT_MESSAGE_TOKENS * json_array_size(ob.messages);
        CHECK(ob.tokens >= sum + framing && ob.tokens < sum + framing + 10,
              "%s: tokens %zu of parts %zu", styles[k], ob.tokens, sum);
        if (k == 1) {
            size_t na = json_array_size(oa.messages), nb = json_array_size(ob.messages);
            CHECK(na == 4 && nb == 6, "chat: %zu and %zu messages", na, nb);
            static const char *const roles[] = {"system", "user", "assistant", "user",
                                                "assistant", "user"};
            for (size_t m = 0; m < nb && m < 6; m++)
                CHECK(strcmp(role(ob.messages, m), roles[m]) == 0, "chat role %zu", m);
            for (size_t m = 0; m < na && m < nb; m++)
                CHECK(strcmp(content(oa.messages, m), content(ob.messages, m)) == 0,
                      "chat: message %zu the same in the next prompt", m);
            CHECK(nb > 4 && content(ob.messages, 4)[0] == '[', "chat: the answer");
            char *s = json_dumps(ob.messages, JSON_INDENT(1));
            golden("prompt-turns-chat.golden.json", s);
            free(s);
        }
        fewshot_prompt_output_clear(&oa);
        fewshot_prompt_output_clear(&ob);
    }
    /* without the outcome template the next question follows the answer */
    json_t *no_outcome = json_pack("{s:s, s:[s]}", "style", "completion", "drop", "outcome");
    fewshot_prompt_output oc = FEWSHOT_PROMPT_OUTPUT_INIT;
    CHECK(build_at(f, no_outcome, f->ctx[3], b, 4, &oc) == 0, "turns without outcome");
    json_decref(no_outcome);
    CHECK(oc.text && strstr(oc.text, "Actions: [") && !strstr(oc.text, "]\nReward: ") &&
              strstr(oc.text, "]\n\nPlease decide"), "turns without outcome: %s",
          oc.text ? oc.text : "");
    fewshot_prompt_output_clear(&oc);
    /* the paper's layout re-renders the history each step: no such continuation */
    json_t *arm = json_pack("{s:s}", "history_layout", "demonstrations");
    fewshot_prompt_output oa = FEWSHOT_PROMPT_OUTPUT_INIT, ob = FEWSHOT_PROMPT_OUTPUT_INIT;
    CHECK(build_at(f, arm, mid, a, 3, &oa) == 0 &&
              build_at(f, arm, f->ctx[3], b, 4, &ob) == 0, "demonstrations layout");
    json_decref(arm);
    CHECK(oa.text && ob.text && strncmp(ob.text, oa.text, strlen(oa.text)) != 0,
          "the paper's layout does not continue");
    fewshot_prompt_output_clear(&oa);
    fewshot_prompt_output_clear(&ob);
    json_decref(mid);
}

/* Keyed demonstrations are rendered once and relabelled when they move: the text is the
 * same as rendering everything anew. */
static void test_demo_cache(fixture *f)
{
    json_t *spec = paper_spec();
    fewshot_prompt_options o = FEWSHOT_PROMPT_OPTIONS_INIT;
    o.spec = spec;
    o.action_scale = 100;
    fewshot_prompt *cached, *fresh;
    CHECK(fewshot_prompt_new(&cached, f->env, &o) == 0, "prompt");
    CHECK(fewshot_prompt_new(&fresh, f->env, &o) == 0, "prompt");
    json_decref(spec);
    fewshot_prompt_demo keyed[3], plain[3];
    for (int i = 0; i < 3; i++) {
        keyed[i] = plain[i] = f->demos[i];
        keyed[i].key = (uint64_t)i + 1;
    }
    /* all three, then the first and the last (the last moves up), then all three again */
    static const int picks[3][3] = {{0, 1, 2}, {0, 2, -1}, {0, 1, 2}};
    for (int round = 0; round < 3; round++) {
        fewshot_prompt_demo kd[3], pd[3];
        size_t n = 0;
        for (int k = 0; k < 3 && picks[round][k] >= 0; k++, n++) {
            kd[n] = keyed[picks[round][k]];
            pd[n] = plain[picks[round][k]];
        }
        fewshot_prompt_input in = FEWSHOT_PROMPT_INPUT_INIT;
        in.context = f->ctx[3];
        in.demos = kd;
        in.n_demos = n;
        fewshot_prompt_output a = FEWSHOT_PROMPT_OUTPUT_INIT, b = FEWSHOT_PROMPT_OUTPUT_INIT;
        CHECK(fewshot_prompt_build(cached, &in, &a) == 0, "cached build %d", round);
        in.demos = pd;
        CHECK(fewshot_prompt_build(fresh, &in, &b) == 0, "fresh build %d", round);
        CHECK(a.text && b.text && strcmp(a.text, b.text) == 0, "round %d: cached text differs",
              round);
        CHECK(a.tokens == b.tokens, "round %d: tokens", round);
        fewshot_prompt_output_clear(&a);
        fewshot_prompt_output_clear(&b);
    }
    fewshot_prompt_reset(cached);
    fewshot_prompt_free(cached);
    fewshot_prompt_free(fresh);
}

/* Each block's token count is kept with its text and the next text, sharing a prefix of any
 * length with it, is counted from where they differ: the counts are fewshot_prompt_tokens()
 * of each component's text, build after build, on random texts of every token class. */
static uint64_t token_rng = 0x2545f4914f6cdd1dULL;
static size_t pick(size_t n)
{
    uint64_t r = xorshift64(&token_rng);
    return n ? (size_t)(r % n) : 0;
}

static void test_token_memo(fixture *f)
{
    json_t *spec = json_pack("{s:{s:s, s:s}}", "templates", "objective", "{{{x}}}",
                             "instruction", "Fixed instruction.\n{{{x}}}");
    fewshot_prompt_options o = FEWSHOT_PROMPT_OPTIONS_INIT;
    o.spec = spec;
    fewshot_prompt *p;
    CHECK(fewshot_prompt_new(&p, f->env, &o) == 0, "prompt");
    json_decref(spec);
    static const char *const pieces[] = {"Room ", "12", "3456", " ", "  ", "\n", "\n\n", "\r\n",
                                         ".", ".\n", ", ", "-", "\t", "\xc3\xa9",
                                         "\xf0\x9f\x98\x80", "abcdefghijklmnopqrstu", "A", "ok"};
    enum { CAP = 6000 };
    char *text = calloc(1, CAP + 64);
    size_t len = 0;
    for (int round = 0; round < 400; round++) {
        /* keep a prefix (often all, or near a 256-byte mark), then add pieces */
        size_t r = pick(4);
        len = r == 0 ? len : r == 1 ? pick(len + 1)
                    : len > 256 ? (pick(len / 256) * 256 + pick(3) + 255) % (len + 1) : len;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;  /* not inside a character */
        size_t add = pick(5) == 0 ? 0 : pick(300);
        for (size_t i = 0; i < add && len < CAP; i++) {
            const char *piece = pieces[pick(sizeof pieces / sizeof pieces[0])];
            size_t n = strlen(piece);
            if (len + n > CAP)
                break;
            memcpy(text + len, piece, n);
            len += n;
        }
        text[len] = '\0';
        json_t *extra = json_pack("{s:s}", "x", text);
        fewshot_prompt_input in = FEWSHOT_PROMPT_INPUT_INIT;
        in.context = f->ctx[pick(4)];
        in.demos = f->demos;
        in.n_demos = pick(4);
        in.extra = extra;
        fewshot_prompt_output out = FEWSHOT_PROMPT_OUTPUT_INIT;
        CHECK(extra && fewshot_prompt_build(p, &in, &out) == 0, "round %d: build", round);
        size_t i;
        json_t *c;
        json_array_foreach(out.components, i, c) {
            const char *t = json_string_value(json_object_get(c, "text"));
            if (!t)
                continue;   /* history as turns: counted piece by piece */
            size_t want = fewshot_prompt_tokens(t, strlen(t));
            size_t got = (size_t)json_integer_value(json_object_get(c, "tokens"));
            CHECK(got == want, "round %d, %s: %zu tokens, counted alone %zu", round,
                  json_string_value(json_object_get(c, "name")), got, want);
        }
        fewshot_prompt_output_clear(&out);
        json_decref(extra);
    }
    free(text);
    fewshot_prompt_free(p);
}

static void test_ablations(fixture *f)
{
    fewshot_prompt_output out = FEWSHOT_PROMPT_OUTPUT_INIT;
    json_t *arm = json_pack("{s:[s]}", "drop", "instruction");
    CHECK(build(f, arm, &out, 3) == 0, "drop instruction");
    CHECK(out.text && !strstr(out.text, "You are now heating") && !component(&out, "instruction"),
          "instruction dropped");
    CHECK(out.text && strstr(out.text, "\n\nFor your reference") , "rest kept");
    json_decref(arm);
    fewshot_prompt_output_clear(&out);

    arm = json_pack("{s:[s]}", "drop", "comments");
    CHECK(build(f, arm, &out, 3) == 0, "drop comments");
    CHECK(out.text && !strstr(out.text, "shall be") && strstr(out.text, "Comments: After the"),
          "comments dropped, feedback kept");
    json_decref(arm);
    fewshot_prompt_output_clear(&out);

    arm = json_pack("{s:[s, s]}", "drop", "objective", "meta");
    CHECK(build(f, arm, &out, 3) == 0, "drop objective, meta");
    CHECK(out.text && strncmp(out.text, "You are now heating", 19) == 0 &&
          !strstr(out.text, "OfficeMedium") && strstr(out.text, "Description: Room 1: "),
          "objective and meta dropped");
    json_decref(arm);
    fewshot_prompt_output_clear(&out);

    arm = json_pack("{s:{s:i}}", "numbers", "decimals", 2);
    CHECK(build(f, arm, &out, 3) == 0, "decimals");
    CHECK(out.text && strstr(out.text, "Room 1: 17.30 degrees Celsius") &&
          strstr(out.text, "Outside Temperature: 5.00 degrees"), "floats instead of integers");
    json_decref(arm);
    fewshot_prompt_output_clear(&out);

    arm = json_pack("{s:[s, s, s, s]}", "order", "objective", "current", "output",
                    "demonstrations");
    CHECK(build(f, arm, &out, 3) == 0, "reorder");
    const char *cur = out.text ? strstr(out.text, "Please decide") : NULL;
    const char *demo = out.text ? strstr(out.text, "For your reference") : NULL;
    CHECK(cur && demo && cur < demo && !strstr(out.text, "You are now heating"),
          "reordered and instruction left out");
    json_decref(arm);
    fewshot_prompt_output_clear(&out);

    arm = json_pack("{s:{s:s, s:s}}", "templates", "objective", "Be frugal, {{city}}.", "output",
                    "Reply as Actions: [{{n_actions}} integers from {{action_low}} to "
                    "{{action_high}}]");
    CHECK(build(f, arm, &out, 0) == 0, "re-word");
    CHECK(out.text && strncmp(out.text, "Be frugal, Buffalo.\n\n", 21) == 0 &&
          strstr(out.text, "Actions: [1 integers from -100 to 100]") &&
          !strstr(out.text, "For your reference"), "re-worded, no demonstrations block");
    CHECK(strstr(out.text, "Keep the") == NULL && strstr(out.text, "\nDescription: ") != NULL,
          "instruction and current kept: %s", out.text);
    json_decref(arm);
    fewshot_prompt_output_clear(&out);

    /* one demonstration: singular wording */
    CHECK(build(f, NULL, &out, 1) == 0 &&
          strstr(out.text, "For your reference, 1 demonstration is provided below."), "singular");
    fewshot_prompt_output_clear(&out);
}

/* A demonstration from a scenario with another action count (a building with more zones)
 * shows its own actions, not the controlled environment's count. */
static void test_demo_action_dim(fixture *f)
{
    static const double three[3] = {0.25, -0.5, 0.125};
    fewshot_prompt_demo saved = f->demos[0];
    f->demos[0].action = three;
    f->demos[0].action_dim = 3;
    fewshot_prompt_output out = FEWSHOT_PROMPT_OUTPUT_INIT;
    CHECK(build(f, NULL, &out, 1) == 0, "build with a 3-action demonstration");
    CHECK(out.text && strstr(out.text, "[25, -50, 13]"), "its three actions are shown x100");
    fewshot_prompt_output_clear(&out);
    f->demos[0] = saved;
    CHECK(build(f, NULL, &out, 1) == 0, "build with the env's own action count");
    CHECK(out.text && !strstr(out.text, "[25, -50, 13]") && strstr(out.text, "Actions: ["),
          "action_dim 0 means the action space's dim");
    fewshot_prompt_output_clear(&out);
}

static void test_errors(fixture *f)
{
    fewshot_prompt_output out = FEWSHOT_PROMPT_OUTPUT_INIT;
    json_t *arm = json_pack("{s:[s, s]}", "order", "objective", "epilogue");
    CHECK(build(f, arm, &out, 3) == FEWSHOT_EINVAL &&
          strcmp(fewshot_error_last()->path, "$.prompt.order[1]") == 0 &&
          strcmp(fewshot_error_last()->file, "config.json") == 0, "bad order: %s",
          fewshot_error_last()->path);
    json_decref(arm);
    arm = json_pack("{s:{s:s}}", "templates", "state", "Rooms:\n{{#rooms}}{{name}}");
    CHECK(build(f, arm, &out, 3) == FEWSHOT_EPARSE &&
          strcmp(fewshot_error_last()->file, "$.prompt.templates.state") == 0 &&
          fewshot_error_last()->line == 2 && fewshot_error_last()->column == 1,
          "template error at line 2 column 1: %s:%d:%d", fewshot_error_last()->file,
          fewshot_error_last()->line, fewshot_error_last()->column);
    json_decref(arm);
    arm = json_pack("{s:s}", "numbers", "roman");
    CHECK(build(f, arm, &out, 3) == FEWSHOT_EINVAL &&
          strcmp(fewshot_error_last()->path, "$.prompt.numbers") == 0, "bad numbers");
    json_decref(arm);
    arm = json_pack("{s:i}", "colour", 3);
    CHECK(build(f, arm, &out, 3) == FEWSHOT_EINVAL &&
          strstr(fewshot_error_last()->message, "unknown key"), "unknown key");
    json_decref(arm);
    /* merge: templates merge per component */
    json_t *base = json_pack("{s:{s:s, s:s}, s:s}", "templates", "a", "1", "b", "2", "style",
                             "chat");
    json_t *over = json_pack("{s:{s:s}, s:s}", "templates", "b", "3", "style", "completion"), *m;
    CHECK(fewshot_prompt_spec_merge(&m, base, over) == 0, "merge");
    char *s = json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(strcmp(s, "{\"style\":\"completion\",\"templates\":{\"a\":\"1\",\"b\":\"3\"}}") == 0,
          "merge: %s", s);
    free(s);
    json_decref(base);
    json_decref(over);
    json_decref(m);
}

int main(void)
{
    const char *top = getenv("top_srcdir");
    snprintf(srcdir, sizeof srcdir, "%s", top ? top : "..");
    test_numbers();
    fixture f;
    setup(&f);
    test_paper_prompt(&f);
    test_history_turns(&f);
    test_demo_cache(&f);
    test_token_memo(&f);
    test_ablations(&f);
    test_demo_action_dim(&f);
    test_errors(&f);
    teardown(&f);
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
