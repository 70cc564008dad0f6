"""A Python environment registered with fewshot.register: used through make(), the C policies,
the Agent, `fewshot.sweep` (baselines and an LLM arm against the test LLM server when it is
built) and `fewshot.report`; exceptions in it reach the caller with their message."""
import json
import os
import socket
import subprocess
import time

import numpy as np

import fewshot
from util import check, finish, raises, tmp


class Tank:
    """A water tank: keep the level at target by opening a valve in [-1, 1]."""
    params = {"target": 5.0, "length": 12}
    policies = ["expert", "timid"]
    templates = {"objective": "Keep the tank's water level at {{target}} m.",
                 "state": "Target: {{target}}\nRoom 1: {{level}}"}

    def __init__(self, target=5.0, length=12):
        self.target, self.length = float(target), int(length)
        self.observation_space = fewshot.Box(np.array([0.0]), np.array([10.0]))
        self.action_space = fewshot.Box(np.array([-1.0]), np.array([1.0]))
        self.observation_space.names = ["level"]

    def reset(self, seed=None, options=None):
        rng = np.random.default_rng(seed)
        self.level, self.t = float(rng.uniform(2, 8)), 0
        if options and "level" in options:
            self.level = float(options["level"])
        return np.array([self.level]), {}

    def step(self, action):
        a = float(np.clip(action[0], -1, 1))
        if not np.isfinite(a):
            raise ValueError("bad action")
        if self.level > 9.5 and a > 0.99:
            raise RuntimeError("the tank overflows")
        self.level = float(np.clip(self.level + a, 0, 10))
        self.t += 1
        error = abs(self.level - self.target)
        return (np.array([self.level]), -error - 0.1 * abs(a), False, self.t >= self.length,
                {"error": -error, "effort": -0.1 * abs(a)})

    def context(self, obs):
        return {"level": round(float(obs[0]), 2), "target": self.target}

    def features(self, obs):
        return [obs[0] - self.target]

    def expert(self, obs):
        return [np.clip(self.target - obs[0], -1, 1)]

    def timid(self, obs):
        return [0.5 * np.clip(self.target - obs[0], -1, 1)]


fewshot.register("tank", Tank)
raises(fewshot.Error, lambda: fewshot.register("tank", Tank), "registering twice raises")

env = fewshot.make("tank", target=4)
check(env.params == {"target": 4, "length": 12}, "params resolved: %s" % env.params)
check(env.policies == ["expert", "timid"], "named policies")
obs, _ = env.reset(seed=1)
o2, r, term, trunc, info = env.step([1.0])
check(abs(o2[0] - min(obs[0] + 1, 10)) < 1e-12 and set(info) == {"error", "effort"},
      "the step runs the Python class through the C registry (terms %s)" % info)
check(env.context() == {"level": round(float(o2[0]), 2), "target": 4.0}, "context")
rows = fewshot.rollout(env, "expert", seed=2)
check(len(rows) == 12 and abs(rows[-1][2][0] - 4) < 1e-9, "expert rollout reaches the target")
e = raises(fewshot.Error, lambda: fewshot.make("tank", volume=3), "unknown parameter raises")
check(e is not None and "volume" in str(e), "it is named: %s" % e)
env.reset(seed=0, options={"level": 9.8})
e = raises(fewshot.Error, lambda: env.step([1.0]), "an exception in step() raises")
check(e is not None and "the tank overflows" in str(e) and e.code == -9,
      "with its message and FEWSHOT_EUSER: %s (%d)" % (e, e.code if e else 0))

# Discrete action spaces (anything with n) and the old Gym 4-tuple step
class Discrete:
    def __init__(self, n):
        self.n = n


class Chain:
    def __init__(self):
        self.observation_space = fewshot.Box(np.array([0.0]), np.array([4.0]))
        self.action_space = Discrete(3)

    def reset(self, seed=None, options=None):
        self.s = 2
        return np.array([self.s])

    def step(self, action):
        if not isinstance(action, int):
            raise TypeError("expected an int action, got %r" % (action,))
        self.s = int(np.clip(self.s + action - 1, 0, 4))
        return np.array([self.s]), float(self.s == 4), self.s == 4, {}


fewshot.register("chain", Chain)
chain = fewshot.make("chain")
check(chain.action_space.shape == (1,) and chain.action_space.high[0] == 2 and
      np.issubdtype(chain.action_space.dtype, np.integer), "Discrete(3) is one integer in [0, 2]")
chain.reset(seed=0)
chain.step([2])
o, r, term, trunc, _ = chain.step([2])
check(o[0] == 4 and r == 1.0 and term and not trunc, "a 4-tuple step: terminated, not truncated")
v = fewshot.VectorEnv("chain", 2)
v.reset(seed=0)
o, r, d, t, info = v.step(np.array([[2.0], [0.0]]))
check(list(o[:, 0]) == [3, 1], "a Python env in a VectorEnv")

# the C agent acts in the Python env
agent = fewshot.Agent(env, "timid", seed=0)
obs, _ = env.reset(seed=3)
a = agent.act(obs)
check(abs(a[0] - 0.5 * np.clip(4 - obs[0], -1, 1)) < 1e-12, "Agent with a plugin policy")
agent.observe(a, env.step(a))

# a sweep over the Python env's scenarios with its policies and the library's
server = None
config = {
    "name": "tank-sweep",
    "env": {"plugin": "tank", "params": {"length": 8}},
    "scenarios": {"grid": {"target": [3, 6]}},
    "baselines": ["zero", "expert", "timid"],
    "episodes": {"seeds": [1, 2]},
}
builddir = os.environ["FEWSHOT_BUILDDIR"]
server_bin = os.path.join(builddir, "tests", "llm-server", "llm-server")
if os.access(server_bin, os.X_OK):
    port_file = tmp("llm.port")
    server = subprocess.Popen([server_bin, "--port-file", port_file, "--mode", "controller",
                               "--lifetime", "300"], stdout=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(port_file) and os.path.getsize(port_file):
            break
        time.sleep(0.01)
    port = int(open(port_file).read())
    config["arms"] = [{"name": "llm"}]
    config["demos"] = {"policy": "expert", "episodes": 2, "steps": 8, "seed": 5}
    config["llm"] = {"base_url": "http://127.0.0.1:%d/v1" % port, "model": "test",
                     "cache": {"mode": "off"}}
    config["design"] = {"reference": "expert"}
try:
    run = tmp("run")
    result = fewshot.sweep(config, run, sets=["episodes.steps=8"])
    arms = 3 + (1 if server else 0)
    check(result["ran"] == arms * 2 * 2 and result["failed"] == 0,
          "sweep ran every episode: %s" % result)
    rows = fewshot.report(run)
    by = {(r["arm"], r["scenario"]): r for r in rows}
    check(len(rows) == arms * 3 and by.get((rows[0]["arm"], "all")),
          "report rows per arm and scenario, and per arm over all: %d" % len(rows))
    check(by[("expert", "target=3")]["reward_mean"] > by[("zero", "target=3")]["reward_mean"],
          "the Python expert beats zero in the sweep")
    check("error_mean" in rows[0] and isinstance(rows[0]["episodes"], int),
          "report columns carry the Python env's terms as numbers")
    if server:
        check(by[("llm", "target=3")]["llm_calls"] > 0, "the LLM arm asked the test server")
        llm_env = fewshot.make("tank", target=3)
        agent = fewshot.Agent(llm_env, {"llm": config["llm"]}, seed=0)
        obs, _ = llm_env.reset(seed=4)
        prompt = agent.prompt(obs)
        check("Room 1: " in json.dumps(prompt) and "Target: 3" in json.dumps(prompt),
              "the Agent's prompt renders the Python env's state template")
        a = agent.act(obs)
        decision = agent.decision()
        check(agent.uses_llm and "Actions" in decision.get("reply", ""),
              "Agent.act asked the LLM: %s" % decision.get("reply"))
        check(a.shape == (1,) and -1 <= a[0] <= 1, "the parsed action is in the box: %s" % a)
        agent.observe(a, llm_env.step(a))
    again = fewshot.sweep(config, run, sets=["episodes.steps=8"])
    check(again["ran"] == 0 and again["already_done"] == arms * 4, "a second sweep resumes")
    bad = dict(config, baselines=["zero", "no-such-policy"])
    e = raises(fewshot.Error, lambda: fewshot.sweep(bad, tmp("bad")), "a bad baseline raises")
    e = raises(fewshot.Error, lambda: fewshot.sweep(dict(config, bogus=1), tmp("bad2")),
               "an unknown config key raises")
    check(e is not None and e.path == "$.bogus", "with its JSON path: %s" % (e and e.path))
finally:
    if server:
        server.terminate()
        server.wait()
finish()
