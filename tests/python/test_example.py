"""examples/python/tank_sweep.py runs: baselines only, and with an LLM arm against the test
server (controller mode) when it is built."""
import os
import subprocess
import sys
import time

from util import check, finish, tmp

example = os.path.join(os.environ["top_srcdir"], "examples", "python", "tank_sweep.py")
proc = subprocess.run([sys.executable, example, tmp("base")], capture_output=True, text=True)
check(proc.returncode == 0 and "ran 18 episodes (6 skipped)" in proc.stdout,
      "the example runs its baselines without an LLM (%s%s)" % (proc.stdout, proc.stderr[-300:]))
server_bin = os.path.join(os.environ["FEWSHOT_BUILDDIR"], "tests", "llm-server", "llm-server")
if os.access(server_bin, os.X_OK):
    port_file = tmp("port")
    server = subprocess.Popen([server_bin, "--port-file", port_file, "--mode", "controller",
                               "--gain", "1", "--lifetime", "300"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if os.path.exists(port_file) and os.path.getsize(port_file):
                break
            time.sleep(0.01)
        url = "http://127.0.0.1:%s/v1" % open(port_file).read().strip()
        proc = subprocess.run([sys.executable, example, tmp("llm"), url, "test"],
                              capture_output=True, text=True)
        check(proc.returncode == 0 and "ran 24 episodes (0 skipped)" in proc.stdout,
              "the example's LLM arm runs against the test server (%s%s)" %
              (proc.stdout, proc.stderr[-300:]))
        rows = [l.split() for l in proc.stdout.splitlines() if l.startswith("llm ")]
        check(len(rows) == 3 and rows[2][1] == "all",
              "the report lists the LLM arm per scenario and over all: %s" % rows)
    finally:
        server.terminate()
        server.wait()
finish()
