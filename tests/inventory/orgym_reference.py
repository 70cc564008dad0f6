#!/usr/bin/python3
"""A NumPy re-implementation of OR-Gym's InvManagementMasterEnv (Hubbs et al. 2020,
or_gym/envs/supply_chain/inventory_management.py) with user-supplied demand (dist=5),
written from its source to check the inventory plugin step for step.

Input (stdin, JSON): {"params": {...plugin parameter names...}, "demand": [...],
"actions": [[...], ...]}. Output: one JSON object per period with the reward, the
observation (OR-Gym's state), on-hand inventory, pipeline and backlog after the period, and
the echelon inventory position and base-stock action OR-Gym computes before it.
(tests/bench/envs_numpy.py times it for `make bench`.)
"""
import json
import sys
import time

import numpy as np


class InvManagementRef:
    def __init__(self, params, demand):
        self.periods = int(params.get("periods", 30))
        self.init_inv = np.array(params.get("initial_inventory", [100, 100, 200]))
        p = params.get("price", 2)
        r = params.get("replenishment_cost", [1.5, 1.0, 0.75, 0.5])
        self.unit_price = np.append(p, r[:-1])      # a stage's price is its customer's cost
        self.unit_cost = np.array(r)
        self.demand_cost = np.array(params.get("backlog_cost", [0.10, 0.075, 0.05, 0.025]))
        self.holding_cost = np.append(params.get("holding_cost", [0.15, 0.10, 0.05]), 0)
        self.supply_capacity = np.array(params.get("capacity", [100, 90, 80]))
        self.lead_time = np.array(params.get("lead_times", [3, 5, 10]))
        self.backlog = bool(params.get("backlog", True))
        self.discount = params.get("discount", 0.97)
        self.user_D = np.array(list(demand))
        self.num_stages = len(self.init_inv) + 1
        assert len(self.user_D) == self.periods
        self.reset()

    def reset(self):
        periods, m = self.periods, self.num_stages
        self.I = np.zeros([periods + 1, m - 1])
        self.T = np.zeros([periods + 1, m - 1])
        self.R = np.zeros([periods, m - 1])
        self.D = np.zeros(periods)
        self.S = np.zeros([periods, m])
        self.B = np.zeros([periods, m])
        self.LS = np.zeros([periods, m])
        self.P = np.zeros(periods)
        self.period = 0
        self.I[0, :] = np.array(self.init_inv)
        self.action_log = np.zeros((periods, m - 1), dtype=np.int32)
        self._update_state()
        return self.state

    def _update_state(self):
        m = self.num_stages - 1
        t = self.period
        lt_max = self.lead_time.max()
        state = np.zeros(m * (lt_max + 1), dtype=np.int32)
        state[:m] = self.init_inv if t == 0 else self.I[t]
        if t == 0:
            pass
        elif t >= lt_max:
            if lt_max > 0:
                state[-m * lt_max:] += self.action_log[t - lt_max:t].flatten()
        else:
            state[-m * t:] += self.action_log[:t].flatten()
        self.state = state.copy()

    def echelon_position(self):
        n = self.period
        if n >= 1:
            return np.cumsum(self.I[n, :] + self.T[n, :] - self.B[n - 1, :-1])
        return np.cumsum(self.I[n, :] + self.T[n, :])

    def base_stock_action(self, z):
        n = self.period
        c = self.supply_capacity
        R = np.asarray(z) - self.echelon_position()
        Im1 = np.append(self.I[n, 1:], np.inf)
        Rpos = np.column_stack((np.zeros(len(R)), R))
        A = np.column_stack((c, np.max(Rpos, axis=1), Im1))
        return np.min(A, axis=1)

    def step(self, action):
        R = np.maximum(action, 0).astype(int)
        n = self.period
        L = self.lead_time
        I = self.I[n, :].copy()
        T = self.T[n, :].copy()
        m = self.num_stages
        c = self.supply_capacity
        self.action_log[n] = R.copy()
        Im1 = np.append(I[1:], np.inf)
        if n >= 1:
            R = R + self.B[n - 1, 1:]
        Rcopy = R.copy()
        R[R >= c] = c[R >= c]
        R[R >= Im1] = Im1[R >= Im1]
        self.R[n, :] = R
        RnL = np.zeros(m - 1)
        for i in range(m - 1):
            if n - L[i] >= 0:
                RnL[i] = self.R[n - L[i], i].copy()
                I[i] = I[i] + RnL[i]
        D0 = self.user_D[n]
        D = D0
        self.D[n] = D0
        if n >= 1:
            D = D0 + self.B[n - 1, 0].copy()
        S0 = min(I[0], D)
        S = np.append(S0, R)
        self.S[n, :] = S
        I = I - S[:-1]
        T = T - RnL + R
        self.I[n + 1, :] = I
        self.T[n + 1, :] = T
        U = np.append(D, Rcopy) - S
        if self.backlog:
            B, LS = U, np.zeros(m)
        else:
            LS, B = U, np.zeros(m)
        self.B[n, :] = B
        self.LS[n, :] = LS
        p, r, k, h, a = (self.unit_price, self.unit_cost, self.demand_cost,
                         self.holding_cost, self.discount)
        II = np.append(I, 0)
        RR = np.append(R, S[-1])
        P = a ** n * np.sum(p * S - (r * RR + k * U + h * II))
        self.P[n] = P
        self.period += 1
        self._update_state()
        return self.state, P, self.period >= self.periods, {}


def main():
    spec = json.load(sys.stdin)
    env = InvManagementRef(spec.get("params", {}), spec["demand"])
    z = spec.get("basestock_levels")
    for action in spec["actions"]:
        row = {"echelon_position": env.echelon_position().tolist()}
        if z is not None:
            row["basestock"] = env.base_stock_action(z).tolist()
        state, reward, done, _ = env.step(np.array(action, dtype=float))
        n = env.period
        row.update(reward=float(reward), obs=state.tolist(), on_hand=env.I[n].tolist(),
                   pipeline=env.T[n].tolist(), backlog=env.B[n - 1].tolist(), done=done)
        print(json.dumps(row))
        if done:
            break


if __name__ == "__main__":
    main()
