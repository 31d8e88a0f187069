# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: start the emulator, write the connection file, serve until SIGTERM/SIGINT.

Exit status 2, with a message on stderr, when the port is taken or another emulator is running
with the same state directory (its CA, keys and connection file are never rewritten under it).
"""

import argparse
import errno
import fcntl
import json
import os
import signal
import sys
import tempfile
import threading

LOCK_NAME = "emulator.lock"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Microsoft Graph emulator for tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (the default) picks a free port")
    parser.add_argument("--seed", action="append", default=[], metavar="FILE", help="fixture JSON; repeatable")
    parser.add_argument("--connection-file", default=None)
    parser.add_argument("--state-dir", default=None)
    parser.add_argument("--cloud", default="global", choices=["global", "usgov", "usgovdod", "china"])
    parser.add_argument("--rtt-ms", type=float, default=0)
    parser.add_argument("--service-ms", type=float, default=0)
    parser.add_argument("--mailbox-concurrency", type=int, default=4)
    return parser.parse_args(argv)


def lock_state_dir(state_dir):
    """An open file holding an exclusive lock on STATE_DIR/emulator.lock (with our pid in it), or
    None when a live emulator holds it. The kernel drops the lock when its holder dies, so a
    crashed emulator never leaves a stale lock behind."""
    handle = open(os.path.join(state_dir, LOCK_NAME), "a+", encoding="ascii")  # pylint: disable=consider-using-with
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write("%d\n" % os.getpid())
    handle.flush()
    return handle


def _holder(state_dir):
    try:
        with open(os.path.join(state_dir, LOCK_NAME), encoding="ascii") as handle:
            return handle.read().strip() or "?"
    except OSError:
        return "?"


def _refuse(message):
    sys.stderr.write("emulator: %s\n" % message)
    return 2


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from emulator.core import Emulator  # pylint: disable=import-outside-toplevel

    state_dir = args.state_dir or tempfile.mkdtemp(prefix="graph-emulator-")
    os.makedirs(state_dir, exist_ok=True)
    lock = lock_state_dir(state_dir)
    if lock is None:
        return _refuse("another emulator (pid %s) is running with the state directory %s; stop it, or give this one another "
                       "--state-dir (its CA and connection file stay as they are)" % (_holder(state_dir), state_dir))
    try:
        emulator = Emulator(args.host, args.port, state_dir, args.seed, cloud=args.cloud, rtt_ms=args.rtt_ms,
                            service_ms=args.service_ms, mailbox_concurrency=args.mailbox_concurrency)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            return _refuse("port %d on %s is not available (%s); choose another port, or 0 for a free one"
                           % (args.port, args.host, exc.strerror))
        raise
    emulator.start()
    conn_path = args.connection_file or os.path.join(state_dir, "connection.json")
    tmp = conn_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(emulator.connection(), handle, indent=2)
    os.replace(tmp, conn_path)  # readers never see a half-written file

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("emulator ready: %s" % conn_path, flush=True)
    # For people: where to point a client (tests read only the line above, from stdout).
    conn = emulator.connection()
    sys.stderr.write("emulator: Graph and Entra ID at %s (tenant %s); CA %s; control API %s; stop with Ctrl-C\n"
                     % (conn["graph_endpoint"], conn["tenant_id"], conn["ca_path"], conn["control_url"]))
    sys.stderr.flush()
    while not stop.wait(0.5):
        pass
    emulator.stop()
    lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
