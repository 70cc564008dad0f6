"""PPO, the paper's RL expert, trained on libfewshot environments at C speed.

    python3 -m fewshot.ppo ENV [-p key=value ...] --steps N [--seed S] -o POLICY.json

Proximal policy optimization (Schulman et al. 2017) with the clipped surrogate objective,
generalized advantage estimation, value and entropy terms, running observation
normalization and n environments stepped in one C call (fewshot.VectorEnv), on PyTorch. The
actor (its mean action, deterministic) is exported as an MLP file that the C library runs as
the policy mlp:POLICY.json (fewshot env rollout --policy mlp:FILE, demos, sweep baselines)."""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

try:
    import torch
    from torch import nn
except ImportError:     # reported by main() with what to install
    torch = None

from . import mlp
from .env import VectorEnv


class RunningNorm:
    """Mean and variance of every observation element over all samples seen (parallel
    Welford update), frozen into the exported file."""

    def __init__(self, dim):
        self.mean = np.zeros(dim)
        self.var = np.ones(dim)
        self.count = 1e-4

    def update(self, batch):
        bm, bv, bn = batch.mean(axis=0), batch.var(axis=0), batch.shape[0]
        delta, total = bm - self.mean, self.count + bn
        self.mean = self.mean + delta * bn / total
        m2 = self.var * self.count + bv * bn + delta ** 2 * self.count * bn / total
        self.var, self.count = m2 / total, total

    @property
    def std(self):
        return np.sqrt(self.var + 1e-8)


def _mlp(sizes, out_gain):
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        last = i == len(sizes) - 2
        nn.init.orthogonal_(lin.weight, out_gain if last else math.sqrt(2))
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if not last:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class ActorCritic(nn.Module if torch else object):
    def __init__(self, obs_dim, act_dim, hidden, log_std):
        super().__init__()
        self.actor = _mlp([obs_dim] + hidden + [act_dim], 0.01)
        self.critic = _mlp([obs_dim] + hidden + [1], 1.0)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(log_std)))

    def dist(self, x):
        return torch.distributions.Normal(self.actor(x), self.log_std.exp())

    def value(self, x):
        return self.critic(x).squeeze(-1)

    def linears(self):
        return [m for m in self.actor if isinstance(m, nn.Linear)]


def _value_param(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m fewshot.ppo", description=__doc__.split("\n")[0])
    p.add_argument("env", help="environment name (hvac, inventory, trading, a registered one)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="environment parameter (value parsed as JSON when it parses)")
    p.add_argument("--reset", metavar="JSON", help="reset options: an object, or an array used "
                   "in turn over episodes (e.g. several start days)")
    p.add_argument("--steps", type=int, required=True, help="environment steps to train for")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="the MLP policy file to write")
    p.add_argument("--envs", type=int, default=8, help="environments stepped together")
    p.add_argument("--rollout", type=int, default=128, help="steps per environment per update")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--minibatch", type=int, default=256)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--clip", type=float, default=0.2, help="PPO ratio clip")
    p.add_argument("--vf-coef", type=float, default=0.5)
    p.add_argument("--ent-coef", type=float, default=0.0)
    p.add_argument("--max-grad-norm", type=float, default=0.5)
    p.add_argument("--log-std", type=float, default=-0.5, help="initial log std of actions")
    p.add_argument("--reward-scale", type=float, default=1.0)
    p.add_argument("--hidden", default="64,64", help="hidden layer sizes")
    p.add_argument("--obs-clip", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--eval", type=int, default=0, metavar="N",
                   help="after training, run the exported policy in the C library for N "
                   "episodes (and the --compare policies on the same seeds) and print means")
    p.add_argument("--compare", default="", metavar="P1,P2",
                   help="policies to evaluate beside the trained one (e.g. thermostat,mpc)")
    a = p.parse_args(argv)
    params = {}
    for item in a.param:
        if "=" not in item:
            p.error("-p %s: expected KEY=VALUE" % item)
        k, v = item.split("=", 1)
        params[k] = _value_param(v)
    a.params = params
    a.hidden = [int(h) for h in a.hidden.split(",") if h]
    try:
        a.reset_options = json.loads(a.reset) if a.reset else None
    except ValueError as e:
        p.error("--reset: not JSON (%s)" % e)
    if a.reset_options is not None and not isinstance(a.reset_options, (dict, list)):
        p.error("--reset: expected a JSON object or an array of objects")
    if a.steps <= 0 or a.envs <= 0 or a.rollout <= 0:
        p.error("--steps, --envs and --rollout must be positive")
    return a


def _bounds(space):
    low, high = np.asarray(space.low, float), np.asarray(space.high, float)
    finite = bool(np.all(np.isfinite(low)) and np.all(np.isfinite(high)))
    return low, high, finite


def train(a, progress=sys.stderr, venv=None):
    """Train and export; returns a summary dict (steps, updates, seconds, steps_per_second,
    env_seconds, mean_return of the last episodes). venv: another vector environment with
    VectorEnv's interface (the benchmark's NumPy one); default VectorEnv(a.env, a.envs)."""
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    if venv is None:
        venv = VectorEnv(a.env, a.envs, **a.params)
    k = venv.single_observation_space.shape[0]
    m = venv.single_action_space.shape[0]
    low, high, finite = _bounds(venv.single_action_space)
    model = ActorCritic(k, m, a.hidden, a.log_std)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, eps=1e-5)
    norm = RunningNorm(k)
    n, T = a.envs, a.rollout
    updates = max(1, math.ceil(a.steps / (n * T)))
    obs, _ = venv.reset(seed=a.seed, options=a.reset_options)
    norm.update(obs)
    ep_ret, ep_len = np.zeros(n), np.zeros(n, dtype=int)
    finished = []
    start = time.perf_counter()
    env_seconds = 0.0
    steps = 0

    def normalize(o):
        return np.clip((o - norm.mean) / norm.std, -a.obs_clip, a.obs_clip)

    for update in range(updates):
        frac = 1.0 - update / updates
        for g in opt.param_groups:
            g["lr"] = a.lr * frac
        b_obs = np.zeros((T, n, k))
        b_act = np.zeros((T, n, m))
        b_logp = np.zeros((T, n))
        b_rew = np.zeros((T, n))
        b_done = np.zeros((T, n))
        b_val = np.zeros((T, n))
        b_boot = np.zeros((T, n))     # value of the final observation of truncated episodes
        for t in range(T):
            x = normalize(obs)
            with torch.no_grad():
                xt = torch.as_tensor(x, dtype=torch.float32)
                d = model.dist(xt)
                act = d.sample()
                b_logp[t] = d.log_prob(act).sum(-1).numpy()
                b_val[t] = model.value(xt).numpy()
            act = act.numpy().astype(np.float64)
            env_act = np.clip(act, -1, 1)
            if finite:
                env_act = low + (env_act + 1.0) * 0.5 * (high - low)
            t0 = time.perf_counter()
            nobs, rew, term, trunc, info = venv.step(env_act)
            env_seconds += time.perf_counter() - t0
            b_obs[t], b_act[t] = x, act
            b_rew[t] = rew * a.reward_scale
            b_done[t] = term | trunc
            if trunc.any():
                idx = np.nonzero(trunc & ~term)[0]
                if idx.size:
                    fx = torch.as_tensor(normalize(info["final_obs"][idx]), dtype=torch.float32)
                    with torch.no_grad():
                        b_boot[t, idx] = model.value(fx).numpy()
            ep_ret += rew
            ep_len += 1
            for i in np.nonzero(term | trunc)[0]:
                finished.append(ep_ret[i])
                ep_ret[i], ep_len[i] = 0.0, 0
            obs = nobs
            norm.update(obs)
            steps += n
        with torch.no_grad():
            last_val = model.value(torch.as_tensor(normalize(obs), dtype=torch.float32)).numpy()
        adv = np.zeros((T, n))
        gae = np.zeros(n)
        for t in reversed(range(T)):
            next_val = last_val if t == T - 1 else b_val[t + 1]
            nonterminal = 1.0 - b_done[t]
            target_next = nonterminal * next_val + b_boot[t]
            delta = b_rew[t] + a.gamma * target_next - b_val[t]
            gae = delta + a.gamma * a.gae_lambda * nonterminal * gae
            adv[t] = gae
        ret = adv + b_val
        fo = torch.as_tensor(b_obs.reshape(T * n, k), dtype=torch.float32)
        fa = torch.as_tensor(b_act.reshape(T * n, m), dtype=torch.float32)
        flp = torch.as_tensor(b_logp.reshape(-1), dtype=torch.float32)
        fadv = torch.as_tensor(adv.reshape(-1), dtype=torch.float32)
        fret = torch.as_tensor(ret.reshape(-1), dtype=torch.float32)
        total = T * n
        mb = min(a.minibatch, total)
        for _ in range(a.epochs):
            perm = rng.permutation(total)
            for s in range(0, total, mb):
                idx = torch.as_tensor(perm[s:s + mb])
                d = model.dist(fo[idx])
                logp = d.log_prob(fa[idx]).sum(-1)
                ratio = (logp - flp[idx]).exp()
                ad = fadv[idx]
                ad = (ad - ad.mean()) / (ad.std() + 1e-8)
                pg = -torch.min(ratio * ad, ratio.clamp(1 - a.clip, 1 + a.clip) * ad).mean()
                vloss = 0.5 * (model.value(fo[idx]) - fret[idx]).pow(2).mean()
                ent = d.entropy().sum(-1).mean()
                loss = pg + a.vf_coef * vloss - a.ent_coef * ent
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), a.max_grad_norm)
                opt.step()
        recent = finished[-4 * n:]
        if progress and not a.quiet:
            el = time.perf_counter() - start
            progress.write("\rppo: %d/%d steps  update %d/%d  episodes %d  return %.3f  "
                           "%.0f steps/s " % (steps, updates * n * T, update + 1, updates,
                                              len(finished),
                                              float(np.mean(recent)) if recent else float("nan"),
                                              steps / el if el > 0 else 0.0))
            progress.flush()
    seconds = time.perf_counter() - start
    if progress and not a.quiet:
        progress.write("\n")
    recent = finished[-4 * n:]
    summary = {"steps": steps, "updates": updates, "seconds": round(seconds, 3),
               "steps_per_second": round(steps / seconds, 1) if seconds > 0 else None,
               "env_seconds": round(env_seconds, 3),
               "episodes": len(finished),
               "mean_return": float(np.mean(recent)) if recent else None}
    meta = {"trainer": "fewshot.ppo", "env": a.env, "params": a.params,
            "reset": a.reset_options, "seed": a.seed, "hidden": a.hidden}
    meta.update(summary)
    lins = model.linears()
    if a.output:
        mlp.export(a.output, lins, ["tanh"] * (len(lins) - 1) + ["linear"], norm.mean, norm.std,
                   a.obs_clip, low if finite else None, high if finite else None,
                   "clip" if finite else "none", meta)
    venv.close()
    return summary


def evaluate(a, episodes, compare=()):
    """Mean episode return of the exported policy (run by the C library as mlp:FILE) and of
    the compare policies, on the same seeds and reset options (cycled as in training)."""
    from .env import make, rollout
    env = make(a.env, **a.params)
    opts = a.reset_options
    means = {}
    for spec in ["mlp:" + a.output] + list(compare):
        total = 0.0
        for k in range(episodes):
            o = opts[k % len(opts)] if isinstance(opts, list) and opts else opts
            total += sum(r[1] for r in rollout(env, spec, seed=10 ** 6 + k, options=o))
        means[spec] = total / episodes
    env.close()
    return means


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if torch is None:
        sys.stderr.write("fewshot.ppo: PyTorch is not importable; install python3-torch\n")
        return 2
    from ._lib import Error
    out_dir = os.path.dirname(os.path.abspath(a.output))
    if not os.access(out_dir, os.W_OK):     # say so now, not after the training
        sys.stderr.write("fewshot.ppo: -o %s: cannot write into %s\n" % (a.output, out_dir))
        return 2
    try:
        summary = train(a)
    except Error as e:
        sys.stderr.write("fewshot.ppo: %s\n" % e)
        return 2
    except OSError as e:
        sys.stderr.write("fewshot.ppo: %s\n" % e)
        return 1
    sys.stderr.write("ppo: wrote %s (%d steps in %.1f s, %.0f steps/s)\n" %
                     (a.output, summary["steps"], summary["seconds"],
                      summary["steps_per_second"] or 0))
    if a.eval > 0:
        try:
            means = evaluate(a, a.eval, [c for c in a.compare.split(",") if c])
        except Error as e:
            sys.stderr.write("fewshot.ppo: evaluation: %s\n" % e)
            return 2
        sys.stderr.write("ppo: mean return over %d episodes: %s\n" % (a.eval, ", ".join(
            "%s %.3f" % ("ppo" if s.startswith("mlp:") else s, v) for s, v in means.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
