# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""calendar_event_info through main(), against the Graph emulator (seed: tests/emulator/fixtures/tenant.json)."""

import pytest

from ansible_collections.graphops.msgraph.plugins.modules import calendar_event_info
from emulator.graph.store import derive_immutable_id
from module_runner import module_credentials, run_main

BUDGET = "AAMkADvlmEnFKhcQh4mZbhfE2GrV-NcA0hryR2R3_War8mblc="
SERIES = "AAMkADV997ArQMAWwboR7UA-u1wuzn6xganOFsp2eB98_pX84="
ALL_HANDS = "AAMkADa8ADaSQxoVA6Mn7GP1JYlzHbOkPmMJiIVjCsKp7lmic="
OFFSITE = "AAMkADM3XjjrjKvel3AZ8aH_Cpzfrq2klvzVjSwO_uQggE8H0="
WEEK = dict(start="2027-03-01T00:00:00Z", end="2027-03-06T00:00:00Z")


@pytest.fixture
def info(emu, capsys):
    def _run(args, check=False, kind="app"):
        params = module_credentials(emu, "readonly" if kind == "app" else kind)
        params.update(args)
        return run_main(calendar_event_info, params, capsys, check=check)
    return _run


def writes(emu):
    return [r for r in emu.requests() if r["method"] != "GET" and r["segments"] and r["segments"][0] != "$batch"]


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_window_lists_events_with_occurrences_expanded(info, emu, upn, check):
    failed, result = info(dict(user=upn, **WEEK), check=check)
    assert not failed, result
    assert result["changed"] is False
    subjects = [e["subject"] for e in result["events"]]
    assert "Weekly team sync" in subjects and "All-hands: March update" in subjects
    sync = [e for e in result["events"] if e["subject"] == "Weekly team sync"]
    assert len(sync) == 1 and sync[0]["type"] == "occurrence"
    assert sync[0]["series_master_id"] == derive_immutable_id(SERIES)
    budget = [e for e in result["events"] if e["subject"] == "Quarterly budget review"][0]
    assert budget["id"] == derive_immutable_id(BUDGET)
    assert budget["attendee_count"] == 3 and budget["organizer"] == upn and budget["is_organizer"] is True
    assert set(budget) >= {"id", "subject", "start", "end", "type", "series_master_id", "organizer", "attendee_count"}
    assert writes(emu) == []
    # The window went to calendarView with both bounds and a $select.
    views = [r for r in emu.requests() if r["segments"][-1] == "calendarView"]
    assert views and views[0]["query"]["startDateTime"] == "2027-03-01T00:00:00Z"
    assert "$select" in views[0]["query"]


def test_window_pages_are_followed(info, emu, upn, monkeypatch):
    from ansible_collections.graphops.msgraph.plugins.module_utils import _events  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(_events, "WINDOW_PAGE_SIZE", "5")  # pages of 5, so this window needs several
    failed, result = info(dict(user=upn, start="2027-03-01T00:00:00Z", end="2027-04-30T00:00:00Z", subject="Weekly team sync"))
    assert not failed
    # Mondays 1 March .. 26 April 2027: 9 occurrences; with the other events that is more than one page of 5.
    assert len(result["events"]) == 9
    views = [r for r in emu.requests() if r["segments"][-1] == "calendarView"]
    assert len(views) >= 2 and all(r["query"]["$top"] == "5" for r in views)


def test_filters(info, emu, upn):
    _f, organizer_only = info(dict(user=upn, organizer_only=True, **WEEK))
    assert all(e["is_organizer"] for e in organizer_only["events"])
    assert "All-hands: March update" not in [e["subject"] for e in organizer_only["events"]]
    _f, contains = info(dict(user=upn, subject_contains="review", **WEEK))
    assert sorted(e["subject"] for e in contains["events"]) == ["Fabrikam design review", "Quarterly budget review"]
    _f, exact = info(dict(user=upn, subject="Focus time", **WEEK))
    assert [e["subject"] for e in exact["events"]] == ["Focus time"]
    _f, none = info(dict(user=upn, subject="No such meeting", **WEEK))
    assert none["events"] == []


def test_event_id_and_absent(info, emu, upn):
    failed, result = info(dict(user=upn, event_id=SERIES))
    assert not failed
    assert len(result["events"]) == 1 and result["events"][0]["type"] == "seriesMaster"
    failed, result = info(dict(user=upn, event_id="AAMkADnothere" + "0" * 32 + "="))  # well-formed, absent
    assert not failed and result["events"] == [] and result["changed"] is False


def test_group_and_me(info, emu, upn):
    # Group calendars take a delegated token only (Group.Read.All / Group.ReadWrite.All).
    failed, result = info(dict(group_id=emu["groups"]["team"], event_id=OFFSITE), kind="delegated")
    assert not failed, result
    assert result["events"][0]["subject"] == "Clinic team offsite planning"
    failed, result = info(dict(start="2027-03-03T00:00:00Z", end="2027-03-04T00:00:00Z"), kind="delegated")
    assert not failed, result
    assert emu.requests()[-1]["segments"][:2] == ["me", "calendarView"]
    assert derive_immutable_id(ALL_HANDS) in [e["id"] for e in result["events"]]


def test_me_with_app_token_fails_before_any_request(info, emu):
    failed, result = info(dict(**WEEK))
    assert failed and "set user" in result["msg"]
    assert emu.requests() == [] and emu.token_requests() == []


@pytest.mark.parametrize("args,needle", [
    (dict(user="a/b", **WEEK), "user"),
    (dict(user="u", event_id="x#y"), "event_id"),
    (dict(user="u", start="yesterday", end="2027-03-01"), "start"),
    (dict(user="u", start="2027-03-02", end="2027-03-01"), "end must be after start"),
    (dict(user="u", start="2027-03-02", end="9999-12-31T23:30:00-01:00"), "end"),  # after year 9999 in UTC
], ids=["user", "event_id", "start", "order", "out-of-range"])
def test_bad_input_sends_nothing(info, emu, args, needle):
    failed, result = info(args)
    assert failed and needle in result["msg"]
    assert emu.requests() == []


def test_group_window(info, emu):
    failed, result = info(dict(group_id=emu["groups"]["team"], start="2027-03-04T00:00:00Z", end="2027-03-05T00:00:00Z"),
                          kind="delegated")  # group calendars: delegated only
    assert not failed, result
    assert "Clinic team offsite planning" in [e["subject"] for e in result["events"]]
    assert emu.requests()[-1]["segments"] == ["groups", emu["groups"]["team"], "calendarView"]
