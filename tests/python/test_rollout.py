"""A Python rollout equals `fewshot env rollout` number for number (CSV numbers round-trip)."""
import csv
import io

import numpy as np

import fewshot
from util import check, fewshot_cli, finish

cases = [
    ("hvac", ["building=OfficeSmall", "weather=Hot_Dry"], "expert", 5, 24),
    ("hvac", ["building=OfficeSmall", 'initial={"uniform": [18, 26]}'], "thermostat", 2, None),
    ("inventory", [], "random", 11, 40),
    ("trading", [], "random", 3, 30),
]
for name, params, policy, seed, steps in cases:
    args = ["env", "rollout", name, "--policy", policy, "--seed", str(seed)]
    for p in params:
        args += ["-p", p]
    if steps:
        args += ["--steps", str(steps)]
    proc = fewshot_cli(*args)
    what = "%s %s seed %d" % (name, policy, seed)
    check(proc.returncode == 0, "%s: fewshot env rollout ran (%s)" % (what, proc.stderr))
    rows = list(csv.reader(io.StringIO(proc.stdout)))[1:]
    kw = {}
    for p in params:
        k, v = p.split("=", 1)
        try:
            import json
            kw[k] = json.loads(v)
        except ValueError:
            kw[k] = v
    env = fewshot.make(name, **kw)
    mine = fewshot.rollout(env, policy, steps=steps, seed=seed)
    check(len(rows) == len(mine) and len(rows) > 0, "%s: %d CLI rows, %d Python rows" %
          (what, len(rows), len(mine)))
    equal = True
    for row, (t, reward, obs, action) in zip(rows, mine):
        values = [float(v) for v in row]
        equal &= int(values[0]) == t and values[1] == reward
        k = obs.size
        equal &= np.array_equal(np.array(values[2:2 + k]), obs)
        equal &= np.array_equal(np.array(values[2 + k:]), action)
    check(equal, "%s: every step, reward, observation and action is equal" % what)
finish()
