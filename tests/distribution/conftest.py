# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the distribution suites: the Galaxy artifact as `ansible-galaxy collection build` makes it."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from dist_support import build_collection, isolated_env  # noqa: E402  pylint: disable=wrong-import-position,import-error


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory):
    """The artifact a release publishes, built from this working tree (galaxy.yml build_ignore applies)."""
    work = tmp_path_factory.mktemp("artifact")
    return build_collection(os.path.dirname(os.path.dirname(HERE)), work, isolated_env(work))
