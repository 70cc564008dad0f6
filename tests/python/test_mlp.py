"""The mlp:FILE policy: the C forward pass equals PyTorch's to 1e-6, the file format's errors
name the file and JSON path, {KEY} expands env parameters, and the policy works from
`fewshot env rollout --policy mlp:FILE`, `fewshot demos generate --policy mlp:FILE` and a
sweep's baselines."""
import csv
import io
import json
import os

import numpy as np

import fewshot
from fewshot import mlp
from util import check, fewshot_cli, finish, raises, skip, tmp

try:
    import torch
    from torch import nn
except ImportError:
    skip("python3-torch is not installed (the mlp policy is compared with PyTorch)")

torch.manual_seed(0)
env = fewshot.make("hvac", building="OfficeSmall", weather="Hot_Dry")
k, m = env.observation_space.shape[0], env.action_space.shape[0]


def build(acts):
    sizes = [k, 32, 16, m]
    lins = [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
    for lin in lins:
        nn.init.normal_(lin.weight, std=0.4)
        nn.init.normal_(lin.bias, std=0.2)
    return lins


def torch_forward(lins, acts, x, mean, std, clip, squash, dtype):
    with torch.no_grad():
        h = torch.as_tensor(x, dtype=dtype)
        h = torch.clamp((h - torch.as_tensor(mean, dtype=dtype)) / torch.as_tensor(std, dtype=dtype),
                        -clip, clip)
        for lin, act in zip(lins, acts):
            h = nn.functional.linear(h, lin.weight.to(dtype), lin.bias.to(dtype))
            h = torch.tanh(h) if act == "tanh" else torch.relu(h) if act == "relu" else h
        h = torch.clamp(h, -1, 1) if squash == "clip" else torch.tanh(h) if squash == "tanh" else h
        return h.numpy().astype(np.float64)


rng = np.random.default_rng(1)
mean = rng.normal(20, 3, size=k)
std = rng.uniform(0.5, 4, size=k)
obs_batch = rng.normal(20, 6, size=(200, k))
worst64 = worst32 = worst_np = 0.0
for acts, squash in ((["tanh", "tanh", "linear"], "clip"), (["relu", "tanh", "linear"], "tanh"),
                     (["relu", "relu", "linear"], "none")):
    lins = build(acts)
    path = tmp("policy-%s-%s.json" % (acts[0], squash))
    doc = mlp.export(path, lins, acts, mean, std, 5.0, low=-np.ones(m), high=np.ones(m),
                     squash=squash)
    pol = fewshot.Policy(env, "mlp:" + path)
    for x in obs_batch:
        c = pol.act(x)
        worst64 = max(worst64, np.max(np.abs(c - torch_forward(lins, acts, x, mean, std, 5.0,
                                                              squash, torch.float64))))
        worst32 = max(worst32, np.max(np.abs(c - torch_forward(lins, acts, x, mean, std, 5.0,
                                                              squash, torch.float32))))
        worst_np = max(worst_np, np.max(np.abs(c - mlp.forward(doc, x))))
print("C vs PyTorch float64: %.3g, float32: %.3g, NumPy: %.3g" % (worst64, worst32, worst_np))
check(worst64 <= 1e-6, "C forward equals PyTorch (float64) to 1e-6: worst %.3g" % worst64)
check(worst32 <= 1e-5, "and PyTorch float32 to 1e-5: worst %.3g" % worst32)
check(worst_np <= 1e-12, "and the NumPy reference forward: worst %.3g" % worst_np)

# action scaling onto [low, high]
lins = build(["tanh", "tanh", "linear"])
path = tmp("scaled.json")
doc = mlp.export(path, lins, ["tanh", "tanh", "linear"], low=np.full(m, -0.5),
                 high=np.full(m, 0.25))
a = fewshot.Policy(env, "mlp:" + path).act(obs_batch[0])
check(np.all(a >= -0.5) and np.all(a <= 0.25) and np.allclose(a, mlp.forward(doc, obs_batch[0]),
                                                              atol=1e-12),
      "actions are mapped onto [low, high]")

# the CLI rolls the policy out, equal to the Python rollout
good = tmp("policy-tanh-clip.json")
proc = fewshot_cli("env", "rollout", "hvac", "-p", "building=OfficeSmall", "--policy",
                   "mlp:" + good, "--seed", "4")
check(proc.returncode == 0, "fewshot env rollout --policy mlp:FILE (%s)" % proc.stderr)
rows = list(csv.reader(io.StringIO(proc.stdout)))[1:]
mine = fewshot.rollout(fewshot.make("hvac", building="OfficeSmall"), "mlp:" + good, seed=4)
check(len(rows) == 24 and all(np.array_equal(np.array([float(v) for v in r[2 + k:]]), row[3])
                              for r, row in zip(rows, mine)),
      "CLI and Python mlp rollouts agree on every action")

# {KEY} picks the file by env parameter
os.makedirs(tmp("ppo"), exist_ok=True)
os.replace(good, tmp("ppo/OfficeSmall-Hot_Dry.json"))
p = fewshot.Policy(env, "mlp:" + tmp("ppo/{building}-{weather}.json"))
check(p.act(obs_batch[0]).shape == (m,), "mlp:ppo/{building}-{weather}.json expands params")
e = raises(fewshot.Error, lambda: fewshot.Policy(env, "mlp:" + tmp("{nope}.json")),
           "an unknown {KEY} raises")
check(e is not None and "{nope}" in str(e), "and names it: %s" % e)

# demonstrations from the mlp policy
demos = tmp("demos.jsonl")
proc = fewshot_cli("demos", "generate", "hvac", "-p", "building=OfficeSmall", "--policy",
                   "mlp:" + tmp("ppo/OfficeSmall-Hot_Dry.json"), "--episodes", "2",
                   "--steps", "6", "-o", demos)
check(proc.returncode == 0 and sum(1 for _ in open(demos)) >= 12,
      "fewshot demos generate --policy mlp:FILE (%s)" % proc.stderr)

# file errors name the file and the JSON path
def bad(doc_text, name):
    path = tmp(name)
    with open(path, "w") as f:
        f.write(doc_text)
    return raises(fewshot.Error, lambda: fewshot.Policy(env, "mlp:" + path), name + " raises")


base = json.load(open(tmp("scaled.json")))
e = bad('{"format": "fewshot-mlp",\n "version": 1,,}', "syntax.json")
check(e is not None and e.file.endswith("syntax.json") and e.line == 2, "syntax error line: %s" % e)
wrong = dict(base, layers=base["layers"][:-1])
e = bad(json.dumps(wrong), "outputs.json")
check(e is not None and e.path == "$.layers" and "outputs" in e.message, "layer outputs: %s" % e)
wrong = json.loads(json.dumps(base))
wrong["layers"][1]["weight"][3][2] = "x"
e = bad(json.dumps(wrong), "weight.json")
check(e is not None and e.path == "$.layers[1].weight[3][2]", "bad weight's path: %s" %
      (e and e.path))
wrong = dict(base, obs_dim=k + 1)
e = bad(json.dumps(wrong), "dims.json")
check(e is not None and e.code == -13 and "another scenario" in e.message, "dimension mismatch: %s" % e)
wrong = dict(base, extra=1)
e = bad(json.dumps(wrong), "extra.json")
check(e is not None and e.path == "$.extra", "unknown key: %s" % (e and e.path))
wrong = json.loads(json.dumps(base))
wrong["layers"][0]["activation"] = "sigmoid"
e = bad(json.dumps(wrong), "act.json")
check(e is not None and e.path == "$.layers[0].activation", "activation: %s" % (e and e.path))
e = raises(fewshot.Error, lambda: fewshot.Policy(env, "mlp:" + tmp("missing.json")),
           "a missing file raises")
check(e is not None and "missing.json" in str(e), "naming the file: %s" % e)
finish()
