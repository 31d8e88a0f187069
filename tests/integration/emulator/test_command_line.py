# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`python -m emulator` and `make emulator` as a user runs them: a port of their choosing (free
by default), a clear refusal when the port is taken, and never a second emulator (or a rewritten
CA) in a state directory a live one uses."""

import os
import socket
import subprocess
import sys

import pytest

from emulator.control import EmulatorControl
from emulator.process import TESTS_DIR, start_emulator, stop_emulator

REPO = os.path.dirname(TESTS_DIR)


def run_emulator(*args, timeout=60):
    """Run `python -m emulator` to completion (it must refuse, so it must end)."""
    env = dict(os.environ, PYTHONPATH=TESTS_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "emulator", "--host", "127.0.0.1"] + list(args), cwd=TESTS_DIR, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def taken_port():
    """A port some other program is listening on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


def test_taken_port_is_refused_before_anything_is_written(tmp_path, taken_port):
    state = tmp_path / "state"
    result = run_emulator("--port", str(taken_port), "--state-dir", str(state))
    assert result.returncode == 2, result
    assert "port %d on 127.0.0.1 is not available" % taken_port in result.stderr
    assert "emulator ready" not in result.stdout
    assert sorted(os.listdir(state)) == ["emulator.lock"]  # no CA, no keys, no connection file


def test_chosen_port_is_served(tmp_path, taken_port):
    # A port known to be free: the one just released by the listener (closed below).
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc, conn = start_emulator(str(tmp_path), "--port", str(port))
    try:
        assert conn["port"] == port and conn["graph_endpoint"] == "https://127.0.0.1:%d" % port
        assert EmulatorControl(conn).reset() == {"reset": True}
    finally:
        stop_emulator(proc)


def test_second_emulator_in_a_live_state_dir_is_refused_and_the_ca_kept(tmp_path):
    proc, conn = start_emulator(str(tmp_path))
    try:
        with open(conn["ca_path"], "rb") as handle:
            ca_before = handle.read()
        with open(os.path.join(str(tmp_path), "connection.json"), "rb") as handle:
            conn_before = handle.read()
        result = run_emulator("--port", "0", "--state-dir", str(tmp_path))
        assert result.returncode == 2, result
        assert "another emulator (pid %d) is running with the state directory %s" % (proc.pid, tmp_path) in result.stderr
        with open(conn["ca_path"], "rb") as handle:
            assert handle.read() == ca_before
        with open(os.path.join(str(tmp_path), "connection.json"), "rb") as handle:
            assert handle.read() == conn_before
        # The first one still serves, with the CA clients already trust.
        assert EmulatorControl(conn).reset() == {"reset": True}
    finally:
        stop_emulator(proc)
    # Once it has stopped, the state directory is free again (no stale lock).
    proc, conn2 = start_emulator(str(tmp_path))
    stop_emulator(proc)
    assert conn2["tenant_id"] != conn["tenant_id"]


def test_make_emulator_takes_a_port_and_refuses_a_taken_one(tmp_path, taken_port):
    result = subprocess.run(["make", "-s", "--no-print-directory", "emulator", "PORT=%d" % taken_port, "EMULATOR_DIR=%s" % tmp_path],
                            cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0, result
    assert "port %d on 127.0.0.1 is not available" % taken_port in result.stderr
    assert not os.path.exists(tmp_path / "ca.pem")
