# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""calendar_event_cancel through main(), against the Graph emulator.

Every outcome is asserted through the emulator's own record (requests, notifications, state),
not only through what the module returns. Seed ids come from tests/emulator/fixtures/tenant.json.
"""

import pytest

from ansible_collections.graphops.msgraph.plugins.modules import calendar_event_cancel
from emulator.graph.store import derive_immutable_id
from module_runner import module_credentials, run_main

# Seeded in tests/emulator/fixtures/tenant.json (mailbox of the organizer, Adele Vance).
BUDGET = "AAMkADvlmEnFKhcQh4mZbhfE2GrV-NcA0hryR2R3_War8mblc="  # 3 attendees, 2027-03-02
VENDOR = "AAMkADBkZwbdxgfQTPey0XO36paqTSV6vYUrimRxo5vsXVxoQ="  # 1 attendee, 2027-03-03
WORKSHOP = "AAMkADNgqdEpN3kRYfZwV2nPDifSHZjiJ4-_Mh7PSI8lnNqsY="  # 3 attendees, 2027-03-04
SERIES = "AAMkADV997ArQMAWwboR7UA-u1wuzn6xganOFsp2eB98_pX84="  # weekly Monday 09:30 UTC, 2 attendees
ALL_HANDS = "AAMkADa8ADaSQxoVA6Mn7GP1JYlzHbOkPmMJiIVjCsKp7lmic="  # Adele only attends, 2027-03-03
FABRIKAM = "AAMkADEroEYyceFn-vSgeUlkEda-rSiuix2rA8RnZkab1mFE8="  # Adele only attends, 2027-03-04
FALCON = "AAMkAD5TTOKpZOVDgxRtmUm53oSFXVwT2Rd6QatmO2Jd0EDu4="  # calendar "Projects"
HANDOVER = "AAMkAD_LgmqqOjRZ4ULhA-O2J7Br4J_WfK3RjXdialJRIndRw="  # calendar "On-call rota" in group "Clinic rotas"
PROJECTS_CAL = "AAMkAGICC0O_fOM47PyJZYfpLY6vzv3MnnL1xzA_Y1Fo0gR6Ks="
MY_CALENDARS_GROUP = "AAMkAGIxdNXxtswRLceubTVBnL4oC3d8eWRa1x_gESTezCyLV_c="
ONCALL_CAL = "AAMkAGIf9spA4IVuEGOqhistj76as8bTxeExTTyGnK10VeVhZI="
ROTAS_GROUP = "AAMkAGIxly7ayF9nhrN4YDL960ZN1b8wY4v6KIXfLLNTWbSqOrU="
OFFSITE = "AAMkADM3XjjrjKvel3AZ8aH_Cpzfrq2klvzVjSwO_uQggE8H0="  # group calendar, 2 attendees
ATTENDEES = {BUDGET: 3, VENDOR: 1, WORKSHOP: 3, SERIES: 2, FALCON: 1, HANDOVER: 1, OFFSITE: 2}


# --------------------------------------------------------------------------- helpers


def run(module, emu, args, check=False, diff=False, kind="app", capsys=None):
    """Run module.main() in-process; returns (failed, result)."""
    params = module_credentials(emu, kind, retries=1, max_wait=5)
    params.update(args)
    return run_main(module, params, capsys, check=check, diff=diff)


def cancels(emu):
    """Recorded cancel operations (top level or inside a $batch)."""
    return [r for r in emu.requests() if r["method"] == "POST" and r["segments"] and r["segments"][-1].lower() == "cancel"]


def graph_calls(emu):
    return [r for r in emu.requests() if r["segments"] and r["segments"][0] != "$batch"]


def notified(emu):
    """item id -> list of recipients notified for it."""
    out = {}
    for note in emu.notifications():
        if note["kind"] == "event_cancelled":
            out.setdefault(note["item_id"], []).append(note["recipient"])
    return out


def state(emu, owner=None):
    """default id given in the seed -> stored event (the seed ids are re-minted on a move, the immutable ids stay)."""
    return dict((e["immutableId"], e) for e in emu.events_state(owner))


def immutable(emu, default_id, owner=None):  # pylint: disable=unused-argument
    """The immutable id the emulator derives for a seeded event (stable across moves)."""
    return derive_immutable_id(default_id)


@pytest.fixture
def cancel(emu, capsys):
    def _run(args, **kw):
        return run(calendar_event_cancel, emu, args, capsys=capsys, **kw)
    return _run


@pytest.fixture
def group(emu):
    return emu["groups"]["team"]


# --------------------------------------------------------------------------- the ten paths


def _path_cases():
    owners = []
    for owner in ("me", "users"):
        owners += [
            (owner, {}, "events", BUDGET),
            (owner, {"calendar_id": "default"}, "calendar", BUDGET),
            (owner, {"calendar_id": PROJECTS_CAL}, "calendars", FALCON),
            (owner, {"calendar_group_id": ROTAS_GROUP, "calendar_id": ONCALL_CAL}, "calendarGroups", HANDOVER),
        ]
    owners += [("groups", {}, "events", OFFSITE), ("groups", {"calendar_id": "default"}, "calendar", OFFSITE)]
    return owners


@pytest.mark.parametrize("owner,calendar,container,event_id", _path_cases(),
                         ids=["%s-%s" % (c[0], c[2]) for c in _path_cases()])
def test_every_cancel_path(cancel, emu, upn, group, owner, calendar, container, event_id):
    args = dict(calendar, event_id=event_id, comment="Sorry, cancelled.")
    kind = "app"
    if owner == "users":
        args["user"] = upn
    else:
        kind = "delegated"  # /me and group calendars take a delegated token only
        if owner == "groups":
            args["group_id"] = group
    failed, result = cancel(args, kind=kind)
    assert not failed, result
    assert result["changed"] is True
    assert result["cancelled"] == [event_id]

    sent = cancels(emu)
    assert len(sent) == 1
    segments = sent[0]["segments"]
    prefix = {"me": ["me"], "users": ["users", upn], "groups": ["groups", group]}[owner]
    assert segments[:len(prefix)] == prefix
    rest = segments[len(prefix):]
    expected = {
        "events": ["events"],
        "calendar": ["calendar", "events"],
        "calendars": ["calendars", calendar.get("calendar_id"), "events"],
        "calendarGroups": ["calendarGroups", calendar.get("calendar_group_id"), "calendars", calendar.get("calendar_id"), "events"],
    }[container]
    assert rest[:-2] == expected and rest[-1] == "cancel"
    assert sent[0]["body"] == {"Comment": "Sorry, cancelled."}
    assert sent[0]["status"] == 202
    assert 'idtype="immutableid"' in sent[0]["headers"].get("prefer", "").replace(" ", "").lower()

    # One cancellation per attendee, and the organizer's copy is in Deleted Items.
    notes = [n for n in emu.notifications() if n["kind"] == "event_cancelled"]
    assert len(notes) == ATTENDEES[event_id]
    assert len(set(n["recipient"] for n in notes)) == ATTENDEES[event_id]
    assert all(n["message"] == "Sorry, cancelled." for n in notes)
    stored = [e for e in emu.events_state(group if owner == "groups" else upn) if e["immutableId"] == notes[0]["item_id"]]
    assert stored and stored[0]["isCancelled"] is True and stored[0]["parentFolder"] == "deleteditems"

    # The rerun reads, finds it cancelled (or gone from that calendar) and sends nothing.
    failed, again = cancel(args, kind=kind)
    assert not failed and again["changed"] is False
    assert again["already_cancelled"] + again["already_absent"] == [event_id]
    assert len(cancels(emu)) == 1
    assert len(emu.notifications()) == ATTENDEES[event_id]


# --------------------------------------------------------------------------- check mode x state


def _prepare(emu, cancel, upn, current):
    """Bring an event into `current` state; returns the id to target."""
    if current == "present":
        return BUDGET
    if current == "cancelled":
        failed, _res = cancel(dict(user=upn, event_id=BUDGET))
        assert not failed
        # By its immutable id the cancelled item still reads, with isCancelled: true.
        return immutable(emu, BUDGET)
    if current == "absent":
        return "AAMkADdoesnotexist000000000000000000000000000="
    return ALL_HANDS  # not organizer


@pytest.mark.parametrize("check", [True, False], ids=["check", "run"])
@pytest.mark.parametrize("current", ["present", "cancelled", "absent", "not_organizer"])
def test_check_mode_by_state(cancel, emu, upn, check, current):
    target = _prepare(emu, cancel, upn, current)
    before_cancels = len(cancels(emu))
    before_notes = len(emu.notifications())
    failed, result = cancel(dict(user=upn, event_id=target, comment="x"), check=check)

    if current == "not_organizer":
        assert failed
        assert ALL_HANDS in result["msg"] and "organiz" in result["msg"]
        assert result["changed"] is False
    elif current == "present":
        assert not failed and result["changed"] is True and result["cancelled"] == [BUDGET]
    elif current == "cancelled":
        assert not failed and result["changed"] is False and result["already_cancelled"] == [target]
    else:
        assert not failed and result["changed"] is False and result["already_absent"] == [target]

    sent = len(cancels(emu)) - before_cancels
    notes = len(emu.notifications()) - before_notes
    if current == "present" and not check:
        assert sent == 1 and notes == ATTENDEES[BUDGET]
    else:
        assert sent == 0 and notes == 0
    if check and current == "present":
        assert state(emu)[immutable(emu, BUDGET)]["isCancelled"] is False


def test_check_mode_predicts_the_real_run(cancel, emu, upn):
    args = dict(user=upn, match=dict(start="2027-03-02T00:00:00Z", end="2027-03-05T00:00:00Z"))
    _f, predicted = cancel(args, check=True)
    assert cancels(emu) == []
    _f, real = cancel(args)
    assert predicted["changed"] is True and real["changed"] is True
    assert sorted(predicted["cancelled"]) == sorted(real["cancelled"])
    assert sorted(predicted["skipped_not_organizer"]) == sorted(real["skipped_not_organizer"])


def test_default_id_of_a_cancelled_event_reads_as_absent(cancel, emu, upn):
    # A cancel moves the item to Deleted Items and re-mints its default id, so the seeded
    # (default) id then reads as absent: both count as done (NOTES, unverified either way).
    cancel(dict(user=upn, event_id=BUDGET))
    failed, result = cancel(dict(user=upn, event_id=BUDGET), check=True)
    assert not failed and result["changed"] is False and result["already_absent"] == [BUDGET]
    assert len(cancels(emu)) == 1


def test_diff(cancel, emu, upn):
    failed, result = cancel(dict(user=upn, event_id=BUDGET), check=True, diff=True)
    assert not failed
    before = result["diff"]["before"][BUDGET]
    assert before["subject"] == "Quarterly budget review"
    assert before["type"] == "singleInstance"
    assert before["attendee_count"] == 3
    assert before["start"]["date_time"].startswith("2027-03-02T14:00:00")
    assert before["end"]["date_time"].startswith("2027-03-02T15:00:00")
    assert result["diff"]["after"] == {BUDGET: "cancelled"}
    assert cancels(emu) == []


def test_no_diff_when_nothing_changes(cancel, emu, upn):
    failed, result = cancel(dict(user=upn, event_id=ALL_HANDS.replace("A", "B", 1)), diff=True)
    assert not failed and result["changed"] is False and "diff" not in result


# --------------------------------------------------------------------------- selectors


def test_event_ids_deduplicated_and_batched(cancel, emu, upn):
    ids = [BUDGET, VENDOR, BUDGET, WORKSHOP, VENDOR]
    failed, result = cancel(dict(user=upn, event_ids=ids, comment="Off-site week"))
    assert not failed, result
    assert result["cancelled"] == [BUDGET, VENDOR, WORKSHOP]
    sent = cancels(emu)
    assert len(sent) == 3
    assert all(r["in_batch"] for r in sent)
    per_item = notified(emu)
    assert sorted(len(v) for v in per_item.values()) == sorted([ATTENDEES[BUDGET], ATTENDEES[VENDOR], ATTENDEES[WORKSHOP]])


def test_match_window_skips_meetings_the_owner_only_attends(cancel, emu, upn):
    args = dict(user=upn, match=dict(start="2027-03-03T00:00:00Z", end="2027-03-05T00:00:00Z"), comment="Office closed")
    failed, result = cancel(args)
    assert not failed, result
    cancelled_subjects = sorted(e["subject"] for e in result["events"] if e["result"] == "cancelled")
    assert cancelled_subjects == ["Clinic process workshop", "Vendor demo: scheduling suite"]
    skipped = set(result["skipped_not_organizer"])
    assert skipped == {immutable(emu, ALL_HANDS), immutable(emu, FABRIKAM)}
    # Nothing was sent for the meetings Adele only attends.
    sent_ids = set(r["segments"][-2] for r in cancels(emu))
    assert sent_ids == set(result["cancelled"])
    assert not skipped & sent_ids
    stored = state(emu)
    assert stored[immutable(emu, ALL_HANDS)]["isCancelled"] is False
    assert stored[immutable(emu, FABRIKAM)]["isCancelled"] is False
    assert len(emu.notifications()) == ATTENDEES[VENDOR] + ATTENDEES[WORKSHOP]
    # The window is read in pages of 500, not Outlook's default 10: one round trip per 500 events.
    views = [r for r in emu.requests() if r["segments"][-1:] == ["calendarView"]]
    assert views and all(r["query"].get("$top") == "500" for r in views)

    failed, again = cancel(args)
    assert not failed and again["changed"] is False and again["cancelled"] == []
    assert len(emu.notifications()) == ATTENDEES[VENDOR] + ATTENDEES[WORKSHOP]


def test_match_subject_filters(cancel, emu, upn):
    window = dict(start="2027-03-01T00:00:00Z", end="2027-03-06T00:00:00Z")
    _f, exact = cancel(dict(user=upn, match=dict(window, subject="Focus time")), check=True)
    assert [e["subject"] for e in exact["events"]] == ["Focus time"]
    _f, contains = cancel(dict(user=upn, match=dict(window, subject_contains="REVIEW")), check=True)
    assert sorted(e["subject"] for e in contains["events"]) == ["Fabrikam design review", "Quarterly budget review"]
    assert [e["subject"] for e in contains["events"] if e["result"] == "cancelled"] == ["Quarterly budget review"]
    assert cancels(emu) == []


def test_match_cancels_occurrences_not_the_series(cancel, emu, upn):
    args = dict(user=upn, match=dict(start="2027-03-08T00:00:00Z", end="2027-03-09T00:00:00Z", subject="Weekly team sync"))
    failed, result = cancel(args)
    assert not failed, result
    assert len(result["cancelled"]) == 1
    assert result["events"][0]["type"] == "occurrence"
    master = state(emu)[immutable(emu, SERIES)]
    assert master["isCancelled"] is False and master["cancelledOccurrenceDates"] == ["2027-03-08"]
    assert len(emu.notifications()) == ATTENDEES[SERIES]


def test_match_end_must_follow_start(cancel, emu, upn):
    failed, result = cancel(dict(user=upn, match=dict(start="2027-03-03T00:00:00Z", end="2027-03-02T00:00:00Z")))
    assert failed and "match.end" in result["msg"]
    assert graph_calls(emu) == []


def test_series_master_cancels_the_whole_series(cancel, emu, upn):
    failed, result = cancel(dict(user=upn, event_id=SERIES, comment="Series over"), diff=True)
    assert not failed, result
    assert result["diff"]["before"][SERIES]["type"] == "seriesMaster"
    notes = [n for n in emu.notifications() if n["kind"] == "event_cancelled"]
    # One cancellation per attendee for the series, not one per occurrence.
    assert len(notes) == ATTENDEES[SERIES]
    assert len(set(n["recipient"] for n in notes)) == ATTENDEES[SERIES]
    assert state(emu)[immutable(emu, SERIES)]["isCancelled"] is True


def test_occurrence_by_date(cancel, emu, upn):
    args = dict(user=upn, occurrence=dict(series_id=SERIES, date="2027-03-15"), comment="No sync on the 15th")
    failed, result = cancel(args)
    assert not failed, result
    assert result["changed"] is True and len(result["cancelled"]) == 1
    assert result["events"][0]["type"] == "occurrence"
    master = state(emu)[immutable(emu, SERIES)]
    assert master["cancelledOccurrenceDates"] == ["2027-03-15"] and master["isCancelled"] is False
    assert len(emu.notifications()) == ATTENDEES[SERIES]

    # Already cancelled: gone from instances; ok, not changed, nothing sent.
    failed, again = cancel(args)
    assert not failed, again
    assert again["changed"] is False and len(again["already_cancelled"]) == 1
    assert len(cancels(emu)) == 1 and len(emu.notifications()) == ATTENDEES[SERIES]

    # The other occurrences are intact.
    assert state(emu)[immutable(emu, SERIES)]["cancelledOccurrenceDates"] == ["2027-03-15"]


def test_occurrence_check_mode(cancel, emu, upn):
    failed, result = cancel(dict(user=upn, occurrence=dict(series_id=SERIES, date="2027-03-22")), check=True)
    assert not failed and result["changed"] is True
    assert cancels(emu) == [] and emu.notifications() == []


@pytest.mark.parametrize("day", ["2027-03-16", "2027-05-03", "2027-02-22"], ids=["tuesday", "after-end", "before-start"])
def test_occurrence_date_without_occurrence_fails_clearly(cancel, emu, upn, day):
    failed, result = cancel(dict(user=upn, occurrence=dict(series_id=SERIES, date=day)))
    assert failed
    assert "no occurrence on %s" % day in result["msg"]
    assert cancels(emu) == [] and emu.notifications() == []


@pytest.mark.parametrize("day", ["15/03/2027", "9999-12-31"], ids=["not-a-day", "last-day"])
def test_occurrence_bad_date(cancel, emu, upn, day):
    failed, result = cancel(dict(user=upn, occurrence=dict(series_id=SERIES, date=day)))
    assert failed and "occurrence.date" in result["msg"]
    assert graph_calls(emu) == []


def test_occurrence_of_a_single_event_fails(cancel, emu, upn):
    failed, result = cancel(dict(user=upn, occurrence=dict(series_id=BUDGET, date="2027-03-02")))
    assert failed and "not a series master" in result["msg"]
    assert cancels(emu) == []


# --------------------------------------------------------------------------- owner and input checks


def test_me_with_an_app_token_fails_before_any_request(cancel, emu):
    failed, result = cancel(dict(event_id=BUDGET))
    assert failed
    assert "set user" in result["msg"] and "delegated" in result["msg"]
    assert emu.requests() == []
    assert emu.token_requests() == []


@pytest.mark.parametrize("args,option", [
    (dict(user="adele/../x", event_id=BUDGET), "user"),
    (dict(group_id="team?x", event_id=BUDGET), "group_id"),
    (dict(user="u", calendar_id="cal#1", event_id=BUDGET), "calendar_id"),
    (dict(user="u", calendar_group_id="g%2F", calendar_id="c", event_id=BUDGET), "calendar_group_id"),
    (dict(user="u", event_id=".."), "event_id"),
    (dict(user="u", event_id=" AAMk"), "event_id"),
    (dict(user="u", event_ids=[BUDGET, "a\\b"]), "event_ids"),
    (dict(user="u", occurrence=dict(series_id="a/b", date="2027-03-15")), "occurrence.series_id"),
], ids=["user", "group_id", "calendar_id", "calendar_group_id", "dotdot", "blank", "event_ids", "series_id"])
def test_bad_ids_send_nothing(cancel, emu, args, option):
    failed, result = cancel(args)
    assert failed
    assert result["msg"].startswith(option)
    assert emu.requests() == [] and emu.token_requests() == []


def test_group_with_secondary_calendar_is_refused(cancel, emu, group):
    failed, result = cancel(dict(group_id=group, calendar_id=PROJECTS_CAL, event_id=OFFSITE))
    assert failed and "group" in result["msg"]
    assert emu.requests() == []


def test_explicit_ids_not_organized_fail_naming_them_and_send_nothing(cancel, emu, upn):
    failed, result = cancel(dict(user=upn, event_ids=[BUDGET, ALL_HANDS, FABRIKAM]))
    assert failed
    assert ALL_HANDS in result["msg"] and FABRIKAM in result["msg"]
    assert cancels(emu) == [] and emu.notifications() == []


# --------------------------------------------------------------------------- partial failure


def test_bulk_partial_failure_then_rerun_doubles_nothing(cancel, emu, upn):
    workshop = immutable(emu, WORKSHOP)
    # The cancel of one item fails every time it is tried (5xx: ambiguous, so the client probes first).
    emu.add_fault("status_500_unknown", method="POST", path_regex=".*/events/%s/cancel$" % workshop, times=50)
    ids = [BUDGET, WORKSHOP, VENDOR]
    failed, result = cancel(dict(user=upn, event_ids=ids, comment="Bulk"))
    assert failed
    assert WORKSHOP in result["msg"] and "500" in result["msg"]
    assert result["cancelled"] == [BUDGET, VENDOR]
    assert result["changed"] is True
    assert [f["id"] for f in result["failures"]] == [WORKSHOP]
    stored = state(emu)
    assert stored[immutable(emu, BUDGET)]["isCancelled"] is True
    assert stored[workshop]["isCancelled"] is False

    emu.clear_faults()
    failed, again = cancel(dict(user=upn, event_ids=ids, comment="Bulk"))
    assert not failed, again
    assert again["cancelled"] == [WORKSHOP]
    assert sorted(again["already_cancelled"] + again["already_absent"]) == sorted([BUDGET, VENDOR])
    per_item = notified(emu)
    assert sorted(len(v) for v in per_item.values()) == sorted([ATTENDEES[BUDGET], ATTENDEES[VENDOR], ATTENDEES[WORKSHOP]])
    assert all(len(v) == len(set(v)) for v in per_item.values())


def test_answer_lost_after_the_cancel_applied_notifies_once(cancel, emu, upn):
    budget = immutable(emu, BUDGET)
    emu.add_fault("applied_then_504", method="POST", path_regex=".*/events/%s/cancel$" % budget, times=1)
    failed, result = cancel(dict(user=upn, event_id=BUDGET))
    assert not failed, result
    assert result["cancelled"] == [BUDGET]
    assert len(emu.notifications()) == ATTENDEES[BUDGET]


def test_app_without_write_permission_fails_before_any_graph_request(emu, capsys, upn):
    # The read-only app may read (Calendars.Read): its roles show it can not cancel, so nothing is sent.
    params = dict(user=upn, event_ids=[BUDGET, VENDOR], client_id=emu["apps"]["readonly"]["client_id"],
                  client_secret=emu["apps"]["readonly"]["client_secret"])
    failed, result = run(calendar_event_cancel, emu, params, capsys=capsys)
    assert failed
    assert result["msg"].startswith("Nothing sent") and "Calendars.ReadWrite" in result["msg"]
    assert result["changed"] is False and result["cancelled"] == []
    assert emu.requests() == [] and emu.notifications() == []


def test_forbidden_read_fails_naming_the_event_and_the_permission(emu, capsys):
    # A 403 from Graph although the token has the scope (the user is no member of this group): the
    # failure names the event and the permission the task needs.
    other = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    emu.seed({"groups": [{"id": other, "displayName": "Other", "mail": "other@contoso.example", "members": []}]})
    failed, result = run(calendar_event_cancel, emu, dict(group_id=other, event_ids=[OFFSITE]), kind="delegated",
                         capsys=capsys)
    assert failed
    assert "Reading event %s failed: HTTP 403" % OFFSITE in result["msg"] and "Group.ReadWrite.All" in result["msg"]
    assert all(f["error"]["status"] == 403 and "Group.ReadWrite.All" in f["error"]["note"] for f in result["failures"])
    assert cancels(emu) == [] and emu.notifications() == []


def test_failed_read_names_the_event_and_sends_nothing(cancel, emu, upn):
    emu.add_fault("status_500_unknown", method="GET", path_regex=".*/events/%s$" % VENDOR, times=50)
    failed, result = cancel(dict(user=upn, event_ids=[BUDGET, VENDOR]))
    assert failed
    assert result["msg"].startswith("Nothing sent: Reading event %s failed: HTTP 500" % VENDOR)
    assert cancels(emu) == [] and emu.notifications() == []
