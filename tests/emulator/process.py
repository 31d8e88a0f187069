# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop `python -m emulator` as a child process (tests, conformance): it listens on an
ephemeral port of 127.0.0.1 and its connection file is returned parsed."""

import json
import os
import subprocess
import sys
import threading

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STARTUP_TIMEOUT = 30


def start_emulator(state_dir, *extra_args, host=None, python=None):
    """Start `python -m emulator` (with `python`, default this interpreter); returns (process,
    connection dict). Raises when it does not come up."""
    host = host or "127.0.0.1"
    conn_path = os.path.join(state_dir, "connection.json")
    env = dict(os.environ)
    env["PYTHONPATH"] = TESTS_DIR + os.pathsep + env.get("PYTHONPATH", "")
    log = open(os.path.join(state_dir, "emulator.log"), "wb")  # pylint: disable=consider-using-with
    cmd = [python or sys.executable, "-m", "emulator", "--host", host, "--port", "0",
           "--state-dir", state_dir, "--connection-file", conn_path] + list(extra_args)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env, cwd=TESTS_DIR)  # pylint: disable=consider-using-with
    log.close()
    ready = []
    reader = threading.Thread(target=lambda: ready.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT)
    line = ready[0].decode("utf-8", "replace") if ready else ""
    if not line.startswith("emulator ready: "):
        proc.kill()
        proc.wait()
        with open(os.path.join(state_dir, "emulator.log"), encoding="utf-8", errors="replace") as handle:
            raise RuntimeError("emulator did not start: %r\n%s" % (line, handle.read()))
    with open(line.split(": ", 1)[1].strip(), encoding="utf-8") as handle:
        return proc, json.load(handle)


def stop_emulator(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
