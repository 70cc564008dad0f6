"""Box spaces: gymnasium.spaces.Box when gymnasium is importable, otherwise a small Box with
the same core (low, high, shape, dtype, sample(), contains(), seed())."""
import numpy as np

try:
    from gymnasium.spaces import Box as _GymBox
except ImportError:     # gymnasium is optional (not in Debian 12)
    _GymBox = None

# Integer boxes stand for unbounded elements with +-2^53, the integers a double holds exactly
# (the C library's values are doubles).
INT_BOUND = 2 ** 53


class SimpleBox:
    """A box [low, high] of shape (n,), as gymnasium.spaces.Box has it."""

    def __init__(self, low, high, shape=None, dtype=np.float64, seed=None):
        self.dtype = np.dtype(dtype)
        low = np.asarray(low, dtype=np.float64)
        high = np.asarray(high, dtype=np.float64)
        if shape is not None:
            low = np.broadcast_to(low, shape).copy()
            high = np.broadcast_to(high, shape).copy()
        if low.shape != high.shape:
            raise ValueError("low and high have different shapes %s and %s" %
                             (low.shape, high.shape))
        if np.issubdtype(self.dtype, np.integer):
            low = np.clip(np.nan_to_num(low, neginf=-INT_BOUND), -INT_BOUND, INT_BOUND)
            high = np.clip(np.nan_to_num(high, posinf=INT_BOUND), -INT_BOUND, INT_BOUND)
        self.low = low.astype(self.dtype)
        self.high = high.astype(self.dtype)
        self.shape = self.low.shape
        self._rng = np.random.default_rng(seed)

    def seed(self, seed=None):
        self._rng = np.random.default_rng(seed)
        return [seed]

    def sample(self):
        """Uniform where both bounds are finite, normal or exponential where not (gymnasium's
        rule)."""
        low = self.low.astype(np.float64)
        high = self.high.astype(np.float64)
        out = np.empty(self.shape)
        both = np.isfinite(low) & np.isfinite(high)
        lo_only = np.isfinite(low) & ~np.isfinite(high)
        hi_only = ~np.isfinite(low) & np.isfinite(high)
        none = ~np.isfinite(low) & ~np.isfinite(high)
        out[both] = self._rng.uniform(low[both], high[both])
        out[lo_only] = low[lo_only] + self._rng.exponential(size=lo_only.sum())
        out[hi_only] = high[hi_only] - self._rng.exponential(size=hi_only.sum())
        out[none] = self._rng.normal(size=none.sum())
        if np.issubdtype(self.dtype, np.integer):
            out = np.floor(out)
        return out.astype(self.dtype)

    def contains(self, x):
        x = np.asarray(x)
        if x.shape != self.shape:
            return False
        if np.issubdtype(self.dtype, np.integer) and not np.all(np.equal(np.mod(x, 1), 0)):
            return False
        return bool(np.all(x >= self.low) and np.all(x <= self.high))

    __contains__ = contains

    def __repr__(self):
        return "Box(%s, %s, %s, %s)" % (self.low.min() if self.low.size else None,
                                         self.high.max() if self.high.size else None,
                                         self.shape, self.dtype)

    def __eq__(self, other):
        return (isinstance(other, SimpleBox) and self.shape == other.shape and
                np.array_equal(self.low, other.low) and np.array_equal(self.high, other.high))


def Box(low, high, shape=None, dtype=np.float64):
    """A gymnasium Box when available, else SimpleBox."""
    if _GymBox is not None:
        return _GymBox(low=low, high=high, shape=shape, dtype=dtype)
    return SimpleBox(low, high, shape, dtype)


def space_from_c(space):
    """The Box of a C fewshot_space (copies the bounds)."""
    from ._lib import ffi
    n = space.dim
    low = np.full(n, -np.inf) if space.low == ffi.NULL else \
        np.frombuffer(ffi.buffer(space.low, 8 * n), dtype=np.float64).copy()
    high = np.full(n, np.inf) if space.high == ffi.NULL else \
        np.frombuffer(ffi.buffer(space.high, 8 * n), dtype=np.float64).copy()
    if space.integer:     # an integer Box has no infinity: use the type's range instead
        low = np.where(np.isfinite(low), low, -INT_BOUND)
        high = np.where(np.isfinite(high), high, INT_BOUND)
    box = Box(low, high, (n,), np.int64 if space.integer else np.float64)
    names = []
    if space.names != ffi.NULL:
        names = [ffi.string(space.names[i]).decode() if space.names[i] != ffi.NULL else ""
                 for i in range(n)]
    try:
        box.names = names
    except AttributeError:
        pass
    return box
