# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy the files git tracks, or would track, into DEST (for ansible-test, which needs a real path)."""

import os
import shutil
import subprocess
import sys


def main():
    dest = sys.argv[1]
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, stdout=subprocess.PIPE,
    ).stdout.decode("utf-8")
    for rel in sorted(set(filter(None, listing.split("\0")))):
        if not os.path.isfile(rel) or os.path.islink(rel):
            continue  # deleted in the work tree, or a link ansible-test would reject
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(rel, target)


if __name__ == "__main__":
    main()
