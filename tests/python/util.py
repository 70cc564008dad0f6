"""Helpers shared by the Python tests: counting checks, skipping, running the CLI."""
import os
import subprocess
import sys

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL: %s" % what, file=sys.stderr)


def raises(exc, fn, what):
    try:
        fn()
    except exc as e:
        check(True, what)
        return e
    check(False, what + " (no %s raised)" % exc.__name__)
    return None


def skip(why):
    print("SKIP: %s" % why)
    sys.exit(77)


def finish():
    print("%d checks, %d failed" % (checks, failures))
    sys.exit(1 if failures else 0)


def fewshot_cli(*args):
    exe = os.environ.get("FEWSHOT") or os.path.join(os.environ["top_builddir"], "fewshot")
    return subprocess.run([exe] + list(args), capture_output=True, text=True)


def tmp(name):
    return os.path.join(os.environ.get("TMPDIR", "/tmp"), name)
