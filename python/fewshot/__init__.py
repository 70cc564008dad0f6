"""fewshot: Python bindings of libfewshot, training-free few-shot decision making.

    import fewshot
    env = fewshot.make("hvac", building="OfficeSmall", weather="Hot_Dry")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

Also: VectorEnv (n environments in one C call), register (Python environments for the C
agent and sweeps), Agent, sweep, report, Policy (zero, random, const:V, file:, mlp:, the
plugin's), Error (the C library's message, file, line, column, JSON path), and the PPO
expert: python3 -m fewshot.ppo. See fewshot-python(7)."""
from ._lib import Error, library_path, version
from .agent import Agent
from .env import Env, Policy, VectorEnv, make, rollout
from .register import register
from .spaces import Box, SimpleBox
from .sweep import report, resolve, sweep

__all__ = ["Agent", "Box", "Env", "Error", "Policy", "SimpleBox", "VectorEnv", "library_path",
           "make", "register", "report", "resolve", "rollout", "sweep", "version", "envs"]


def envs():
    """The environments the library finds: a list of {"name", "summary", "version", "file"}
    (with "error" for plugins that fail to load)."""
    from . import _lib as L
    out = L.ffi.new("json_t **")
    L.check(L.lib.fewshot_env_plugin_list(out))
    return L.take_json(out[0])
