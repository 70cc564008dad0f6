#!/usr/bin/python3
"""Independent check of `fewshot report`'s statistics (fewshot-report(1)).

Usage: stats_check.py FEWSHOT RUN_DIR OUT_DIR

RUN_DIR holds a finished sweep of tests/report/report.sh's config (arms zero, expert, random,
const:0.3; scenarios cold, mild; seeds 1-4). This script replaces the stored rewards with fixed
numbers (ties, a missing and a failed episode), runs `fewshot report --format json` with
report.bootstrap and report.seed set, and recomputes every statistic here with NumPy: means,
Student t intervals (t quantiles for the degrees of freedom used here), paired differences,
the interquartile mean, normalized scores, medians, the probability of improvement and the
stratified bootstrap intervals under the documented random stream.
"""
import json
import sqlite3
import subprocess
import sys

import numpy as np

FEWSHOT, RUN, OUT = sys.argv[1:4]
RESAMPLES, SEED = 300, 42
M64 = (1 << 64) - 1
ARMS = ["zero", "expert", "random", "const:0.3"]
SCEN = ["cold", "mild"]
T95 = {1: 12.706204736174707, 2: 4.302652729749464, 3: 3.182446305284263,
       5: 2.570581835636314, 6: 2.446911851144969, 7: 2.364624251592785}

# fixed rewards: arm -> scenario -> {seed: reward}; None marks a failed episode
DATA = {
    "zero": {"cold": {1: -10.0, 2: -12.0, 3: -11.0, 4: -9.5},
             "mild": {1: -4.0, 2: -5.0, 3: -4.5, 4: -3.0}},
    "expert": {"cold": {1: -2.0, 2: -1.5, 3: -3.0, 4: -2.5},
               "mild": {1: -1.0, 2: -0.5, 3: -1.5, 4: -1.0}},
    "random": {"cold": {1: -10.0, 2: -13.0, 3: -7.0, 4: -9.5},
               "mild": {1: -4.0, 2: -2.0, 3: -6.0}},           # seed 4 missing
    "const:0.3": {"cold": {1: -6.0, 2: None, 3: -5.0, 4: -4.0},  # seed 2 failed
                  "mild": {1: -2.0, 2: -2.5, 3: -2.0, 4: -1.75}},
}


def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def fnv1a(text):
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def iqm(v):
    v = np.sort(np.asarray(v, dtype=float))
    cut = len(v) // 4
    return float(np.mean(v[cut:len(v) - cut]))


STATS = {"mean": lambda v: float(np.mean(v)), "median": lambda v: float(np.median(v)),
         "iqm": iqm}


def pi(xs, ys):
    vals = []
    for x, y in zip(xs, ys):
        if len(x) and len(y):
            x, y = np.asarray(x)[:, None], np.asarray(y)[None, :]
            vals.append(float(np.mean((x > y) + 0.5 * (x == y))))
    return float(np.mean(vals)) if vals else None


def bootstrap(stat, xs, ys, label):
    """stat over strata xs (and ys for 'pi'): (value, low, high)."""
    if stat == "pi":
        keep = [i for i in range(len(xs)) if len(xs[i]) and len(ys[i])]
        xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
        value = pi(xs, ys)
    else:
        xs = [x for x in xs if len(x)]
        value = STATS[stat](np.concatenate(xs))
    state = (SEED ^ fnv1a(label)) & M64
    out = []
    for _ in range(RESAMPLES):
        rx, ry = [], []
        for s, x in enumerate(xs):
            draw = []
            for _ in x:
                state, z = splitmix(state)
                draw.append(x[((z >> 32) * len(x)) >> 32])
            rx.append(draw)
            if stat == "pi":
                draw = []
                for _ in ys[s]:
                    state, z = splitmix(state)
                    draw.append(ys[s][((z >> 32) * len(ys[s])) >> 32])
                ry.append(draw)
        out.append(pi(rx, ry) if stat == "pi" else STATS[stat](np.concatenate(rx)))
    low, high = np.percentile(np.asarray(out), [2.5, 97.5])
    return value, float(low), float(high)


def rewards(arm, scen):
    return [r for _, r in sorted(DATA[arm][scen].items()) if r is not None]


def expected():
    zero = {s: np.mean(rewards("zero", s)) for s in SCEN}
    one = {s: np.mean(rewards("expert", s)) for s in SCEN}
    rows = {}
    for arm in ARMS:
        for scen in SCEN + ["all"]:
            strata = SCEN if scen == "all" else [scen]
            xs = [rewards(arm, s) for s in strata]
            pooled = np.concatenate(xs)
            n = len(pooled)
            row = {"episodes": n, "reward_mean": float(np.mean(pooled)),
                   "reward_ci95": T95[n - 1] * float(np.std(pooled, ddof=1)) / np.sqrt(n)}
            diffs = [DATA[arm][s][k] - DATA["zero"][s][k] for s in strata
                     for k in sorted(DATA[arm][s]) if DATA[arm][s][k] is not None]
            if arm != "zero":
                row["diff_mean"] = float(np.mean(diffs))
                row["diff_ci95"] = T95[len(diffs) - 1] * float(np.std(diffs, ddof=1)) / \
                    np.sqrt(len(diffs))
                row["pairs"] = len(diffs)
            else:
                row["diff_mean"] = row["diff_ci95"] = None
                row["pairs"] = 0
            label = lambda stat: "%s\x1f%s\x1f%s" % (arm, scen, stat)
            v, lo, hi = bootstrap("iqm", xs, None, label("reward_iqm"))
            row["reward_iqm"], row["reward_iqm_ci95"] = v, (hi - lo) / 2
            scores = [[(r - zero[s]) / (one[s] - zero[s]) for r in rewards(arm, s)]
                      for s in strata]
            for name, stat in (("score_mean", "mean"), ("score_iqm", "iqm"),
                               ("score_median", "median")):
                v, lo, hi = bootstrap(stat, scores, None, label(name))
                row[name] = v
                suffix = "_ci" if name == "score_mean" else name + "_ci"
                row[(suffix if name != "score_mean" else "score_ci") + "_low"] = lo
                row[(suffix if name != "score_mean" else "score_ci") + "_high"] = hi
            if arm != "zero":
                ys = [rewards("zero", s) for s in strata]
                v, lo, hi = bootstrap("pi", xs, ys, label("prob_improvement"))
                row["prob_improvement"], row["prob_improvement_ci95"] = v, (hi - lo) / 2
            else:
                row["prob_improvement"] = row["prob_improvement_ci95"] = None
            rows[(arm, scen)] = row
    return rows


def stored_terms():
    """(arm, scenario) -> term -> the successful episodes' term sums, from the database."""
    db = sqlite3.connect(RUN + "/results.sqlite")
    out = {}
    for arm, scen, status, terms in db.execute(
            "SELECT arm, scenario, status, terms FROM episodes ORDER BY ord"):
        if status != "ok" or arm not in ARMS:
            continue
        for key in (scen, "all"):
            for name, v in json.loads(terms).items():
                out.setdefault((arm, key), {}).setdefault(name, []).append(v)
    db.close()
    return out


def rewrite_db():
    db = sqlite3.connect(RUN + "/results.sqlite")
    for arm in ARMS:
        for scen in SCEN:
            for seed in (1, 2, 3, 4):
                r = DATA[arm][scen].get(seed, "missing")
                where = " WHERE arm = ? AND scenario = ? AND seed = ?"
                key = (arm, scen, seed)
                if r == "missing":
                    db.execute("DELETE FROM episodes" + where, key)
                elif r is None:
                    db.execute("UPDATE episodes SET status = 'failed', reward = NULL" + where, key)
                else:
                    db.execute("UPDATE episodes SET reward = ?" + where, (r,) + key)
    db.commit()
    db.close()


def main():
    rewrite_db()
    terms = stored_terms()
    got = subprocess.run([FEWSHOT, "report", RUN, "--format", "json", "--no-plots", "-o", OUT,
                          "--set", "report.bootstrap=%d" % RESAMPLES,
                          "--set", "report.seed=%d" % SEED],
                         check=True, capture_output=True, text=True).stdout
    doc = json.loads(got)
    rows = {(r["arm"], r["scenario"]): r for r in doc["rows"]}
    want = expected()
    for key, by_term in terms.items():
        for name, values in by_term.items():
            want[key][name + "_mean"] = float(np.mean(values))
        want[key]["failed"] = 1 if key in (("const:0.3", "cold"), ("const:0.3", "all")) else 0
    bad = 0
    if set(rows) != set(want):
        print("rows differ: got %s, want %s" % (sorted(rows), sorted(want)))
        return 1
    checked = 0
    for key, w in want.items():
        for col, wv in w.items():
            gv = rows[key].get(col, "absent")
            if wv is None or gv is None:
                ok = wv is None and gv is None
            else:
                ok = gv != "absent" and abs(gv - wv) <= 1e-9 * max(1.0, abs(wv))
            checked += 1
            if not ok:
                bad += 1
                print("%s %s %s: got %s, want %s" % (key[0], key[1], col, gv, wv))
    boot = doc["reproduce"]["bootstrap"]
    if boot["resamples"] != RESAMPLES or boot["seed"] != SEED:
        print("report.* settings not applied: %s" % boot)
        bad += 1
    # summary.csv carries the same numbers
    with open(OUT + "/summary.csv") as f:
        header = f.readline().strip().split(",")
        lines = [l.rstrip("\n").split(",") for l in f]
    csv_rows = {(l[0], l[1]): dict(zip(header, l)) for l in lines}
    for key, w in want.items():
        for col in ("score_mean", "score_ci_low", "prob_improvement", "reward_iqm"):
            text = csv_rows.get(key, {}).get(col, "absent")
            wv = w[col]
            ok = text == "" if wv is None else (text not in ("", "absent") and
                                                abs(float(text) - wv) <= 1e-8 * max(1, abs(wv)))
            checked += 1
            if not ok:
                bad += 1
                print("summary.csv %s %s %s: %r, want %s" % (key[0], key[1], col, text, wv))
    print("%d statistics compared, %d differ" % (checked, bad))
    return 1 if bad else 0


sys.exit(main())
