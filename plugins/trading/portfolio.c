/*
 * trading: cash and shares accounting (see portfolio.h).
 */
#include <math.h>
#include <string.h>

#include "portfolio.h"

double portfolio_value(const portfolio *pf, const double *prices)
{
    double v = pf->cash;
    for (size_t i = 0; i < pf->assets; i++)
        v += prices[i] * pf->shares[i];
    return v;
}

void portfolio_trade(portfolio *pf, const double *prices, const double *orders, double cost,
                     double *done, trade_report *report)
{
    size_t order[64], n = pf->assets < 64 ? pf->assets : 64;
    memset(report, 0, sizeof *report);
    if (done)
        memset(done, 0, pf->assets * sizeof *done);
    /* stable sort by order size, ascending (FinRL's argsort) */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && orders[order[j - 1]] > orders[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        if (!(orders[i] < 0) || !(prices[i] > 0))
            continue;
        double q = fmin(-orders[i], pf->shares[i]);
        double value = prices[i] * q;
        pf->cash += value * (1 - cost);
        pf->shares[i] -= q;
        report->fees += value * cost;
        report->sold_value += value;
        if (done)
            done[i] = -q;
    }
    for (size_t k = n; k-- > 0;) {
        size_t i = order[k];
        if (!(orders[i] > 0) || !(prices[i] > 0))
            continue;
        double unit = prices[i] * (1 + cost);
        double q = fmin(floor(pf->cash / unit), orders[i]);
        while (q > 0 && prices[i] * q * (1 + cost) > pf->cash)  /* rounding: never below 0 */
            q--;
        if (q <= 0)
            continue;
        double value = prices[i] * q;
        pf->cash -= value * (1 + cost);
        pf->shares[i] += q;
        report->fees += value * cost;
        report->bought_value += value;
        if (done)
            done[i] = q;
    }
}
