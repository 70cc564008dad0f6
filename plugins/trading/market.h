/*
 * trading: price series for the portfolio, from a CSV file (date, asset, open, high, low,
 * close, volume) or from a seeded generator (geometric Brownian motion whose drift switches
 * between a bull and a bear regime).
 */
#ifndef TRADING_MARKET_H
#define TRADING_MARKET_H

#include <stddef.h>
#include <stdint.h>

typedef struct market {
    size_t assets;      /* D */
    size_t days;        /* rows of close[] */
    double *close;      /* days x assets closing prices, row-major by day */
    char **names;       /* assets names */
    char **dates;       /* days dates, or NULL for generated series */
} market;

typedef struct gbm_options {
    size_t assets, days;
    double start_price;         /* mean starting price */
    double volatility;          /* annualised sigma */
    double drift_bull, drift_bear;  /* annualised drifts of the two regimes */
    double switch_prob;         /* probability per day of a regime switch */
    double correlation;         /* loading of every asset on one market factor */
} gbm_options;

/* Load a CSV. Rows grouped by date (dates in file order, non-decreasing); every date must
 * list every asset once. Errors name the file, line and column. Returns 0 or FEWSHOT_E*. */
int market_load_csv(market *mk, const char *file);

/* Generate a series of o->days days from seed. Prices are rounded to cents. */
int market_generate(market *mk, const gbm_options *o, uint64_t seed);

void market_free(market *mk);

static inline double market_price(const market *mk, size_t day, size_t asset)
{
    return mk->close[day * mk->assets + asset];
}

/* Mean closing price of `asset` over the `window` days ending at `day` (fewer at the start). */
double market_mean(const market *mk, size_t day, size_t asset, size_t window);

#endif
