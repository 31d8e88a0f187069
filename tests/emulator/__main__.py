# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: start the emulator, write the connection file, serve until SIGTERM/SIGINT."""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Microsoft Graph emulator for tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", action="append", default=[], metavar="FILE", help="fixture JSON; repeatable")
    parser.add_argument("--connection-file", default=None)
    parser.add_argument("--state-dir", default=None)
    parser.add_argument("--cloud", default="global", choices=["global", "usgov", "usgovdod", "china"])
    parser.add_argument("--rtt-ms", type=float, default=0)
    parser.add_argument("--service-ms", type=float, default=0)
    parser.add_argument("--mailbox-concurrency", type=int, default=4)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from emulator.core import Emulator  # pylint: disable=import-outside-toplevel

    state_dir = args.state_dir or tempfile.mkdtemp(prefix="graph-emulator-")
    os.makedirs(state_dir, exist_ok=True)
    emulator = Emulator(args.host, args.port, state_dir, args.seed, cloud=args.cloud, rtt_ms=args.rtt_ms,
                        service_ms=args.service_ms, mailbox_concurrency=args.mailbox_concurrency)
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
    while not stop.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
