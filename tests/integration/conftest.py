# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for end-to-end suites: real ansible-playbook runs against the emulator."""

import pytest

from playbook_runner import PlaybookRunner


@pytest.fixture
def playbook(emu, tmp_path):
    """A PlaybookRunner bound to the freshly reset session emulator."""
    return PlaybookRunner(emu.conn, tmp_path)
