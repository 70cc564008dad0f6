/*
 * trading: the account: cash and whole shares, trades at the day's close with a proportional
 * cost on each side, sells before buys, buys limited by cash (FinRL StockTradingEnv's rules).
 */
#ifndef TRADING_PORTFOLIO_H
#define TRADING_PORTFOLIO_H

#include <stddef.h>

typedef struct portfolio {
    size_t assets;
    double cash;
    double *shares;     /* assets whole shares, never negative */
} portfolio;

/* What one rebalance did. */
typedef struct trade_report {
    double fees;        /* total cost paid */
    double sold_value;  /* value of the shares sold, before costs */
    double bought_value;/* value of the shares bought, before costs */
} trade_report;

/* cash + sum price * shares */
double portfolio_value(const portfolio *pf, const double *prices);

/* Trade `orders` (signed whole shares per asset: negative sells, positive buys) at `prices`
 * with cost fraction `cost` per side. Sells run first, most negative order first, and never
 * exceed the shares held; buys run next, largest order first, each limited to what the cash
 * pays including its cost. `done` (may be NULL) receives the shares actually traded. */
void portfolio_trade(portfolio *pf, const double *prices, const double *orders, double cost,
                     double *done, trade_report *report);

#endif
