# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put the offline get-pip stand-in where ansible-test looks for its cached bootstrap script.

ansible-test pins a pip version and caches its bootstrap script as
~/.ansible/test/cache/get_pip_<version>.py; with that file present it never downloads.
"""

import os
import re
import shutil

import ansible_test


def pinned_pip_version():
    source = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(source, encoding="utf-8") as handle:
        match = re.search(r"pip='([0-9.]+)'", handle.read())
    if not match:
        raise SystemExit("cannot find the pip version ansible-test pins in %s" % source)
    return match.group(1)


def main():
    version = pinned_pip_version()
    cache_dir = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache_dir, exist_ok=True)
    target = os.path.join(cache_dir, "get_pip_%s.py" % version.replace(".", "_"))
    shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "get_pip_offline.py"), target)


if __name__ == "__main__":
    main()
