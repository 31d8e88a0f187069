# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""calendar_event_cancel's match.series, match.attendees_only and match.time_zone (issue 18), through main().

The emulator's record decides: notifications per recipient and per item, the requests sent, and
the stored series (its recurrence range, its cancelled dates, its folder). Every scenario runs
check mode (nothing sent), the real run (changed), then a rerun (nothing sent, not changed).
"""

import copy
import json

from ansible_collections.graphops.msgraph.plugins.modules import calendar_event_cancel
from emulator.graph.store import derive_immutable_id
from module_runner import module_credentials, run_main

SERIES = "AAMkADV997ArQMAWwboR7UA-u1wuzn6xganOFsp2eB98_pX84="  # weekly Monday 09:30 UTC 2027-03-01..04-26, 2 attendees
MARCH = {"start": "2027-03-01T00:00:00Z", "end": "2027-04-01T00:00:00Z"}


def run(emu, args, capsys, check=False, diff=False):
    params = module_credentials(emu, "app", retries=1, max_wait=5)
    params.update(args)
    return run_main(calendar_event_cancel, params, capsys, check=check, diff=diff)


def notes(emu, kind=None):
    return [n for n in emu.notifications() if kind is None or n["kind"] == kind]


def writes(emu):
    return [r for r in emu.requests() if r["method"] in ("POST", "PATCH") and r["segments"] and r["segments"][0] != "$batch"]


def stored(emu, default_id, owner=None):
    wanted = derive_immutable_id(default_id)
    return [e for e in emu.events_state(owner) if e["immutableId"] == wanted][0]


def seeded_id(emu, subject):
    return [e for e in emu.events_state(emu["users"]["organizer"]["upn"]) if e["subject"] == subject][0]["immutableId"]


# --------------------------------------------------------------------------- series: whole


def test_whole_cancels_each_series_once(emu, upn, capsys):
    args = dict(user=upn, match=dict(MARCH, subject="Weekly team sync", series="whole"), comment="Discontinued")
    master = derive_immutable_id(SERIES)

    failed, preview = run(emu, args, capsys, check=True, diff=True)
    assert not failed and preview["changed"], preview
    assert preview["cancelled"] == [master]
    assert [(s["id"], s["action"]) for s in preview["series"]] == [(master, "cancelled")]
    assert master in preview["diff"]["before"]
    assert writes(emu) == [] and notes(emu) == []

    failed, result = run(emu, args, capsys)
    assert not failed and result["changed"], result
    # One cancellation per attendee for the series, none per occurrence (March has five Mondays).
    sent = notes(emu, "event_cancelled")
    assert sorted(n["recipient"] for n in sent) == ["alex.wilber@contoso.example", "megan.bowen@contoso.example"]
    assert {n["item_id"] for n in sent} == {master}
    assert stored(emu, SERIES)["isCancelled"] is True

    before = len(emu.requests())
    failed, again = run(emu, args, capsys)
    assert not failed and not again["changed"], again
    assert len(notes(emu)) == 2
    assert not [r for r in emu.requests()[before:] if r["method"] != "GET" and r["segments"][0] != "$batch"]


def test_occurrences_is_the_default_one_cancel_per_occurrence(emu, upn, capsys):
    failed, result = run(emu, dict(user=upn, match=dict(MARCH, subject="Weekly team sync")), capsys)
    assert not failed and len(result["cancelled"]) == 5 and result["series"] == [] and result["ended"] == []
    assert len(notes(emu, "event_cancelled")) == 10  # 5 occurrences x 2 attendees
    assert stored(emu, SERIES)["isCancelled"] is False


# --------------------------------------------------------------------------- series: end


def test_end_keeps_the_past_and_removes_the_future(emu, upn, capsys):
    args = dict(user=upn, match=dict(start="2027-03-10T00:00:00Z", end="2027-06-01T00:00:00Z", series="end"),
                comment="Adele has left")
    master = derive_immutable_id(SERIES)

    failed, preview = run(emu, args, capsys, check=True, diff=True)
    assert not failed and preview["changed"], preview
    assert preview["ended"] == [master] and preview["cancelled"] == []
    assert preview["series"] == [{"id": master, "subject": "Weekly team sync", "action": "ended", "end_date": "2027-03-08",
                                  "reason": None}]
    assert preview["diff"]["after"][master]["recurrence_range"]["end_date"] == "2027-03-08"
    assert preview["diff"]["before"][master]["recurrence_range"]["end_date"] == "2027-04-26"
    assert writes(emu) == [] and notes(emu) == []

    failed, result = run(emu, args, capsys)
    assert not failed and result["changed"] and result["ended"] == [master], result
    patches = [r for r in emu.requests() if r["method"] == "PATCH"]
    assert len(patches) == 1
    assert not [r for r in emu.requests() if r["method"] == "POST" and r["segments"][-1] == "cancel"]
    # Attendees get one update each, no cancellation.
    assert sorted(n["recipient"] for n in notes(emu)) == ["alex.wilber@contoso.example", "megan.bowen@contoso.example"]
    assert {n["kind"] for n in notes(emu)} == {"event_updated"}
    # The series stays in the calendar, ended on 2027-03-08: its two past occurrences are still there.
    series = stored(emu, SERIES)
    assert series["isCancelled"] is False and series["parentFolder"] == "calendar"
    assert series["recurrence"]["range"]["type"] == "endDate" and series["recurrence"]["range"]["endDate"] == "2027-03-08"
    assert series["recurrence"]["range"]["startDate"] == "2027-03-01" and series["cancelledOccurrenceDates"] == []
    # Alex's copy follows the organizer's.
    alex = [e for e in emu.events_state("alex.wilber@contoso.example") if e["subject"] == "Weekly team sync"][0]
    assert alex["recurrence"]["range"]["endDate"] == "2027-03-08"

    failed, again = run(emu, args, capsys)
    assert not failed and not again["changed"] and again["ended"] == [] and again["series"] == [], again
    assert len([r for r in emu.requests() if r["method"] == "PATCH"]) == 1 and len(notes(emu)) == 2


def test_end_cancels_a_series_that_starts_in_the_window(emu, upn, capsys):
    args = dict(user=upn, match=dict(start="2027-02-20T00:00:00Z", end="2027-06-01T00:00:00Z", series="end",
                                     subject="Weekly team sync"))
    master = derive_immutable_id(SERIES)
    failed, result = run(emu, args, capsys)
    assert not failed and result["cancelled"] == [master] and result["ended"] == [], result
    assert result["series"][0]["action"] == "cancelled" and result["series"][0]["reason"] == "starts_in_window"
    assert [r for r in emu.requests() if r["method"] == "PATCH"] == []
    assert len(notes(emu, "event_cancelled")) == 2
    assert stored(emu, SERIES)["isCancelled"] is True


def test_end_patch_needs_the_write_permission(emu, upn, capsys):
    params = module_credentials(emu, "readonly", retries=1, max_wait=5)
    params.update(user=upn, match=dict(start="2027-03-10T00:00:00Z", end="2027-06-01T00:00:00Z", series="end"))
    failed, result = run_main(calendar_event_cancel, params, capsys)
    assert failed, result
    assert notes(emu) == []
    assert stored(emu, SERIES)["recurrence"]["range"]["endDate"] == "2027-04-26"


# --------------------------------------------------------------------------- attendees_only


def test_attendees_only_leaves_events_without_attendees(emu, upn, capsys):
    friday = {"start": "2027-03-05T00:00:00Z", "end": "2027-03-06T00:00:00Z"}
    focus = seeded_id(emu, "Focus time")
    failed, result = run(emu, dict(user=upn, match=dict(friday, attendees_only=True)), capsys)
    assert not failed and not result["changed"] and result["cancelled"] == [], result
    assert result["skipped_no_attendees"] == [focus]
    assert [e["result"] for e in result["events"] if e["id"] == focus] == ["skipped_no_attendees"]
    assert writes(emu) == []
    assert [e["isCancelled"] for e in emu.events_state(upn) if e["immutableId"] == focus] == [False]

    failed, result = run(emu, dict(user=upn, match=dict(friday)), capsys)
    assert not failed and result["cancelled"] == [focus], result


# --------------------------------------------------------------------------- time_zone across DST

# Europe/Oslo moves to summer time on 2027-03-28 at 02:00 (01:00 UTC): that local day runs from
# 2027-03-27T23:00Z to 2027-03-28T22:00Z, 23 hours.
DST_EVENTS = [
    ("Before the local day", "2027-03-27T22:30:00"),  # 23:30 on the 27th in Oslo
    ("First of the local day", "2027-03-27T23:30:00"),  # 00:30 on the 28th (CET)
    ("Last of the local day", "2027-03-28T21:30:00"),  # 23:30 on the 28th (CEST)
    ("After the local day", "2027-03-28T22:30:00"),  # 00:30 on the 29th
]


def _seed_dst(emu):
    base = [e for e in emu.events_state(emu["users"]["organizer"]["upn"]) if e["subject"] == "Quarterly budget review"][0]
    events = []
    for n, (subject, start) in enumerate(DST_EVENTS):
        event = copy.deepcopy({k: v for k, v in base.items()
                               if k not in ("immutableId", "parentFolder", "calendarId", "cancelledOccurrenceDates")})
        end = start[:-5] + "45:00"
        event.update(id="AAMkADdstwindow%02dxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=" % n, subject=subject,
                     iCalUId="dst-%d" % n, start={"dateTime": start + ".0000000", "timeZone": "UTC"},
                     end={"dateTime": end + ".0000000", "timeZone": "UTC"})
        events.append(event)
    emu.seed({"mailboxes": [{"owner": emu["users"]["organizer"]["upn"], "events": json.loads(json.dumps(events))}]})


def test_local_day_across_dst_selects_exactly_that_day(emu, upn, capsys):
    _seed_dst(emu)
    args = dict(user=upn, match=dict(start="2027-03-28", end="2027-03-28", time_zone="Europe/Oslo"))
    failed, preview = run(emu, args, capsys, check=True)
    assert not failed, preview
    assert sorted(e["subject"] for e in preview["events"]) == ["First of the local day", "Last of the local day"]
    view = [r for r in emu.requests() if r["segments"][-1:] == ["calendarView"]][0]
    assert (view["query"]["startDateTime"], view["query"]["endDateTime"]) == ("2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z")
    local = dict((e["subject"], (e["local_start"], e["local_end"])) for e in preview["events"])
    assert local["First of the local day"] == ("2027-03-28T00:30:00+01:00", "2027-03-28T00:45:00+01:00")
    assert local["Last of the local day"] == ("2027-03-28T23:30:00+02:00", "2027-03-28T23:45:00+02:00")

    failed, result = run(emu, args, capsys)
    assert not failed and len(result["cancelled"]) == 2, result
    cancelled = {n["item_id"] for n in notes(emu, "event_cancelled")}
    assert cancelled == set(result["cancelled"])
    failed, again = run(emu, args, capsys)
    assert not failed and not again["changed"], again


def test_unknown_time_zone_fails_naming_it_before_any_request(emu, upn, capsys):
    failed, result = run(emu, dict(user=upn, match=dict(start="2027-03-28", end="2027-03-28", time_zone="Europe/Atlantis")), capsys)
    assert failed and "match.time_zone" in result["msg"] and "Europe/Atlantis" in result["msg"], result
    assert emu.requests() == []
