# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: one Graph emulator process per test session (per xdist worker)."""

import os
import sys

import pytest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from emulator.control import EmulatorControl  # noqa: E402  pylint: disable=wrong-import-position
from emulator.process import start_emulator, stop_emulator  # noqa: E402  pylint: disable=wrong-import-position


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
