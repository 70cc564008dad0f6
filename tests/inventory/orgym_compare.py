#!/usr/bin/python3
"""Compare the inventory plugin with the NumPy re-implementation of OR-Gym's InvManagement
(orgym_reference.py) step for step on several demand lists and action sequences: the model
alone through inv_trace (rewards, observations, on-hand, pipeline, backlog, echelon position,
base-stock action) and the plugin through `fewshot env rollout` (rewards, observations).

usage: orgym_compare.py INV_TRACE FEWSHOT TMPDIR       exit 0 ok, 1 mismatch, 77 skip
"""
import io
import json
import os
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is missing")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from orgym_reference import InvManagementRef  # noqa: E402


def reference_rows(spec):
    env = InvManagementRef(spec.get("params", {}), spec["demand"])
    z = spec.get("basestock_levels")
    rows = []
    for action in spec["actions"]:
        row = {"echelon_position": env.echelon_position().tolist()}
        if z is not None:
            row["basestock"] = env.base_stock_action(z).tolist()
        state, reward, done, _ = env.step(np.array(action, dtype=float))
        n = env.period
        row.update(reward=float(reward), obs=state.tolist(), on_hand=env.I[n].tolist(),
                   pipeline=env.T[n].tolist(), backlog=env.B[n - 1].tolist(), done=done)
        rows.append(row)
        if done:
            break
    return rows


def close(a, b, tol=1e-9):
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def cases():
    rng = np.random.default_rng(20200414)
    out = []
    base = [20, 18, 25, 30, 12, 40, 0, 22, 19, 21] * 3
    out.append(("default chain, hand-written demand, orders within capacity",
                {}, base, [[20, 20, 20]] * 30))
    out.append(("default chain, random demand and actions beyond capacity, negative, fractional",
                {}, rng.poisson(20, 30).tolist(),
                rng.uniform(-20, 140, (30, 3)).round(2).tolist()))
    out.append(("lost sales, surges in demand",
                {"backlog": False}, rng.poisson(35, 30).tolist(),
                rng.integers(0, 120, (30, 3)).tolist()))
    out.append(("two stages, zero and short lead times, 12 periods",
                {"periods": 12, "initial_inventory": [30, 10], "capacity": [40, 25],
                 "lead_times": [0, 2], "replenishment_cost": [1.2, 0.8, 0.3],
                 "backlog_cost": [0.2, 0.1, 0.05], "holding_cost": [0.1, 0.05],
                 "price": 3, "discount": 0.9},
                rng.poisson(15, 12).tolist(), rng.integers(0, 50, (12, 2)).tolist()))
    out.append(("four stages, backlog, starving upstream",
                {"periods": 20, "initial_inventory": [50, 20, 10, 5],
                 "capacity": [60, 50, 40, 30], "lead_times": [1, 2, 3, 4],
                 "replenishment_cost": [1.6, 1.2, 0.9, 0.6, 0.3],
                 "backlog_cost": [0.2, 0.15, 0.1, 0.05, 0.02],
                 "holding_cost": [0.2, 0.15, 0.1, 0.05]},
                rng.poisson(25, 20).tolist(), rng.integers(0, 80, (20, 4)).tolist()))
    return out


def run(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True).stdout


def main():
    trace, fewshot, tmp = sys.argv[1:4]
    failures = 0
    checked = 0
    for name, params, demand, actions in cases():
        n = len(actions[0])
        # the base-stock actions of OR-Gym's rule are compared at each step, on the chain
        # driven by the given actions
        levels = [20.0 * (i + 1) * 4 for i in range(n)]
        spec = {"params": params, "demand": demand, "actions": actions,
                "basestock_levels": levels}
        ref = reference_rows(spec)
        got = [json.loads(line) for line in run([trace], json.dumps(spec)).splitlines()]
        if len(ref) != len(got):
            print("FAIL %s: %d rows vs %d" % (name, len(got), len(ref)))
            failures += 1
            continue
        for t, (r, g) in enumerate(zip(ref, got)):
            for key in r:
                if not close(r[key], g[key]):
                    print("FAIL %s: period %d: %s: plugin %s, OR-Gym %s" %
                          (name, t, key, g[key], r[key]))
                    failures += 1
                checked += 1
        # the plugin itself, through the program
        afile = os.path.join(tmp, "actions.csv")
        with open(afile, "w") as f:
            for a in actions:
                f.write(",".join(repr(float(x)) for x in a) + "\n")
        cmd = [fewshot, "env", "rollout", "inventory", "--policy", "file:" + afile,
               "--format", "jsonl", "-p", "demand=" + json.dumps(demand)]
        for key, value in params.items():
            cmd += ["-p", "%s=%s" % (key, json.dumps(value))]
        rows = [json.loads(line) for line in run(cmd).splitlines()]
        if len(rows) != len(ref):
            print("FAIL %s: rollout has %d rows, OR-Gym %d" % (name, len(rows), len(ref)))
            failures += 1
        for t, (r, g) in enumerate(zip(ref, rows)):
            terms = sum(g["terms"].values())
            if not (close(r["reward"], g["reward"]) and close(r["obs"], g["obs"]) and
                    close(g["reward"], terms) and g["done"] == r["done"]):
                print("FAIL %s: rollout period %d: reward %s obs %s terms %s, OR-Gym %s %s" %
                      (name, t, g["reward"], g["obs"], terms, r["reward"], r["obs"]))
                failures += 1
            checked += 1
        total = sum(r["reward"] for r in ref)
        print("ok %-72s %2d periods, return %.6f" % (name, len(ref), total))
    print("%d comparisons, %d failures" % (checked, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
