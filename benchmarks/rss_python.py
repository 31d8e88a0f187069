# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Interpreter wrapper: runs the real interpreter on the module and appends the child's peak RSS.

ansible-playbook runs it as ANSIBLE_PYTHON_INTERPRETER (through benchmarks/rss-python); the
module process is the child, so RUSAGE_CHILDREN's ru_maxrss is the module's peak resident set.
"""

import os
import resource
import subprocess
import sys


def main():
    code = subprocess.call([os.environ["BENCH_REAL_PYTHON"]] + sys.argv[1:])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    with open(os.environ["BENCH_RSS_FILE"], "a", encoding="utf-8") as handle:
        handle.write("%d\n" % peak_kib)
    return code


if __name__ == "__main__":
    sys.exit(main())
