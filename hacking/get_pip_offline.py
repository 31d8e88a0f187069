# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test bootstraps pip in each of its sanity virtualenvs with a script fetched from a host
that is not a package registry, which these machines cannot reach.
The Makefile copies this file to the cache path ansible-test looks at first. It does what the
real script does, from the standard library and the package registry: ensurepip, then
`pip install` of the packages ansible-test asked for.
"""

import subprocess
import sys

# get-pip.py knows these two flags; pip itself does not.
GET_PIP_ONLY_FLAGS = ("--no-setuptools", "--no-wheel")


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "pip", "install"] + args, check=True)


if __name__ == "__main__":
    main()
