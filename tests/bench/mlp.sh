#!/bin/sh
# mlp:FILE policy speed and PPO training speed. The policy is a PPO actor (64x64 tanh, the
# trainer's default) exported by fewshot.ppo: microseconds per C action against the thermostat
# and MPC in the same run and against PyTorch's forward pass of the same network (batch 1).
# Then PPO training steps per second on fewshot.VectorEnv against a NumPy BEAR-style
# environment with the same trainer (tests/bench/ppo_numpy.py). Skips without numpy/torch.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-/usr/bin/python3}
if ! "$PYTHON3" -c 'import numpy, cffi, torch' 2>/dev/null; then
    echo "mlp: skipped (needs python3-numpy, python3-cffi and python3-torch)"
    exit 0
fi
FEWSHOT_PLUGIN_PATH=$top_builddir/plugins/.libs
PYTHONPATH=$top_srcdir/python
FEWSHOT_BUILDDIR=$top_builddir
PYTHONDONTWRITEBYTECODE=1
export FEWSHOT_PLUGIN_PATH PYTHONPATH FEWSHOT_BUILDDIR PYTHONDONTWRITEBYTECODE
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
XDG_CACHE_HOME=$tmp/cache
export XDG_CACHE_HOME
"$PYTHON3" -m fewshot.ppo hvac -p building=OfficeSmall --steps 1024 --envs 4 --rollout 256 \
    --epochs 1 --quiet -o "$tmp/policy.json" 2>/dev/null
set -- $("$top_builddir/tests/bench/bench_mlp" "$tmp/policy.json")
torch_us=$("$PYTHON3" - "$tmp/policy.json" <<'PY'
import json, sys, time
import torch
from torch import nn
torch.set_num_threads(1)
doc = json.load(open(sys.argv[1]))
layers = []
for layer in doc["layers"]:
    w = torch.tensor(layer["weight"], dtype=torch.float32)
    lin = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        lin.weight.copy_(w)
        lin.bias.copy_(torch.tensor(layer["bias"]))
    layers.append(lin)
    if layer["activation"] == "tanh":
        layers.append(nn.Tanh())
net = nn.Sequential(*layers)
x = torch.zeros(1, doc["obs_dim"])
calls, start = 0, time.process_time()
with torch.no_grad():
    while time.process_time() - start < 0.5:
        for _ in range(100):
            net(x)
        calls += 100
print("%.3f" % (1e6 * (time.process_time() - start) / calls))
PY
)
awk -v m="$1" -v t="$2" -v mpc="$3" -v pt="$torch_us" 'BEGIN {
    printf "mlp policy (10 -> 64 -> 64 -> 6, OfficeSmall): %.2f us per action; thermostat %.2f us (mlp/thermostat %.1fx); MPC %.1f us (MPC/mlp %.1fx); PyTorch forward of the same net, batch 1: %.1f us (PyTorch/C %.1fx)\n",
        m, t, m / t, mpc, mpc / m, pt, pt / m}'
"$top_builddir/tests/bench/hvac_bench" "$tmp" > /dev/null
"$PYTHON3" "$top_srcdir/tests/bench/ppo_numpy.py" "$tmp/OfficeSmall.matrices" 16384
