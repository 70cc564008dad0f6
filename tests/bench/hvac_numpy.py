"""NumPy baselines for tests/bench/hvac.sh, with the matrices exported by hvac_bench, in CPU
time (the machine may be shared). Prints two rates, steps/s:
  model  x' = Ad x + Bd u alone (the least a Python simulator must do per step);
  env    the per-step work of BEAR's BuildingEnvReal.step: assemble the input vector, the
         occupant heat polynomial, the matrix update, the reward norms and the next state."""
import sys
import time

import numpy as np
from numpy import linalg as LA


def rate(fn):
    steps = 0
    start = time.process_time()
    while True:
        for _ in range(1000):
            fn()
        steps += 1000
        elapsed = time.process_time() - start
        if elapsed > 0.5:
            return steps / elapsed


def main(path):
    with open(path) as f:
        n, m = (int(v) for v in f.readline().split())
        rows = [list(map(float, line.split())) for line in f]
    ad = np.array(rows[:n])
    bd = np.array(rows[n:2 * n])
    u = np.array([10.0 if j < 3 else 0.01 for j in range(m)])
    state = {"x": np.full(n, 22.0)}

    def model():
        state["x"] = ad @ state["x"] + bd @ u

    out_temp = np.linspace(0, 20, 100)
    ghi = np.linspace(0, 1, 100)
    ground = np.full(100, 20.9)
    target = np.full(n, 22.0)
    acmap = np.ones(n)
    action = np.full(n, 0.01)

    def env():
        t = 7
        x = state["x"]
        y = np.insert(np.append(action, ghi[t]), 0, out_temp[t]).T
        y = np.insert(y, 0, ground[t]).T
        avg = np.sum(x) / n
        meta = 120.0
        occ = (6.461927 + 0.946892 * meta + 0.0000255737 * meta ** 2
               - 0.0627909 * avg * meta + 0.0000589172 * avg * meta ** 2
               - 0.19855 * avg ** 2 + 0.000940018 * avg ** 2 * meta
               - 0.00000149532 * avg ** 2 * meta ** 2)
        y = np.insert(y, 0, occ).T
        x_new = ad @ x + bd @ y
        error = x_new * acmap - target * acmap
        reward = -(LA.norm(action, 2) * 0.024 + LA.norm(error, 2) * 0.999)
        state["x"] = np.concatenate((x_new, out_temp[t].reshape(-1,), np.full(x_new.shape, ghi[t]),
                                     ground[t].reshape(-1), np.full(x_new.shape, occ / 1000)))[:n]
        return reward

    print("%.0f %.0f" % (rate(model), rate(env)))


if __name__ == "__main__":
    main(sys.argv[1])
