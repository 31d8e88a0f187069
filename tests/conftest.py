# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: one Graph emulator process per test session (per xdist worker)."""

import json
import os
import subprocess
import sys
import threading

import pytest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from emulator.control import EmulatorControl  # noqa: E402  pylint: disable=wrong-import-position

STARTUP_TIMEOUT = 30


def start_emulator(state_dir, *extra_args, host=None):
    """Start `python -m emulator`; returns (process, connection dict). Raises when it does not come up."""
    host = host or "127.0.0.1"
    conn_path = os.path.join(state_dir, "connection.json")
    env = dict(os.environ)
    env["PYTHONPATH"] = TESTS_DIR + os.pathsep + env.get("PYTHONPATH", "")
    log = open(os.path.join(state_dir, "emulator.log"), "wb")  # pylint: disable=consider-using-with
    cmd = [sys.executable, "-m", "emulator", "--host", host, "--port", "0",
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


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The parsed connection file of a running emulator (see docs/dev/architecture.md)."""
    proc, conn = start_emulator(str(tmp_path_factory.mktemp("emulator")))
    yield conn
    stop_emulator(proc)


@pytest.fixture
def emu(emulator):  # pylint: disable=redefined-outer-name
    """The session emulator, reset to its seed state, as an EmulatorControl."""
    control = EmulatorControl(emulator)
    control.reset()
    yield control
    control.session.close()
