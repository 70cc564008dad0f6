"""Bindings: the Gymnasium API's shape, spaces, errors with the C message, VectorEnv against
single environments, policies, context and features."""
import numpy as np

import fewshot
from fewshot.spaces import SimpleBox
from util import check, finish, raises

check(fewshot.library_path.endswith("libfewshot.so"), "library from the build tree: %s" %
      fewshot.library_path)
names = [e["name"] for e in fewshot.envs()]
check({"hvac", "inventory", "trading"} <= set(names), "build-tree plugins listed: %s" % names)

env = fewshot.make("hvac", building="OfficeSmall", weather="Hot_Dry")
obs_space, act_space = env.observation_space, env.action_space
check(obs_space.shape == (10,) and act_space.shape == (6,), "hvac spaces' shapes")
check(np.all(act_space.low == -1) and np.all(act_space.high == 1), "hvac action bounds")
check(act_space.contains(act_space.sample()), "sample() lies in the action space")
check(not act_space.contains(np.full(6, 2.0)), "contains() refuses 2.0")

# reset -> (obs, info); step -> (obs, reward, terminated, truncated, info)
out = env.reset(seed=3)
check(isinstance(out, tuple) and len(out) == 2, "reset returns (obs, info)")
obs, info = out
check(isinstance(obs, np.ndarray) and obs.dtype == np.float64 and obs.shape == (10,),
      "reset obs is a float64 array of shape (10,)")
check(isinstance(info, dict), "reset info is a dict")
res = env.step(np.zeros(6))
check(len(res) == 5, "step returns 5 values")
obs2, reward, terminated, truncated, info = res
check(obs2.shape == (10,) and isinstance(reward, float), "step obs and reward types")
check(isinstance(terminated, bool) and isinstance(truncated, bool), "terminated, truncated bool")
check("energy" in info and "comfort" in info, "info holds the reward terms: %s" % info)
check(abs(sum(v for v in info.values() if isinstance(v, (int, float))) - reward) < 1e-9,
      "the terms add up to the paper reward (alpha 1)")
t = 1
while not (terminated or truncated):
    _, _, terminated, truncated, _ = env.step(act_space.sample())
    t += 1
check(t == 24 and truncated, "a 24-step episode ends truncated (%d steps)" % t)
e = raises(fewshot.Error, lambda: env.step(np.zeros(6)), "step after the end raises")
check(e is not None and "reset" in str(e), "the message says to reset: %s" % e)

# the same seed gives the same episode
a, _ = env.reset(seed=7, options={"initial": {"uniform": [18, 26]}})
b, _ = env.reset(seed=7, options={"initial": {"uniform": [18, 26]}})
check(np.array_equal(a, b) and a[0] != 22.0, "reset options and seeds are honoured")

# errors carry the C library's message and details
e = raises(fewshot.Error, lambda: fewshot.make("hvac", bogus=1), "unknown parameter raises")
check(e is not None and "bogus" in e.message and e.code == -3, "message names it: %s" % e)
e = raises(fewshot.Error, lambda: fewshot.make("no-such-env"), "unknown env raises")
check(e is not None and "no-such-env" in str(e), "message names the env: %s" % e)
e = raises(fewshot.Error, lambda: env.step(np.array([np.nan] * 6)), "NaN action raises")
check(e is not None and "action" in str(e), "NaN message: %s" % e)
e = raises(fewshot.Error, lambda: env.policy("no-policy"), "unknown policy raises")
check(e is not None and "mlp:" in str(e), "the policy error lists mlp: %s" % e)

# context, features, params, named policies
env.reset(seed=0)
ctx = env.context()
check(ctx["n_rooms"] == 6 and len(ctx["rooms"]) == 6, "context has the rooms")
f = env.features()
check(f.dtype == np.float32 and f.size > 0, "features are float32")
check(env.params["weather"] == "Hot_Dry", "resolved params")
check(env.policies[:2] == ["mpc", "thermostat"], "plugin policies %s" % env.policies)
act = env.policy("thermostat").act()
check(act.shape == (6,) and np.all(np.abs(act) <= 1), "thermostat acts")

# VectorEnv equals n single environments stepped one by one, autoreset included
n = 3
venv = fewshot.VectorEnv("inventory", n)
singles = [fewshot.make("inventory") for _ in range(n)]
vo, _ = venv.reset(seed=10)
so = np.array([s.reset(seed=10 + i)[0] for i, s in enumerate(singles)])
check(vo.shape == (n, singles[0].observation_space.shape[0]) and np.array_equal(vo, so),
      "vector reset equals single resets")
rng = np.random.default_rng(0)
next_seed, same, ends = 10 + n, True, 0
m = venv.single_action_space.shape[0]
for t in range(70):
    acts = rng.integers(0, 30, size=(n, m)).astype(float)
    vo, vr, vd, vt, vinfo = venv.step(acts)
    for i, s in enumerate(singles):
        o, r, d, tr, _ = s.step(acts[i])
        same &= np.array_equal(vinfo["final_obs"][i], o) and vr[i] == r
        same &= bool(vd[i]) == d and bool(vt[i]) == tr
        if d or tr:
            ends += 1
            o, _ = s.reset(seed=next_seed)
            next_seed += 1
        same &= np.array_equal(vo[i], o)
check(same, "vector steps equal single steps number for number")
check(ends >= n, "episodes ended and were reset automatically (%d)" % ends)
e = raises(fewshot.Error, lambda: venv.step(np.zeros((n + 1, m))), "wrong action shape raises")
check(venv.env(1).observation_space.shape == singles[1].observation_space.shape,
      "vector instance as an Env")
venv.close()
env.close()

# the fallback Box (used when gymnasium is not importable)
box = SimpleBox(np.array([0.0, -1.0]), np.array([1.0, 1.0]))
check(box.shape == (2,) and box.dtype == np.float64, "SimpleBox shape and dtype")
check(all(box.contains(box.sample()) for _ in range(50)), "SimpleBox samples lie inside")
check(not box.contains(np.array([2.0, 0.0])), "SimpleBox contains() refuses outside points")
ibox = SimpleBox(0, 5, shape=(3,), dtype=np.int64)
s = ibox.sample()
check(s.dtype == np.int64 and ibox.contains(s), "integer SimpleBox")
finish()
