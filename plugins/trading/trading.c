/*
 * trading: the environment plugin: a portfolio of D assets with transaction costs in the
 * style of FinRL's StockTradingEnv, on prices from a CSV file or a seeded generator.
 *
 * Observation: cash, the D closing prices, the D share holdings, and with indicators=true
 * the D short and D long moving averages of the close. Action: D values in [-1, 1], times
 * hmax whole shares (truncated toward zero); sells first, then buys limited by cash.
 * Reward: the change of total assets (cash + shares at the close) times reward_scaling.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/plugin.h>

#include "market.h"
#include "portfolio.h"

typedef struct trading {
    market mk;
    int generated;          /* prices from the generator (regenerated at every reset) */
    gbm_options gbm;
    size_t assets, steps, start, t;
    double hmax, initial_cash, cost, scaling;
    int indicators;
    size_t ma_short, ma_long, lookahead;
    portfolio pf;
    size_t obs_dim;
    double *obs_low, *obs_high, *act_low, *act_high, *last_obs, *scratch;
    char **obs_names, **act_names;
    json_t *params;
    int started;
} trading;

static const char *const policies[] = {"lookahead", "macross", "hold", "buyhold", NULL};
/* reward terms, declared once; step() writes their values in this order */
static const char *const term_names[] = {"market", "fees", NULL};

/* ---- parameters ---- */

static int bad(const char *key, const char *what)
{
    return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, key, "trading: parameter '%s' must %s",
                                  key, what);
}

static double num(const json_t *p, const char *key)
{
    return json_number_value(json_object_get(p, key));
}

static int read_params(trading *tr, const json_t *p)
{
    tr->hmax = num(p, "hmax");
    tr->initial_cash = num(p, "initial_cash");
    tr->cost = num(p, "cost");
    tr->scaling = num(p, "reward_scaling");
    tr->indicators = json_is_true(json_object_get(p, "indicators"));
    double ms = num(p, "ma_short"), ml = num(p, "ma_long"), days = num(p, "days");
    double ahead = num(p, "lookahead_days");
    if (!(tr->hmax >= 1 && tr->hmax <= 1e9))
        return bad("hmax", "be in 1..1e9 shares");
    if (!(tr->initial_cash >= 0 && tr->initial_cash <= 1e15))
        return bad("initial_cash", "be in [0, 1e15]");
    if (!(tr->cost >= 0 && tr->cost < 0.5))
        return bad("cost", "be in [0, 0.5) (a fraction of the traded value)");
    if (!isfinite(tr->scaling))
        return bad("reward_scaling", "be finite");
    if (!(ms >= 1 && ms <= 1000))
        return bad("ma_short", "be in 1..1000 days");
    if (!(ml >= ms && ml <= 1000))
        return bad("ma_long", "be in ma_short..1000 days");
    if (!(days >= 0 && days <= 1e6))
        return bad("days", "be in 0..1000000 (0: every date of a price file)");
    if (!(ahead >= 1 && ahead <= 1000))
        return bad("lookahead_days", "be in 1..1000 days");
    tr->lookahead = (size_t)ahead;
    tr->ma_short = (size_t)ms;
    tr->ma_long = (size_t)ml;

    gbm_options *g = &tr->gbm;
    double assets = num(p, "assets");
    if (!(assets >= 1 && assets <= 64))
        return bad("assets", "be in 1..64");
    g->assets = (size_t)assets;
    g->start_price = num(p, "start_price");
    g->volatility = num(p, "volatility");
    g->drift_bull = num(p, "drift_bull");
    g->drift_bear = num(p, "drift_bear");
    g->switch_prob = num(p, "switch_prob");
    g->correlation = num(p, "correlation");
    if (!(g->start_price >= 1 && g->start_price <= 1e6))
        return bad("start_price", "be in 1..1e6");
    if (!(g->volatility >= 0 && g->volatility <= 5))
        return bad("volatility", "be in [0, 5] (annualised)");
    if (!(fabs(g->drift_bull) <= 10 && fabs(g->drift_bear) <= 10))
        return bad(fabs(g->drift_bull) <= 10 ? "drift_bear" : "drift_bull",
                   "be in [-10, 10] (annualised)");
    if (!(g->switch_prob >= 0 && g->switch_prob <= 1))
        return bad("switch_prob", "be a probability in [0, 1]");
    if (!(g->correlation >= 0 && g->correlation <= 1))
        return bad("correlation", "be in [0, 1]");

    const char *prices = json_string_value(json_object_get(p, "prices"));
    if (!prices || !*prices)
        return bad("prices", "be \"gbm\" or the name of a CSV file");
    if (strcmp(prices, "gbm") == 0) {
        tr->generated = 1;
        tr->assets = g->assets;
        tr->steps = days > 0 ? (size_t)days : 250;
        tr->start = tr->ma_long - 1;    /* history before day 0 so averages are full */
        g->days = tr->start + tr->steps + 1;
        return market_generate(&tr->mk, g, 0);     /* names and a series before reset */
    }
    int rc = market_load_csv(&tr->mk, prices);
    if (rc)
        return rc;
    tr->assets = tr->mk.assets;
    if (tr->assets > 64) {
        market_free(&tr->mk);
        return fewshot_error_set(FEWSHOT_EINVAL, "trading: %s has %zu assets; at most 64",
                                 prices, tr->assets);
    }
    tr->start = 0;
    tr->steps = tr->mk.days - 1;
    if (days > 0 && (size_t)days < tr->steps)
        tr->steps = (size_t)days;
    return 0;
}

/* ---- spaces ---- */

static int build_spaces(trading *tr)
{
    size_t D = tr->assets, dim = 1 + 2 * D + (tr->indicators ? 2 * D : 0);
    tr->obs_dim = dim;
    tr->obs_low = calloc(dim, sizeof(double));
    tr->obs_high = calloc(dim, sizeof(double));
    tr->obs_names = calloc(dim, sizeof(char *));
    tr->last_obs = calloc(dim, sizeof(double));
    tr->act_low = calloc(D, sizeof(double));
    tr->act_high = calloc(D, sizeof(double));
    tr->act_names = calloc(D, sizeof(char *));
    tr->scratch = calloc(2 * D, sizeof(double));
    tr->pf.shares = calloc(D, sizeof(double));
    tr->pf.assets = D;
    if (!tr->obs_low || !tr->obs_high || !tr->obs_names || !tr->last_obs || !tr->act_low ||
        !tr->act_high || !tr->act_names || !tr->scratch || !tr->pf.shares)
        return fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
    static const char *const groups[] = {"price", "shares", "ma_short", "ma_long"};
    char buf[64];
    for (size_t i = 0; i < dim; i++) {
        tr->obs_high[i] = HUGE_VAL;
        if (i == 0)
            snprintf(buf, sizeof buf, "cash");
        else
            snprintf(buf, sizeof buf, "%s_%zu", groups[(i - 1) / D], (i - 1) % D);
        if (!(tr->obs_names[i] = strdup(buf)))
            return fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
    }
    for (size_t i = 0; i < D; i++) {
        tr->act_low[i] = -1;
        tr->act_high[i] = 1;
        snprintf(buf, sizeof buf, "trade_%zu", i);
        if (!(tr->act_names[i] = strdup(buf)))
            return fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
    }
    return 0;
}

static void trading_destroy(void *self)
{
    trading *tr = self;
    if (!tr)
        return;
    for (size_t i = 0; tr->obs_names && i < tr->obs_dim; i++)
        free(tr->obs_names[i]);
    for (size_t i = 0; tr->act_names && i < tr->assets; i++)
        free(tr->act_names[i]);
    free(tr->obs_names);
    free(tr->act_names);
    free(tr->obs_low);
    free(tr->obs_high);
    free(tr->act_low);
    free(tr->act_high);
    free(tr->last_obs);
    free(tr->scratch);
    free(tr->pf.shares);
    market_free(&tr->mk);
    json_decref(tr->params);
    free(tr);
}

static int trading_create(void **self, const json_t *params)
{
    trading *tr = calloc(1, sizeof *tr);
    if (!tr)
        return fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
    int rc;
    if ((rc = read_params(tr, params)) || (rc = build_spaces(tr))) {
        trading_destroy(tr);
        return rc;
    }
    tr->params = json_deep_copy(params);
    if (!tr->generated)
        json_object_set_new(tr->params, "assets", json_integer((json_int_t)tr->assets));
    *self = tr;
    return 0;
}

static int trading_spaces(void *self, fewshot_space *obs, fewshot_space *act)
{
    trading *tr = self;
    *obs = (fewshot_space){tr->obs_dim, tr->obs_low, tr->obs_high, 0,
                           (const char *const *)tr->obs_names};
    *act = (fewshot_space){tr->assets, tr->act_low, tr->act_high, 0,
                           (const char *const *)tr->act_names};
    return 0;
}

static int trading_params(void *self, json_t **out)
{
    *out = json_deep_copy(((trading *)self)->params);
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
}

/* ---- episodes ---- */

static size_t today(const trading *tr)
{
    return tr->start + tr->t;
}

static const double *prices_on(const trading *tr, size_t day)
{
    return tr->mk.close + day * tr->assets;
}

static void observe(trading *tr, double *obs)
{
    size_t D = tr->assets, day = today(tr);
    obs[0] = tr->pf.cash;
    for (size_t i = 0; i < D; i++) {
        obs[1 + i] = market_price(&tr->mk, day, i);
        obs[1 + D + i] = tr->pf.shares[i];
        if (tr->indicators) {
            obs[1 + 2 * D + i] = market_mean(&tr->mk, day, i, tr->ma_short);
            obs[1 + 3 * D + i] = market_mean(&tr->mk, day, i, tr->ma_long);
        }
    }
    memcpy(tr->last_obs, obs, tr->obs_dim * sizeof *obs);
}

static int trading_reset(void *self, uint64_t seed, const json_t *options, double *obs)
{
    trading *tr = self;
    if (tr->generated) {
        int rc = market_generate(&tr->mk, &tr->gbm, seed);
        if (rc)
            return rc;
    }
    tr->t = 0;
    tr->pf.cash = tr->initial_cash;
    memset(tr->pf.shares, 0, tr->assets * sizeof *tr->pf.shares);
    tr->started = 1;
    observe(tr, obs);
    return 0;
}

static int trading_step(void *self, const double *action, fewshot_step *out)
{
    trading *tr = self;
    size_t D = tr->assets;
    if (!tr->started || tr->t >= tr->steps)
        return fewshot_error_set(FEWSHOT_EINVAL, "trading: the episode is over (%zu days); "
                                 "reset first", tr->steps);
    double *orders = tr->scratch;
    for (size_t i = 0; i < D; i++)
        orders[i] = trunc(fmax(-1, fmin(1, action[i])) * tr->hmax);   /* whole shares */
    const double *now = prices_on(tr, today(tr));
    double before = portfolio_value(&tr->pf, now);
    trade_report rep;
    portfolio_trade(&tr->pf, now, orders, tr->cost, NULL, &rep);
    tr->t++;
    const double *next = prices_on(tr, today(tr));
    double after = portfolio_value(&tr->pf, next), moved = 0;
    for (size_t i = 0; i < D; i++)
        moved += (next[i] - now[i]) * tr->pf.shares[i];
    observe(tr, out->obs);
    out->reward = (after - before) * tr->scaling;
    out->term_values[0] = moved * tr->scaling;      /* term_names' order */
    out->term_values[1] = -rep.fees * tr->scaling;
    out->done = tr->t >= tr->steps;
    out->truncated = 0;
    return 0;
}

/* ---- policies ---- */

static int is_current(const trading *tr, const double *obs)
{
    return tr->started && memcmp(obs, tr->last_obs, tr->obs_dim * sizeof *obs) == 0;
}

static int trading_policy(void *self, const char *name, const double *obs, double *action)
{
    trading *tr = self;
    size_t D = tr->assets, day = today(tr);
    int live = tr->started && tr->t < tr->steps;
    for (size_t i = 0; i < D; i++) {
        double a = 0;
        if (strcmp(name, "buyhold") == 0) {
            a = 1;
        } else if (strcmp(name, "lookahead") == 0 && live) {
            /* the mean close of the next lookahead days against today's: buy when the rise
             * beats the round-trip cost, sell when it falls */
            size_t last = tr->start + tr->steps, h = 0;
            double now = market_price(&tr->mk, day, i), ahead = 0;
            for (size_t d = day + 1; d <= last && h < tr->lookahead; d++, h++)
                ahead += market_price(&tr->mk, d, i);
            ahead /= (double)h;
            if (ahead * (1 - tr->cost) > now * (1 + tr->cost))
                a = 1;
            else if (ahead < now)
                a = -1;
        } else if (strcmp(name, "macross") == 0 && tr->started) {
            double s, l;
            if (tr->indicators) {
                s = obs[1 + 2 * D + i];
                l = obs[1 + 3 * D + i];
            } else {
                s = market_mean(&tr->mk, day, i, tr->ma_short);
                l = market_mean(&tr->mk, day, i, tr->ma_long);
            }
            a = s > l ? 1 : s < l ? -1 : 0;
        }
        action[i] = a;
    }
    return 0;
}

/* ---- translator context, features, templates ---- */

/* Short and long averages of asset i for obs, when known (indicators, or the latest obs). */
static int averages(const trading *tr, const double *obs, size_t i, double *s, double *l)
{
    size_t D = tr->assets;
    if (tr->indicators) {
        *s = obs[1 + 2 * D + i];
        *l = obs[1 + 3 * D + i];
        return 1;
    }
    if (is_current(tr, obs)) {
        *s = market_mean(&tr->mk, today(tr), i, tr->ma_short);
        *l = market_mean(&tr->mk, today(tr), i, tr->ma_long);
        return 1;
    }
    return 0;
}

/* Dollars and cents as text: rounded to whole dollars, a day's move of a $100 stock (about
 * one dollar) would mostly vanish. Strings pass the translator unchanged. */
static json_t *dollars(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.2f", x);
    return json_string(buf);
}

static int trading_context(void *self, const double *obs, json_t **ctx)
{
    trading *tr = self;
    size_t D = tr->assets;
    double total = obs[0];
    json_t *assets = json_array();
    for (size_t i = 0; i < D; i++) {
        double price = obs[1 + i], shares = obs[1 + D + i], s = 0, l = 0;
        int trend = averages(tr, obs, i, &s, &l);
        total += price * shares;
        json_t *a = json_pack("{s:s, s:o, s:I, s:f, s:b, s:b}", "name", tr->mk.names[i], "price",
                              dollars(price), "shares", (json_int_t)shares, "value",
                              price * shares, "has_trend", trend, "last", i + 1 == D);
        json_object_set_new(a, "uptrend", json_boolean(trend && s > l * 1.005));
        json_object_set_new(a, "downtrend", json_boolean(trend && s < l * 0.995));
        if (trend) {
            json_object_set_new(a, "ma_short", dollars(s));
            json_object_set_new(a, "ma_long", dollars(l));
        }
        json_array_append_new(assets, a);
    }
    /* the fee as a person writes it (0.1, not a rounded 0) */
    char fee[64];
    snprintf(fee, sizeof fee, "%.3g", tr->cost * 100);
    json_t *c = json_pack("{s:o, s:I, s:f, s:f, s:f, s:s, s:I, s:I, s:I, s:b}", "assets", assets,
                          "num_assets", (json_int_t)D, "cash", obs[0], "total_assets", total,
                          "hmax", tr->hmax, "cost_percent", fee, "ma_short_days",
                          (json_int_t)tr->ma_short, "ma_long_days", (json_int_t)tr->ma_long,
                          "days", (json_int_t)tr->steps, "indicators", tr->indicators);
    if (!c)
        return fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
    int current = is_current(tr, obs);
    json_object_set_new(c, "has_day", json_boolean(current));
    if (current) {
        json_object_set_new(c, "day", json_integer((json_int_t)tr->t + 1));
        if (tr->mk.dates)
            json_object_set_new(c, "date", json_string(tr->mk.dates[today(tr)]));
    }
    *ctx = c;
    return 0;
}

/* Eight numbers whatever the number of assets: cash and invested shares of the total, the
 * trend (short over long average) mean, max and min, price over long average, yesterday's
 * return and the gain since the start. */
static int trading_features(void *self, const double *obs, float *out, size_t cap, size_t *dim)
{
    trading *tr = self;
    size_t D = tr->assets;
    double total = obs[0], tsum = 0, tmax = -HUGE_VAL, tmin = HUGE_VAL, psum = 0, rsum = 0;
    int known = 1, current = is_current(tr, obs);
    for (size_t i = 0; i < D; i++) {
        double s, l;
        total += obs[1 + i] * obs[1 + D + i];
        if (!averages(tr, obs, i, &s, &l) || !(l > 0)) {
            known = 0;
            continue;
        }
        double trend = s / l - 1;
        tsum += trend;
        tmax = fmax(tmax, trend);
        tmin = fmin(tmin, trend);
        psum += obs[1 + i] / l - 1;
        if (current && today(tr) > 0)
            rsum += obs[1 + i] / market_price(&tr->mk, today(tr) - 1, i) - 1;
    }
    double f[8] = {0};
    if (total > 0) {
        f[0] = obs[0] / total;
        f[1] = 1 - f[0];
    }
    if (known) {
        f[2] = 10 * tsum / (double)D;
        f[3] = 10 * tmax;
        f[4] = 10 * tmin;
        f[5] = 10 * psum / (double)D;
    }
    f[6] = 100 * rsum / (double)D;
    f[7] = tr->initial_cash > 0 ? total / tr->initial_cash - 1 : 0;
    *dim = 8;
    for (size_t i = 0; i < 8 && i < cap; i++)
        out[i] = (float)f[i];
    return 0;
}

static const char *trading_template(void *self, const char *component)
{
    if (strcmp(component, "objective") == 0)
        return "You are a portfolio manager. Your primary objective is to decide how many "
               "shares of each asset to buy or sell every trading day, so that the total value "
               "of the portfolio (cash plus the shares at their closing prices) grows, while "
               "maximizing the rewards as much as possible.";
    if (strcmp(component, "meta") == 0)
        return "The portfolio trades {{num_assets}} assets "
               "({{#assets}}{{name}}{{^last}}, {{/last}}{{/assets}}). Every trade costs "
               "{{cost_percent}}% of its value, and at most {{hmax}} shares of an asset "
               "are bought or sold per day.";
    if (strcmp(component, "instruction") == 0)
        return "Actions are a list of {{num_assets}} {{#integers}}integers{{/integers}}"
               "{{^integers}}values, each a {{number_words}},{{/integers}} from {{action_low}} "
               "to {{action_high}}, one per asset "
               "in asset order. A positive action buys that percent of {{hmax}} shares, a "
               "negative action sells that percent of {{hmax}} shares, and 0 keeps the "
               "holding. Sales happen before purchases, purchases are limited by the cash, and "
               "shares cannot be sold short. If an asset's price trend is upward (its "
               "{{ma_short_days}}-day average above its {{ma_long_days}}-day average), the "
               "stronger the trend, the higher its action; if the trend is downward, the "
               "stronger the trend, the lower its action.";
    if (strcmp(component, "state") == 0)
        return "{{#has_day}}It is trading day {{day}} of {{days}}{{#date}} ({{date}}){{/date}}. "
               "{{/has_day}}The portfolio holds {{cash}} dollars in cash and its total value is "
               "{{total_assets}} dollars. Currently, the assets are as follows:\n"
               "{{#assets}}{{name}}: price {{price}} dollars, {{shares}} shares held"
               "{{#has_trend}}, {{ma_short_days}}-day average {{ma_short}} dollars, "
               "{{ma_long_days}}-day average {{ma_long}} dollars{{/has_trend}}.\n{{/assets}}";
    if (strcmp(component, "action") == 0)
        return "{{actions_text}}";
    if (strcmp(component, "feedback") == 0)
        return "Comments: After the trades, the portfolio holds {{cash}} dollars "
               "in cash and its total value is {{total_assets}} dollars:\n"
               "{{#assets}}{{name}}: {{shares}} shares at {{price}} dollars.\n{{/assets}}";
    if (strcmp(component, "comments") == 0)
        return "{{#assets}}{{#uptrend}}The action for {{name}} shall be increased as its price "
               "trend is upward.\n{{/uptrend}}{{#downtrend}}The action for {{name}} shall be "
               "decreased as its price trend is downward.\n{{/downtrend}}{{/assets}}";
    return NULL;
}

static const fewshot_env_plugin trading_plugin = {
    .abi = FEWSHOT_PLUGIN_ABI,
    .name = "trading",
    .summary = "stock portfolio with transaction costs (FinRL StockTradingEnv style)",
    .version = "1.0",
    .params_doc =
        "{\"action_scale\": 100, \"params\": {"
        "\"prices\": {\"type\": \"string\", \"default\": \"gbm\","
        " \"doc\": \"gbm (seeded generator) or a CSV file date,asset,open,high,low,close,volume\"},"
        "\"assets\": {\"type\": \"integer\", \"default\": 3, \"doc\": \"assets of the generator\"},"
        "\"days\": {\"type\": \"integer\", \"default\": 250, \"role\": \"episode_length\","
        " \"doc\": \"trading days per episode (CSV: at most its dates - 1; 0 = all)\"},"
        "\"hmax\": {\"type\": \"integer\", \"default\": 100, \"doc\": \"max shares per trade\"},"
        "\"initial_cash\": {\"type\": \"number\", \"default\": 1000000, \"doc\": \"cash at start\"},"
        "\"cost\": {\"type\": \"number\", \"default\": 0.001, \"doc\": \"cost per side, fraction\"},"
        "\"reward_scaling\": {\"type\": \"number\", \"default\": 0.0001,"
        " \"doc\": \"reward = change of total assets times this\"},"
        "\"indicators\": {\"type\": \"boolean\", \"default\": false,"
        " \"doc\": \"add short and long moving averages to the observation\"},"
        "\"lookahead_days\": {\"type\": \"integer\", \"default\": 10,"
        " \"doc\": \"future closes the lookahead expert averages\"},"
        "\"ma_short\": {\"type\": \"integer\", \"default\": 5, \"doc\": \"short average, days\"},"
        "\"ma_long\": {\"type\": \"integer\", \"default\": 20, \"doc\": \"long average, days\"},"
        "\"start_price\": {\"type\": \"number\", \"default\": 100, \"doc\": \"generator\"},"
        "\"volatility\": {\"type\": \"number\", \"default\": 0.25, \"doc\": \"annual sigma\"},"
        "\"drift_bull\": {\"type\": \"number\", \"default\": 0.3, \"doc\": \"annual drift\"},"
        "\"drift_bear\": {\"type\": \"number\", \"default\": -0.3, \"doc\": \"annual drift\"},"
        "\"switch_prob\": {\"type\": \"number\", \"default\": 0.02,"
        " \"doc\": \"daily regime switch probability\"},"
        "\"correlation\": {\"type\": \"number\", \"default\": 0.3,"
        " \"doc\": \"share of variance from the market factor\"}},"
        "\"scenarios\": [{\"name\": \"calm\", \"volatility\": 0.15},"
        " {\"name\": \"volatile\", \"volatility\": 0.45, \"switch_prob\": 0.05},"
        " {\"name\": \"wide\", \"assets\": 10, \"indicators\": true}]}",
    .create = trading_create,
    .destroy = trading_destroy,
    .spaces = trading_spaces,
    .params = trading_params,
    .reset = trading_reset,
    .step = trading_step,
    .context = trading_context,
    .features = trading_features,
    .policies = policies,
    .term_names = term_names,
    .policy = trading_policy,
    .template_text = trading_template,
};

const fewshot_env_plugin *fewshot_env_plugin_entry(void);

const fewshot_env_plugin *fewshot_env_plugin_entry(void)
{
    return &trading_plugin;
}
