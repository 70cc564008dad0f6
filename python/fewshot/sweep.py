"""Ablation sweeps and their reports from Python."""
import csv
import json
import os

from . import _lib
from ._lib import check, ffi, lib


def _config(config, sets):
    out = ffi.new("fewshot_config **")
    if isinstance(config, dict):
        check(lib.fewshot_config_parse(out, json.dumps(config).encode(), ffi.NULL))
    else:
        check(lib.fewshot_config_load(out, os.fsencode(config)))
    cfg = ffi.gc(out[0], lib.fewshot_config_free)
    for assignment in sets or ():
        check(lib.fewshot_config_set(cfg, assignment.encode()))
    return cfg


def resolve(config, sets=None):
    """The resolved config document (defaults filled in, overrides applied) as a dict."""
    return _lib.from_json(lib.fewshot_config_json(_config(config, sets)))


def _stderr_file():
    """A C FILE * on a duplicate of standard error (closed with _lib.libc.fclose)."""
    f = _lib.libc.fdopen(os.dup(2), b"w")
    return f if f != ffi.NULL else None


def sweep(config, run_dir, sets=None, shard=None, jobs=0, dry_run=False, progress=False,
          log=True):
    """Run (or resume) the sweep of config (a file name or a dict) into run_dir.

    sets: "key.path=value" overrides as `fewshot sweep --set` takes them; shard: (I, N);
    progress: draw the progress line on standard error; log: print messages (skipped arms,
    failed episodes) on standard error.
    Returns a dict of counts (planned, already_done, ran, failed, stopped, skipped,
    skipped_arms), tokens, cost and seconds. Raises fewshot.Error when the sweep cannot run
    or when episodes failed (the error's result attribute then holds the counts)."""
    cfg = _config(config, sets)
    opts = ffi.new("fewshot_sweep_options *")
    check(lib.fewshot_sweep_options_init(opts, _lib.SWEEP_OPTIONS_VERSION))
    rd = ffi.new("char[]", os.fsencode(run_dir))
    opts.run_dir = rd
    if shard:
        opts.shard_index, opts.shard_count = shard
    opts.jobs = int(jobs)
    opts.dry_run = int(bool(dry_run))
    files = []
    if progress:
        files.append(_stderr_file())
        opts.progress = files[-1] or ffi.NULL
    if log:
        files.append(_stderr_file())
        opts.log = files[-1] or ffi.NULL
    res = ffi.new("fewshot_sweep_result *")
    try:
        rc = lib.fewshot_sweep_run(cfg, opts, res)
    finally:
        for f in files:
            if f is not None:
                _lib.libc.fclose(f)
    result = {k: getattr(res, k) for k in ("planned", "already_done", "ran", "failed",
                                           "stopped", "skipped", "skipped_arms",
                                           "prompt_tokens", "completion_tokens", "cost",
                                           "seconds")}
    if rc != 0:
        err = _lib.last_error(rc)
        err.result = result
        raise err
    return result


def _number(v):
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    return v


def report(run_dir, plots=False):
    """Write run_dir/summary.csv (and plots when asked) and return its rows as dicts, one
    per arm and scenario and, with several scenarios, one per arm with scenario "all"
    (columns as fewshot-report(1) lists them, empty cells as ""; numbers converted)."""
    opts = ffi.new("fewshot_report_options *")
    check(lib.fewshot_report_options_init(opts, _lib.REPORT_OPTIONS_VERSION))
    opts.plots = int(bool(plots))
    check(lib.fewshot_report_run(os.fsencode(run_dir), opts))
    with open(os.path.join(run_dir, "summary.csv"), newline="") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]
