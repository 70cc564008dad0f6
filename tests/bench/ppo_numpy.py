"""PPO training speed on libfewshot's VectorEnv against an equivalent NumPy environment in the
style of BEAR (the per-step work of BuildingEnvReal.step, as tests/bench/hvac_numpy.py times
it, on the same OfficeSmall matrices), n instances stepped in a Python loop as Gymnasium's
SyncVectorEnv does. Same trainer, same settings, same run; prints one line of rates.

usage: ppo_numpy.py MATRICES_FILE STEPS"""
import sys
import time

import numpy as np
from numpy import linalg as LA

import fewshot
from fewshot import ppo


class BearNumpy:
    """One BEAR-style building: x' = Ad x + Bd u with u assembled per step, 24-step episodes."""

    def __init__(self, ad, bd):
        self.ad, self.bd = ad, bd
        self.n = ad.shape[0]
        self.out_temp = 12 + 8 * np.sin(np.linspace(0, 2 * np.pi, 25))
        self.ghi = np.clip(np.sin(np.linspace(-np.pi / 2, 3 * np.pi / 2, 25)), 0, 1)
        self.ground = np.full(25, 20.9)
        self.target = np.full(self.n, 22.0)

    def obs(self):
        t = self.t
        return np.concatenate((self.x, [self.out_temp[t], self.ghi[t], self.ground[t], 0.0]))

    def reset(self, seed):
        rng = np.random.default_rng(seed)
        self.x = rng.uniform(18, 26, self.n)
        self.t = 0
        return self.obs()

    def step(self, action):
        t = self.t
        y = np.insert(np.append(action, self.ghi[t]), 0, self.out_temp[t]).T
        y = np.insert(y, 0, self.ground[t]).T
        avg = np.sum(self.x) / self.n
        meta = 120.0
        occ = (6.461927 + 0.946892 * meta + 0.0000255737 * meta ** 2
               - 0.0627909 * avg * meta + 0.0000589172 * avg * meta ** 2
               - 0.19855 * avg ** 2 + 0.000940018 * avg ** 2 * meta
               - 0.00000149532 * avg ** 2 * meta ** 2) * 0.0
        y = np.insert(y, 0, occ).T
        self.x = self.ad @ self.x + self.bd @ y
        error = self.x - self.target
        reward = -(LA.norm(action, 2) * 0.024 + LA.norm(error, 2) * 0.999)
        self.t += 1
        return self.obs(), reward, False, self.t >= 24


class BearVector:
    """n BearNumpy instances behind fewshot.VectorEnv's interface (same-step autoreset)."""

    def __init__(self, ad, bd, n):
        self.envs = [BearNumpy(ad, bd) for _ in range(n)]
        self.num_envs = n
        k, m = ad.shape[0] + 4, bd.shape[1] - 4
        self.single_observation_space = fewshot.Box(np.full(k, -np.inf), np.full(k, np.inf))
        self.single_action_space = fewshot.Box(-np.ones(m), np.ones(m))

    def reset(self, seed=0, options=None):
        self.seed = seed + self.num_envs
        return np.array([e.reset(seed + i) for i, e in enumerate(self.envs)]), {}

    def step(self, actions):
        n = self.num_envs
        obs, final = [], []
        rew, term, trunc = np.zeros(n), np.zeros(n, bool), np.zeros(n, bool)
        for i, e in enumerate(self.envs):
            o, rew[i], term[i], trunc[i] = e.step(actions[i])
            final.append(o)
            if term[i] or trunc[i]:
                o = e.reset(self.seed)
                self.seed += 1
            obs.append(o)
        return np.array(obs), rew, term, trunc, {"final_obs": np.array(final)}

    def close(self):
        pass


def main(path, steps):
    with open(path) as f:
        n, m = (int(v) for v in f.readline().split())
        rows = [list(map(float, line.split())) for line in f]
    ad, bd = np.array(rows[:n]), np.array(rows[n:2 * n])
    common = ["--steps", str(steps), "--envs", "8", "--rollout", "128", "--quiet", "--seed", "1",
              "-o", ""]
    out = {}
    warm = ppo.parse_args(["hvac", "--steps", "2048", "--quiet", "-o", ""])
    warm.output = None
    ppo.train(warm, progress=None)      # torch's first-use costs stay out of the timings
    for label in ("fewshot", "numpy"):
        a = ppo.parse_args(["hvac", "-p", "building=OfficeSmall"] + common)
        a.output = None
        venv = BearVector(ad, bd, 8) if label == "numpy" else None
        start = time.process_time()
        s = ppo.train(a, progress=None, venv=venv)
        cpu = time.process_time() - start
        out[label] = (s["steps"] / cpu, s["steps"] / max(s["env_seconds"], 1e-9))
    (cf, ce), (nf, ne) = out["fewshot"], out["numpy"]
    print("ppo training (CPU time, %d steps, 8 envs): fewshot.VectorEnv %.0f steps/s, NumPy "
          "BEAR-style %.0f steps/s, %.2fx; env stepping alone: %.0f/s vs %.0f/s, %.1fx" %
          (steps, cf, nf, cf / nf, ce, ne, ce / ne))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
