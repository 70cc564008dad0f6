"""A PPO smoke run of a few updates: the progress line, the exported file loads as an mlp:
policy in the C library (rollout, sweep baseline), its meta records the run, and the trained
policy scores better than its untrained start on a tiny problem."""
import os
import subprocess
import sys

import numpy as np

import fewshot
from util import check, fewshot_cli, finish, skip, tmp

try:
    import torch  # noqa: F401
except ImportError:
    skip("python3-torch is not installed (PPO trains on PyTorch)")

out = tmp("ppo.json")
cmd = [sys.executable, "-m", "fewshot.ppo", "inventory", "-p", "periods=20", "--steps", "2048",
       "--envs", "4", "--rollout", "128", "--epochs", "2", "--seed", "3", "-o", out]
proc = subprocess.run(cmd + ["--eval", "2", "--compare", "zero,basestock"], capture_output=True,
                      text=True)
check("ppo: mean return over 2 episodes: ppo " in proc.stderr and " basestock " in proc.stderr,
      "--eval compares the exported policy with others: %r" % proc.stderr[-200:])
check(proc.returncode == 0, "python3 -m fewshot.ppo ran (%s)" % proc.stderr[-400:])
check("ppo: 2048/2048 steps  update 4/4" in proc.stderr, "progress line: %r" % proc.stderr[-200:])
doc = __import__("json").load(open(out))
check(doc["meta"]["steps"] == 2048 and doc["meta"]["env"] == "inventory" and
      doc["meta"]["params"] == {"periods": 20}, "meta records the run: %s" % doc["meta"])
check("obs_norm" in doc and len(doc["obs_norm"]["mean"]) == doc["obs_dim"],
      "observation normalization exported")
from fewshot import ppo  # noqa: E402
again = ppo.parse_args(cmd[3:-2] + ["--quiet", "-o", tmp("again.json")])
ppo.train(again, progress=None)
doc2 = __import__("json").load(open(tmp("again.json")))
check(doc2["layers"] == doc["layers"], "the same seed trains the same policy")

r = fewshot_cli("env", "rollout", "inventory", "-p", "periods=20", "--policy", "mlp:" + out)
check(r.returncode == 0 and len(r.stdout.splitlines()) == 21, "fewshot env rollout --policy "
      "mlp:FILE (%s)" % r.stderr)

run = tmp("run")
res = fewshot.sweep({"env": {"plugin": "inventory", "params": {"periods": 20}},
                     "baselines": ["mlp:" + out, "zero"], "episodes": {"seeds": [1, 2]}}, run)
check(res["ran"] == 4 and res["failed"] == 0, "mlp:FILE as a sweep baseline: %s" % res)
rows = {row["arm"]: row for row in fewshot.report(run)}
check(("mlp:" + out) in rows, "the report names the mlp arm: %s" % list(rows))

# a problem PPO must solve in a few updates: drive a 1-D state to 0 (a Python env)
class Point:
    def __init__(self):
        self.observation_space = fewshot.Box(np.array([-5.0]), np.array([5.0]))
        self.action_space = fewshot.Box(np.array([-1.0]), np.array([1.0]))

    def reset(self, seed=None, options=None):
        self.x = float(np.random.default_rng(seed).uniform(-3, 3))
        self.t = 0
        return np.array([self.x]), {}

    def step(self, a):
        self.x = float(np.clip(self.x + 0.5 * float(a[0]), -5, 5))
        self.t += 1
        return np.array([self.x]), -abs(self.x), False, self.t >= 10, {}


fewshot.register("point", Point)
args = ppo.parse_args(["point", "--steps", "4096", "--envs", "8", "--rollout", "64",
                       "--seed", "1", "--quiet", "--lr", "3e-3", "-o", tmp("point.json")])
summary = ppo.train(args, progress=None)
env = fewshot.make("point")


def score(spec):
    return np.mean([sum(r[1] for r in fewshot.rollout(env, spec, seed=s)) for s in range(20)])


trained, zero = score("mlp:" + tmp("point.json")), score("zero")
print("point: trained %.3f, zero %.3f, %.0f steps/s" % (trained, zero,
                                                          summary["steps_per_second"]))
check(trained > zero + 3, "PPO learns to drive the point to 0: %.2f vs zero %.2f" %
      (trained, zero))
finish()
