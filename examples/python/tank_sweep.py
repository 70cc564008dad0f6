"""A few-shot LLM agent on an environment written in Python, without writing C.

The tank class has Gymnasium's methods; fewshot.register puts it in the C library's registry,
so a sweep runs an LLM arm (retrieving demonstrations from the class's own expert) against the
baselines, and fewshot.report returns the summary rows.

    PYTHONPATH=python python3 examples/python/tank_sweep.py RUN_DIR [BASE_URL MODEL]

Without BASE_URL and MODEL only the baselines run (the LLM arm is skipped with a message)."""
import sys

import numpy as np

import fewshot


class Tank:
    """Keep a tank's water level at a target by opening a valve (-1 drains, +1 fills)."""
    params = {"target": 5.0, "length": 12}
    policies = ["expert"]
    templates = {"objective": "You control a valve to keep a water tank at its target level.",
                 "state": "Target: {{target}}\nRoom 1: {{level}}"}

    def __init__(self, target=5.0, length=12):
        self.target, self.length = float(target), int(length)
        self.observation_space = fewshot.Box(np.array([0.0]), np.array([10.0]))
        self.action_space = fewshot.Box(np.array([-1.0]), np.array([1.0]))

    def reset(self, seed=None, options=None):
        self.level = float(np.random.default_rng(seed).uniform(1, 9))
        self.t = 0
        return np.array([self.level]), {}

    def step(self, action):
        a = float(np.clip(action[0], -1, 1))
        self.level = float(np.clip(self.level + a, 0, 10))
        self.t += 1
        error = abs(self.level - self.target)
        return (np.array([self.level]), -error - 0.1 * abs(a), False, self.t >= self.length,
                {"error": -error, "effort": -0.1 * abs(a)})

    def context(self, obs):
        return {"level": round(float(obs[0]), 1), "target": self.target}

    def features(self, obs):
        return [obs[0] - self.target]

    def expert(self, obs):
        return [np.clip(self.target - obs[0], -1, 1)]


def main(run_dir, base_url=None, model=None):
    fewshot.register("tank", Tank)
    config = {
        "name": "tank",
        "env": {"plugin": "tank"},
        "scenarios": {"grid": {"target": [3, 7]}},
        "demos": {"policy": "expert", "episodes": 4, "steps": 12, "seed": 100},
        "selection": {"knn": 3, "history": 2},
        "arms": [{"name": "llm"}],
        "baselines": ["expert", "zero", "random"],
        "design": {"reference": "expert"},
        "episodes": {"seeds": {"count": 3}, "steps": 12},
    }
    if base_url:
        config["llm"] = {"base_url": base_url, "model": model, "temperature": 0}
    result = fewshot.sweep(config, run_dir)
    print("ran %d episodes (%d skipped)" % (result["ran"], result["skipped"]))
    for row in fewshot.report(run_dir):
        print("%-8s %-10s reward %8.3f +- %.3f" % (row["arm"], row["scenario"],
                                                   row["reward_mean"], row["reward_ci95"]))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 4):
        sys.exit(__doc__)
    main(*sys.argv[1:])
