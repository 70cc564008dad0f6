"""Environments with the Gymnasium API over libfewshot env handles, the vectorized env, and
the library's simple policies (zero, random, const:V, file:, mlp:, the plugin's own)."""
import numpy as np

from . import _lib
from ._lib import Error, check, ffi, lib
from .spaces import space_from_c

try:    # with gymnasium importable, environments are gymnasium.Env (wrappers check for it)
    from gymnasium import Env as _EnvBase
except ImportError:
    _EnvBase = object


def _dptr(a):
    return ffi.cast("double *", ffi.from_buffer(a))


def _params_json(params):
    return _lib.to_json(dict(params))


class Env(_EnvBase):
    """One environment: fewshot.make(name, **params) or Env(name, **params).

    reset(seed=None, options=None) -> (obs, info); step(action) -> (obs, reward, terminated,
    truncated, info) with the reward terms in info; observation_space, action_space;
    context(obs), features(obs), policies, params; close()."""

    metadata = {"render_modes": []}
    render_mode = None

    def __init__(self, name, **params):
        self.name = name
        out = ffi.new("fewshot_env **")
        j = _params_json(params)
        try:
            check(lib.fewshot_env_new(out, name.encode(), j))
        finally:
            _lib.decref(j)
        self._h = ffi.gc(out[0], lib.fewshot_env_free)
        self._attach()

    @classmethod
    def _borrow(cls, handle, name, owner):
        self = cls.__new__(cls)
        self.name, self._h, self._owner = name, handle, owner
        self._attach()
        return self

    def _attach(self):
        self.observation_space = space_from_c(lib.fewshot_env_obs_space(self._h))
        self.action_space = space_from_c(lib.fewshot_env_act_space(self._h))
        self._obs_dim = self.observation_space.shape[0]
        self._act_dim = self.action_space.shape[0]
        self._next_seed = 0
        self._step = ffi.new("fewshot_step *")
        self._obs = np.zeros(self._obs_dim)

    @property
    def handle(self):
        if self._h is None:
            raise Error("the environment is closed")
        return self._h

    @property
    def params(self):
        """The resolved parameters (defaults filled in)."""
        out = ffi.new("json_t **")
        check(lib.fewshot_env_params(self.handle, out))
        return _lib.take_json(out[0])

    @property
    def policies(self):
        """The plugin's named policies (the first is its "expert")."""
        names = lib.fewshot_env_policies(self.handle)
        out, i = [], 0
        while names[i] != ffi.NULL:
            out.append(ffi.string(names[i]).decode())
            i += 1
        return out

    def reset(self, seed=None, options=None):
        if seed is None:
            seed = self._next_seed
        self._next_seed = int(seed) + 1
        obs = np.zeros(self._obs_dim)
        j = _lib.to_json(options)
        try:
            check(lib.fewshot_env_reset(self.handle, int(seed), j, _dptr(obs)))
        finally:
            _lib.decref(j)
        self._obs = obs
        return obs.copy(), {"seed": int(seed)}

    def step(self, action):
        a = np.ascontiguousarray(action, dtype=np.float64).reshape(-1)
        if a.shape[0] != self._act_dim:
            raise Error("%s: expected %d action values, got %d" % (self.name, self._act_dim,
                                                                   a.shape[0]), -3)
        obs = np.zeros(self._obs_dim)
        st = self._step
        st.obs = _dptr(obs)
        st.terms = ffi.NULL
        check(lib.fewshot_env_step(self.handle, _dptr(a), st))
        info = _lib.take_json(st.terms) or {}
        st.terms = ffi.NULL
        self._obs = obs
        return obs.copy(), float(st.reward), bool(st.done), bool(st.truncated), info

    def context(self, obs=None):
        """The translator context of obs (default: the latest observation)."""
        out = ffi.new("json_t **")
        o = ffi.NULL if obs is None else _dptr(np.ascontiguousarray(obs, dtype=np.float64))
        check(lib.fewshot_env_context(self.handle, o, out))
        return _lib.take_json(out[0])

    def features(self, obs=None):
        """The fixed-size feature vector of obs (default: the latest observation)."""
        buf = ffi.new("float[]", 1024)
        dim = ffi.new("size_t *")
        o = ffi.NULL if obs is None else _dptr(np.ascontiguousarray(obs, dtype=np.float64))
        check(lib.fewshot_env_features(self.handle, o, buf, 1024, dim))
        return np.frombuffer(ffi.buffer(buf, 4 * min(dim[0], 1024)), dtype=np.float32).copy()

    def policy(self, spec="expert", seed=0):
        """A library policy acting in this env (see Policy)."""
        return Policy(self, spec, seed)

    def close(self):
        if getattr(self, "_owner", None) is None and self._h is not None:
            ffi.release(self._h)     # runs fewshot_env_free now
        self._h = None

    @property
    def unwrapped(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<fewshot.Env %s obs=%d act=%d>" % (self.name, self._obs_dim, self._act_dim)


def make(name, **params):
    """An environment with the Gymnasium API: a plugin (hvac, inventory, trading, a file path)
    or a Python environment registered with fewshot.register()."""
    return Env(name, **params)


class Policy:
    """A libfewshot policy from a spec: zero, random, const:V, file:ACTIONS.csv,
    mlp:POLICY.json or a plugin policy (expert, mpc, thermostat, ...)."""

    def __init__(self, env, spec, seed=0):
        self.env, self.spec = env, spec
        out = ffi.new("fewshot_policy **")
        check(lib.fewshot_policy_new(out, env.handle, spec.encode(), int(seed)))
        self._h = ffi.gc(out[0], lib.fewshot_policy_free)
        self._act_dim = env.action_space.shape[0]

    def act(self, obs=None):
        action = np.zeros(self._act_dim)
        o = ffi.NULL if obs is None else _dptr(np.ascontiguousarray(obs, dtype=np.float64))
        check(lib.fewshot_policy_act(self._h, o, _dptr(action)))
        return action

    __call__ = act

    def reset(self, seed=0):
        lib.fewshot_policy_reset(self._h, int(seed))


def rollout(env, policy="expert", steps=None, seed=0, options=None):
    """One episode as `fewshot env rollout` runs it: reset with seed (and reset options), the
    policy seeded with seed, at most steps steps (None: until done or truncated). Returns rows
    of (step, reward, obs after the step, action), as numpy arrays for obs and action."""
    pol = policy if isinstance(policy, Policy) else Policy(env, policy, seed)
    obs, _ = env.reset(seed=seed, options=options)
    rows, t = [], 1
    while steps is None or t <= steps:
        action = pol.act(obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        rows.append((t, reward, obs, action))
        if terminated or truncated:
            break
        t += 1
    return rows


class VectorEnv:
    """n instances of one environment stepped in one C call (fewshot_vecenv).

    reset(seed=None, options=None) -> (obs[n, k], info); step(actions[n, m]) -> (obs, rewards,
    terminated, truncated, info). Finished instances are reset in the same step (Gymnasium's
    same-step autoreset); info["final_obs"] holds every instance's observation before that
    reset. Episode j (counting from reset) uses seed + j."""

    def __init__(self, name, n, **params):
        self.name, self.num_envs = name, int(n)
        out = ffi.new("fewshot_vecenv **")
        j = _params_json(params)
        try:
            check(lib.fewshot_vecenv_new(out, name.encode(), j, self.num_envs))
        finally:
            _lib.decref(j)
        self._h = ffi.gc(out[0], lib.fewshot_vecenv_free)
        first = lib.fewshot_vecenv_env(self._h, 0)
        self.single_observation_space = space_from_c(lib.fewshot_env_obs_space(first))
        self.single_action_space = space_from_c(lib.fewshot_env_act_space(first))
        self.observation_space = self.single_observation_space
        self.action_space = self.single_action_space
        k, m = self.single_observation_space.shape[0], self.single_action_space.shape[0]
        self._k, self._m = k, m
        self._obs = np.zeros((self.num_envs, k))
        self._final = np.zeros((self.num_envs, k))
        self._rew = np.zeros(self.num_envs)
        self._done = np.zeros(self.num_envs, dtype=np.intc)
        self._trunc = np.zeros(self.num_envs, dtype=np.intc)
        self._next_seed = 0

    def env(self, i):
        """Instance i as an Env (borrowed: valid while this VectorEnv lives)."""
        if not 0 <= i < self.num_envs:
            raise IndexError(i)
        return Env._borrow(lib.fewshot_vecenv_env(self._h, i), self.name, self)

    def reset(self, seed=None, options=None):
        if seed is None:
            seed = self._next_seed
        self._next_seed = int(seed) + 1000003
        j = _lib.to_json(options)
        try:
            check(lib.fewshot_vecenv_reset(self._h, int(seed), j, _dptr(self._obs)))
        finally:
            _lib.decref(j)
        return self._obs.copy(), {}

    def step(self, actions):
        a = np.ascontiguousarray(actions, dtype=np.float64)
        if a.shape != (self.num_envs, self._m):
            raise Error("%s: expected actions of shape (%d, %d), got %s" %
                        (self.name, self.num_envs, self._m, a.shape), -3)
        check(lib.fewshot_vecenv_step(self._h, _dptr(a), _dptr(self._obs), _dptr(self._rew),
                                      ffi.cast("int *", ffi.from_buffer(self._done)),
                                      ffi.cast("int *", ffi.from_buffer(self._trunc)),
                                      _dptr(self._final)))
        return (self._obs.copy(), self._rew.copy(), self._done.astype(bool),
                self._trunc.astype(bool), {"final_obs": self._final.copy()})

    def close(self):
        if self._h is not None:
            ffi.release(self._h)
        self._h = None
