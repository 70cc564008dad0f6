#!/bin/sh
# Steps per second of the inventory and trading plugins (through libfewshot, policy included)
# against NumPy baselines timed in the same run: the OR-Gym InvManagement re-implementation
# and a FinRL-style trading step. Then expert vs baseline episode rewards over 20 seeds.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
py=${PYTHON3:-/usr/bin/python3}
"$py" -c 'import numpy' 2>/dev/null || py=/usr/bin/python3
bench=$top_builddir/tests/bench/bench_envs
export top_builddir

"$bench" speed 4000 > /tmp/fewshot-bench-envs.$$
inv_c=$(awk '$1 == "inventory" && $2 == "expert" {print $3}' /tmp/fewshot-bench-envs.$$)
inv_k=$(awk '$1 == "inventory" && $2 == "const:20" {print $3}' /tmp/fewshot-bench-envs.$$)
trd_c=$(awk '$1 == "trading" && $2 == "expert" {print $3}' /tmp/fewshot-bench-envs.$$)
trd_r=$(awk '$1 == "trading" && $2 == "random" {print $3}' /tmp/fewshot-bench-envs.$$)
rm -f /tmp/fewshot-bench-envs.$$
if "$py" -c 'import numpy' 2>/dev/null; then
    inv_py=$("$py" "$top_srcdir/tests/bench/envs_numpy.py" inventory 200)
    trd_py=$("$py" "$top_srcdir/tests/bench/envs_numpy.py" trading 20000)
else
    inv_py=0
    trd_py=0
    echo "(numpy missing: no NumPy baselines)"
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0fx", a / b; else print "n/a" }'; }
printf '%-44s %14s %10s\n' "environment, policy" "steps/s" "vs NumPy"
printf '%-44s %14.0f %10s\n' "inventory (plugin), base-stock expert" "$inv_c" "$(ratio "$inv_c" "$inv_py")"
printf '%-44s %14.0f %10s\n' "inventory (plugin), const:20" "$inv_k" "$(ratio "$inv_k" "$inv_py")"
printf '%-44s %14.0f %10s\n' "inventory (NumPy OR-Gym), base-stock" "$inv_py" "1x"
printf '%-44s %14.0f %10s\n' "trading (plugin), lookahead expert" "$trd_c" "$(ratio "$trd_c" "$trd_py")"
printf '%-44s %14.0f %10s\n' "trading (plugin), random" "$trd_r" "$(ratio "$trd_r" "$trd_py")"
printf '%-44s %14.0f %10s\n' "trading (NumPy FinRL-style), random" "$trd_py" "1x"
echo
echo "Episode returns over seeds 1..20 (inventory: 30 periods; trading: 250 days, 3 assets):"
"$bench" table
