"""Environments written in Python, registered in the C library's in-process registry so the
agent, fewshot.sweep and everything else use them like a compiled plugin.

    class Tank:
        params = {"target": 5.0}                 # optional: parameter names and defaults
        policies = ["expert"]                     # optional: methods named like the policy
        templates = {"objective": "..."}          # optional: default prompt templates
        def __init__(self, target=5.0): ...
        observation_space = Box(...); action_space = Box(...)
        def reset(self, seed=None, options=None): return obs, info
        def step(self, action): return obs, reward, terminated, truncated, info
        def context(self, obs): return {...}      # optional (templates' view of obs)
        def features(self, obs): return [...]     # optional (fixed size)
        def expert(self, obs): return action
    fewshot.register("tank", Tank)

Numbers in step()'s info become the reward terms (or info["terms"] when it is a dict).
Gymnasium's Discrete spaces map to one integer element [0, n-1]. An exception in any method
becomes the C error (FEWSHOT_EUSER) with its type and message."""
import json
import numbers
import threading

import numpy as np

from . import _lib
from ._lib import Error, ffi, lib

_registered = {}        # name -> everything C holds pointers into (kept for the process)
_instances = {}         # id -> live instance wrappers (the C self pointers' targets)
_lock = threading.Lock()


def _bounds(space, what):
    """(low, high, integer) of a Box-like or Discrete-like space."""
    if hasattr(space, "low") and hasattr(space, "high"):
        low = np.asarray(space.low, dtype=np.float64).reshape(-1)
        high = np.asarray(space.high, dtype=np.float64).reshape(-1)
        integer = np.issubdtype(np.dtype(getattr(space, "dtype", np.float64)), np.integer)
        return low, high, integer, False
    if hasattr(space, "n"):
        start = float(getattr(space, "start", 0))
        return (np.array([start]), np.array([start + int(space.n) - 1]), True, True)
    raise TypeError("%s must be a Box (low, high) or a Discrete (n)" % what)


class _Instance:
    """One Python env object and the buffers C reads (spaces, templates) while it lives."""

    def __init__(self, obj, params):
        self.obj, self.params = obj, params
        self.keep = []
        olow, ohigh, oint, _ = _bounds(obj.observation_space, "observation_space")
        alow, ahigh, aint, self.discrete = _bounds(obj.action_space, "action_space")
        self.obs_dim, self.act_dim = olow.size, alow.size
        self.spaces = (olow, ohigh, oint), (alow, ahigh, aint)
        self.handle = ffi.new_handle(self)

    def fill(self, space, bounds, names):
        low, high, integer = bounds
        a, b = ffi.new("double[]", list(low)), ffi.new("double[]", list(high))
        self.keep += [a, b]
        space.dim, space.low, space.high, space.integer = low.size, a, b, int(integer)
        if names:
            cs = [ffi.new("char[]", str(n).encode()) for n in names]
            arr = ffi.new("char *[]", cs)
            self.keep += cs + [arr]
            space.names = arr
        else:
            space.names = ffi.NULL

    def write_obs(self, obs, out):
        o = np.asarray(obs, dtype=np.float64).reshape(-1)
        if o.size != self.obs_dim:
            raise ValueError("expected an observation of %d values, got %d" %
                             (self.obs_dim, o.size))
        ffi.memmove(out, o.tobytes(), 8 * self.obs_dim)

    def action(self, ptr):
        a = np.frombuffer(ffi.buffer(ptr, 8 * self.act_dim), dtype=np.float64).copy()
        return int(round(a[0])) if self.discrete else a


def _terms(info):
    if not isinstance(info, dict):
        return None
    if isinstance(info.get("terms"), dict):
        return info["terms"]
    return {k: float(v) for k, v in info.items()
            if isinstance(v, numbers.Real) and not isinstance(v, bool)}


def _self(p):
    return ffi.from_handle(p)


def _guard(fn):
    """Run a callback body, turning exceptions into the C error."""
    def wrapped(*args):
        try:
            return fn(*args)
        except Exception as e:      # every failure must reach C as a code, never unwind it
            return _lib.set_error(e)
    return wrapped


def _names_of(space):
    names = getattr(space, "names", None)
    return list(names) if names is not None and len(names) else None


class _Table:
    """The fewshot_env_plugin table and callbacks for one registered class."""

    def __init__(self, name, cls, params, summary, version):
        self.name, self.cls = name, cls
        self.defaults = dict(params if params is not None else getattr(cls, "params", {}) or {})
        doc = {"params": {k: {"type": "any", "default": v,
                              "doc": "parameter of the Python class %s" % cls.__name__}
                          for k, v in self.defaults.items()}}
        pol = getattr(cls, "policies", None) or []
        self.policy_map = dict(pol) if isinstance(pol, dict) else {p: p for p in pol}
        self.templates = {k: ffi.new("char[]", v.encode())
                          for k, v in (getattr(cls, "templates", None) or {}).items()}
        self.strings = [ffi.new("char[]", s.encode()) for s in
                        (name, summary or ("Python environment %s.%s" %
                                           (cls.__module__, cls.__name__)),
                         version, json.dumps(doc))]
        self.policy_names = [ffi.new("char[]", p.encode()) for p in self.policy_map]
        self.policy_array = ffi.new("char *[]", self.policy_names + [ffi.NULL])
        t = ffi.new("fewshot_env_plugin *")
        t.abi = _lib.PLUGIN_ABI
        t.name, t.summary, t.version, t.params_doc = self.strings
        self.callbacks = [
            ffi.callback("int(void **, const json_t *)", _guard(self.create)),
            ffi.callback("void(void *)", self.destroy),
            ffi.callback("int(void *, fewshot_space *, fewshot_space *)", _guard(self.spaces)),
            ffi.callback("int(void *, json_t **)", _guard(self.params)),
            ffi.callback("int(void *, uint64_t, const json_t *, double *)", _guard(self.reset)),
            ffi.callback("int(void *, const double *, fewshot_step *)", _guard(self.step)),
            ffi.callback("int(void *, const double *, json_t **)", _guard(self.context)),
            ffi.callback("int(void *, const double *, float *, size_t, size_t *)",
                         _guard(self.features)),
            ffi.callback("int(void *, const char *, const double *, double *)",
                         _guard(self.policy)),
            ffi.callback("const char *(void *, const char *)", self.template_text),
        ]
        (t.create, t.destroy, t.spaces, t.params, t.reset, t.step, t.context, t.features,
         t.policy, t.template_text) = self.callbacks
        t.policies = self.policy_array if self.policy_map else ffi.NULL
        self.table = t

    def create(self, out, params):
        p = _lib.from_json(params) or {}
        inst = _Instance(self.cls(**p), p)
        with _lock:
            _instances[id(inst)] = inst
        out[0] = inst.handle
        return 0

    def destroy(self, p):
        inst = _self(p)
        try:
            close = getattr(inst.obj, "close", None)
            if close:
                close()
        except Exception:       # destroy cannot report; never let it unwind into C
            pass
        with _lock:
            _instances.pop(id(inst), None)

    def spaces(self, p, obs, act):
        inst = _self(p)
        inst.fill(obs, inst.spaces[0], _names_of(inst.obj.observation_space))
        inst.fill(act, inst.spaces[1], _names_of(inst.obj.action_space))
        return 0

    def params(self, p, out):
        out[0] = _lib.to_json(dict(self.defaults, **_self(p).params))
        return 0

    def reset(self, p, seed, options, obs):
        inst = _self(p)
        result = inst.obj.reset(seed=int(seed), options=_lib.from_json(options))
        inst.write_obs(result[0] if isinstance(result, tuple) else result, obs)
        return 0

    def step(self, p, action, out):
        inst = _self(p)
        result = inst.obj.step(inst.action(action))
        if len(result) == 4:        # the old Gym API: (obs, reward, done, info)
            obs, reward, done, info = result
            truncated = False
        else:
            obs, reward, done, truncated, info = result
        inst.write_obs(obs, out.obs)
        out.reward = float(reward)
        out.done, out.truncated = int(bool(done)), int(bool(truncated))
        terms = _terms(info)
        out.terms = _lib.to_json(terms) if terms else ffi.NULL
        return 0

    def _obs(self, inst, ptr):
        return np.frombuffer(ffi.buffer(ptr, 8 * inst.obs_dim), dtype=np.float64).copy()

    def context(self, p, obs, out):
        inst = _self(p)
        o = self._obs(inst, obs)
        fn = getattr(inst.obj, "context", None)
        ctx = fn(o) if fn else {"obs": [float(v) for v in o]}
        out[0] = _lib.to_json(ctx)
        return 0

    def features(self, p, obs, out, cap, dim):
        inst = _self(p)
        o = self._obs(inst, obs)
        fn = getattr(inst.obj, "features", None)
        f = np.asarray(fn(o) if fn else o, dtype=np.float32).reshape(-1)
        dim[0] = f.size
        for i in range(min(cap, f.size)):
            out[i] = float(f[i])
        return 0

    def policy(self, p, name, obs, action):
        inst = _self(p)
        method = self.policy_map[ffi.string(name).decode()]
        fn = method if callable(method) else getattr(inst.obj, method)
        args = (inst.obj,) if callable(method) else ()
        a = np.asarray(fn(*args, self._obs(inst, obs)), dtype=np.float64).reshape(-1)
        if a.size != inst.act_dim:
            raise ValueError("policy %s returned %d values, expected %d" %
                             (ffi.string(name).decode(), a.size, inst.act_dim))
        ffi.memmove(action, a.tobytes(), 8 * inst.act_dim)
        return 0

    def template_text(self, p, component):
        t = self.templates.get(ffi.string(component).decode())
        return t if t is not None else ffi.NULL


def register(name, cls, params=None, summary=None, version="1.0"):
    """Make the Python environment class cls available to the C library as `name`.

    params: parameter names and defaults (default: cls.params); every created instance gets
    them as keyword arguments. Names stay registered for the life of the process; registering
    a name twice raises fewshot.Error (FEWSHOT_EEXISTS)."""
    if name in _registered:
        raise Error("an environment named '%s' is already registered" % name, -17)
    t = _Table(name, cls, params, summary, version)
    _lib.check(lib.fewshot_env_register(t.table))
    _registered[name] = t
    return name
