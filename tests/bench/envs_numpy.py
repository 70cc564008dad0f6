#!/usr/bin/python3
"""Baselines for tests/bench/envs.sh: steps per second of the NumPy re-implementation of
OR-Gym's InvManagement (tests/inventory/orgym_reference.py) under base-stock, and of a NumPy
FinRL-style trading step (sells before buys, 0.1% cost per side) with random actions.

usage: envs_numpy.py inventory EPISODES | envs_numpy.py trading STEPS
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "inventory"))


def inventory(episodes):
    from orgym_reference import InvManagementRef
    rng = np.random.default_rng(1)
    env = InvManagementRef({}, rng.poisson(20, 30))
    z = [92, 213, 415]
    start = time.perf_counter()
    for _ in range(episodes):
        env.user_D = rng.poisson(20, 30)
        env.reset()
        done = False
        while not done:
            _, _, done, _ = env.step(env.base_stock_action(z))
    return episodes * 30 / (time.perf_counter() - start)


def trading(steps):
    rng = np.random.default_rng(1)
    d, hmax, cost = 3, 100, 0.001
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, (steps + 1, d)), axis=0))
    cash, shares = 1e6, np.zeros(d)
    start = time.perf_counter()
    for t in range(steps):
        p = prices[t]
        begin = cash + p @ shares
        actions = (rng.uniform(-1, 1, d) * hmax).astype(int)
        order = np.argsort(actions)
        for i in order[:np.where(actions < 0)[0].shape[0]]:
            q = min(-actions[i], shares[i])
            cash += p[i] * q * (1 - cost)
            shares[i] -= q
        for i in order[::-1][:np.where(actions > 0)[0].shape[0]]:
            q = min(cash // (p[i] * (1 + cost)), actions[i])
            cash -= p[i] * q * (1 + cost)
            shares[i] += q
        _ = (cash + prices[t + 1] @ shares - begin) * 1e-4
    return steps / (time.perf_counter() - start)


if __name__ == "__main__":
    what, n = sys.argv[1], int(sys.argv[2])
    print("%.1f" % (inventory(n) if what == "inventory" else trading(n)))
