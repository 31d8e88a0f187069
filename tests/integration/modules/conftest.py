# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the module tests (main() in this process against the emulator)."""

import pytest


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """main() runs in the test's process: its mailbox locks go to a folder of the test's own
    (XDG_CACHE_HOME), never to the ~/.cache of whoever runs the tests."""
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture
def upn(emu):
    """The UPN of the emulator's organizer (adele.vance@contoso.example), whose calendar most tests use."""
    return emu["users"]["organizer"]["upn"]
