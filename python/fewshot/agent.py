"""The decision loop from Python: an LLM agent (an arm's sections) or a baseline policy."""
import numpy as np

from . import _lib
from ._lib import check, ffi, lib


class Agent:
    """Agent(env, arm, seed=0): arm is a dict of an arm's sections ({"demos", "embedding",
    "selection", "prompt", "parse", "llm"}, see fewshot-config(5)) for the LLM loop, or a
    policy spec string ("expert", "zero", "mlp:POLICY.json", "knn-imitation", ...).

        obs, _ = env.reset(seed=0)
        action = agent.act(obs)
        step = env.step(action)
        agent.observe(action, step)     # step: the 5-tuple env.step returned"""

    def __init__(self, env, arm=None, seed=0):
        self.env = env
        opts = ffi.new("fewshot_agent_options *")
        check(lib.fewshot_agent_options_init(opts, _lib.AGENT_OPTIONS_VERSION))
        self._policy = None
        self._arm = ffi.NULL
        if isinstance(arm, str):
            self._policy = ffi.new("char[]", arm.encode())
            opts.policy = self._policy
        elif arm is not None:
            self._arm = _lib.to_json(arm)
            opts.arm = self._arm
        opts.seed = int(seed)
        out = ffi.new("fewshot_agent **")
        try:
            check(lib.fewshot_agent_new(out, env.handle, opts))
        except Exception:
            _lib.decref(self._arm)
            self._arm = ffi.NULL
            raise
        self._h = ffi.gc(out[0], lib.fewshot_agent_free)
        self._act_dim = env.action_space.shape[0]
        self._obs_dim = env.observation_space.shape[0]

    @property
    def uses_llm(self):
        return bool(lib.fewshot_agent_uses_llm(self._h))

    def reset(self, seed=0):
        """A new episode: forget the online buffer, reseed."""
        check(lib.fewshot_agent_reset(self._h, int(seed)))

    def act(self, obs):
        o = np.ascontiguousarray(obs, dtype=np.float64)
        action = np.zeros(self._act_dim)
        check(lib.fewshot_agent_act(self._h, ffi.cast("double *", ffi.from_buffer(o)),
                                    ffi.cast("double *", ffi.from_buffer(action))))
        return action

    def observe(self, action, step):
        """Feed back the outcome of action: step is (obs, reward, terminated, truncated,
        info) as Env.step returns it."""
        obs, reward, terminated, truncated, info = step
        a = np.ascontiguousarray(action, dtype=np.float64)
        o = np.ascontiguousarray(obs, dtype=np.float64)
        st = ffi.new("fewshot_step *")
        st.obs = ffi.cast("double *", ffi.from_buffer(o))
        st.reward = float(reward)
        st.done, st.truncated = int(bool(terminated)), int(bool(truncated))
        terms = _lib.to_json(info) if info else ffi.NULL
        st.terms = terms
        try:
            check(lib.fewshot_agent_observe(self._h, ffi.cast("double *", ffi.from_buffer(a)),
                                            st))
        finally:
            _lib.decref(terms)

    def prompt(self, obs):
        """The prompt the agent would send for obs, without sending it (a dict)."""
        o = np.ascontiguousarray(obs, dtype=np.float64)
        out = ffi.new("json_t **")
        check(lib.fewshot_agent_prompt(self._h, ffi.cast("double *", ffi.from_buffer(o)), out))
        return _lib.take_json(out[0])

    def decision(self):
        """What the last decision did (prompt hash, reply, demos, parse outcome, tokens)."""
        return _lib.take_json(lib.fewshot_agent_decision(self._h))

    def __del__(self):
        if getattr(self, "_arm", ffi.NULL) != ffi.NULL:
            _lib.decref(self._arm)
            self._arm = ffi.NULL
