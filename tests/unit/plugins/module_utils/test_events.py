# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Calendar events domain logic (_events): selections, addresses, plans and cancels.

No Graph and no emulator: the client is a stand-in answering at the GraphClient's public API
(get, get_all, read_many, write_at_most_once), which records every operation it is given.
"""

import datetime

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils import _events as events
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOutcome, WriteOutcome
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import (
    GraphNotFound, GraphServerError, InvalidInputError)

UPN = "adele.vance@contoso.example"


def event(event_id, organizer=True, cancelled=False, kind="singleInstance", subject="Review"):
    return {"id": event_id, "subject": subject, "type": kind, "isOrganizer": organizer, "isCancelled": cancelled,
            "start": {"dateTime": "2027-03-02T09:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2027-03-02T10:00:00.0000000", "timeZone": "UTC"},
            "attendees": [{}, {}], "organizer": {"emailAddress": {"address": UPN}}}


class FakeClient:
    """GraphClient's public API, answered from dicts: path -> body (or an exception) for get/get_all,
    key -> ReadOutcome for read_many, key -> result for write_at_most_once."""

    def __init__(self, gets=None, lists=None, reads=None, writes=None):
        self.gets, self.lists, self.reads, self.writes = gets or {}, lists or {}, reads or {}, writes or {}
        self.sent = []

    def get(self, path, params=None, outlook=False):
        answer = self.gets[path]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get_all(self, path, params=None, outlook=False):
        self.sent.append(("GET", path, params))
        return self.lists[path]

    def read_many(self, ops):
        return [self.reads[op.key] for op in ops]

    def write_at_most_once(self, ops):
        self.sent.extend(ops)
        return [WriteOutcome(op.key, self.writes.get(op.key, "done"), None, None, False) for op in ops]


def params(**given):
    base = dict(user=UPN, group_id=None, calendar_id=None, calendar_group_id=None, event_id=None, event_ids=None,
                occurrence=None, match=None, start=None, end=None, subject=None, subject_contains=None, organizer_only=False)
    base.update(given)
    return base


# --------------------------------------------------------------------------- what the user asked for


@pytest.mark.parametrize("given,option", [
    (dict(user="a/b", event_id="x"), "user"),
    (dict(user=None, group_id="g", calendar_group_id="c", calendar_id="d", event_id="x"), "calendar_group_id"),
    (dict(user=None, group_id="g", calendar_id="other", event_id="x"), "calendar_id"),
    (dict(calendar_group_id="c", event_id="x"), "calendar_group_id"),
    (dict(event_ids=[]), "event_ids"),
    (dict(occurrence=dict(series_id="s", date="2027-02-30")), "occurrence.date"),
    (dict(occurrence=dict(series_id="s", date="0001-01-01")), "occurrence.date"),
    (dict(match=dict(start="2027-03-02", end="2027-03-01", subject=None, subject_contains=None)), "match.end"),
    (dict(match=dict(start="0001-01-01T00:00:00+01:00", end="2027-03-01", subject=None, subject_contains=None)),
     "match.start"),
])
def test_cancel_selection_names_the_option_at_fault(given, option):
    with pytest.raises(InvalidInputError) as info:
        events.cancel_selection(params(**given))
    assert info.value.option == option and str(info.value).startswith(option), str(info.value)


def test_selections():
    sel = events.cancel_selection(params(event_ids=["a", "b", "a"]))
    assert sel.ids == ["a", "b"] and sel.address.mailbox == "users/" + UPN
    sel = events.cancel_selection(params(occurrence=dict(series_id="s", date="2027-03-15")))
    assert (sel.series_id, sel.day) == ("s", datetime.date(2027, 3, 15))
    sel = events.info_selection(params(start="2027-03-02", end="2027-03-03", organizer_only=True))
    assert [w.isoformat() for w in sel.window] == ["2027-03-02T00:00:00+00:00", "2027-03-03T00:00:00+00:00"]
    assert sel.organizer_only is True
    with pytest.raises(InvalidInputError) as info:
        events.info_selection(params(start="2027-03-02", end="2027-03-01"))
    assert "end must be after start" in str(info.value)


def test_me_needs_a_delegated_token():
    me = events.EventAddress()
    with pytest.raises(InvalidInputError) as info:
        events.check_owner(me, lambda: False)
    assert info.value.option == "user" and "set user" in str(info.value) and "delegated" in str(info.value)
    events.check_owner(me, lambda: True)
    asked = []
    events.check_owner(events.EventAddress(user=UPN), lambda: asked.append(1))
    assert asked == []  # a named owner never needs to know the token kind


@pytest.mark.parametrize("address,cancel_path,view_path", [
    (dict(user="a@b"), "/users/a%40b/events/E/cancel", "/users/a%40b/calendarView"),
    (dict(), "/me/events/E/cancel", "/me/calendarView"),
    (dict(group_id="g", calendar_id="default"), "/groups/g/calendar/events/E/cancel", "/groups/g/calendarView"),
    (dict(user="u", calendar_id="c"), "/users/u/calendars/c/events/E/cancel", "/users/u/calendars/c/calendarView"),
    (dict(user="u", calendar_group_id="g", calendar_id="c"), "/users/u/calendarGroups/g/calendars/c/events/E/cancel",
     "/users/u/calendarGroups/g/calendars/c/calendarView"),
])
def test_address_paths(address, cancel_path, view_path):
    where = events.EventAddress(**address)
    assert where.cancel_path("E") == cancel_path and where.calendar_view_path() == view_path
    assert where.event_path("E").endswith("/events/E") and "/calendar" not in where.event_path("E")


# --------------------------------------------------------------------------- plans


def test_plan_of_ids_classifies_every_outcome():
    address = events.EventAddress(user=UPN)
    failure = GraphServerError(500, code="UnknownError")
    client = FakeClient(reads={
        "mine": ReadOutcome("mine", 200, event("IMM-mine"), None),
        "gone": ReadOutcome("gone", 404, None, GraphNotFound(404)),
        "done": ReadOutcome("done", 200, event("IMM-done", cancelled=True), None),
        "theirs": ReadOutcome("theirs", 200, event("IMM-theirs", organizer=False), None),
        "broken": ReadOutcome("broken", 500, None, failure),
    })
    plan = events.plan_cancel(client, events.Selection(address, ids=["mine", "gone", "done", "theirs", "broken"]))
    assert plan.wanted == ["mine"] and plan.already_absent == ["gone"] and plan.already_cancelled == ["done"]
    assert plan.not_organizer == ["theirs"] and plan.skipped_not_organizer == []
    assert plan.read_failures == [("broken", failure)]
    assert [(s["id"], s["result"]) for s in plan.events] == [
        ("IMM-mine", "cancelled"), ("IMM-done", "already_cancelled"), ("IMM-theirs", "skipped_not_organizer")]
    predicted = plan.diff(check_mode=True)
    assert predicted == {"before": {"mine": {"subject": "Review", "type": "singleInstance", "attendee_count": 2,
                                             "start": {"date_time": "2027-03-02T09:00:00.0000000", "time_zone": "UTC"},
                                             "end": {"date_time": "2027-03-02T10:00:00.0000000", "time_zone": "UTC"}}},
                         "after": {"mine": "cancelled"}}
    # Outside check mode the diff follows the outcomes: nothing cancelled yet, nothing shown as cancelled.
    assert plan.diff()["after"] == {"mine": predicted["before"]["mine"]}


def test_plan_of_a_window_skips_series_masters_and_meetings_of_others():
    address = events.EventAddress(user=UPN)
    view = address.calendar_view_path()
    client = FakeClient(lists={view: [event("a"), event("m", kind="seriesMaster"), event("b", organizer=False),
                                      event("c", subject="Lunch")]})
    window = (datetime.datetime(2027, 3, 2, tzinfo=datetime.timezone.utc), datetime.datetime(2027, 3, 3, tzinfo=datetime.timezone.utc))
    plan = events.plan_cancel(client, events.Selection(address, window=window, subject_contains="REV"))
    assert plan.wanted == ["a"] and plan.skipped_not_organizer == ["b"] and plan.not_organizer == []
    assert client.sent[0][2]["startDateTime"] == "2027-03-02T00:00:00Z"


def _series(**extra):
    master = dict(event("S", kind="seriesMaster"), recurrence={
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
        "range": {"type": "noEnd", "startDate": "2027-03-01", "recurrenceTimeZone": "UTC"}})
    master.update(extra)
    return master


def _occurrence_plan(master, instances, day):
    address = events.EventAddress(user=UPN)
    client = FakeClient(gets={address.event_path("S"): master}, lists={address.instances_path("S"): instances})
    return events.plan_cancel(client, events.Selection(address, series_id="S", day=day))


def test_plan_of_an_occurrence():
    occurrence = dict(event("O", kind="occurrence"), start={"dateTime": "2027-03-15T09:00:00.0000000", "timeZone": "UTC"})
    plan = _occurrence_plan(_series(), [occurrence], datetime.date(2027, 3, 15))
    assert plan.wanted == ["O"]
    # Gone from the instances on a scheduled day: already cancelled, by its occurrence id.
    plan = _occurrence_plan(_series(), [], datetime.date(2027, 3, 22))
    assert plan.wanted == [] and plan.already_cancelled == ["OID.S.2027-03-22"]
    plan = _occurrence_plan(_series(cancelledOccurrences=["OID.x.2027-03-29"]), [], datetime.date(2027, 3, 29))
    assert plan.already_cancelled == ["OID.x.2027-03-29"]


@pytest.mark.parametrize("master,option,needle", [
    (_series(), "occurrence.date", "no occurrence on 2027-03-16"),
    (event("S"), "occurrence.series_id", "not a series master"),
    (_series(recurrence={"range": {"recurrenceTimeZone": "Nowhere Standard Time"}}), "occurrence.date", "unknown time zone"),
])
def test_an_occurrence_that_cannot_be_served_names_the_option(master, option, needle):
    with pytest.raises(InvalidInputError) as info:
        _occurrence_plan(master, [], datetime.date(2027, 3, 16))
    assert info.value.option == option and str(info.value).startswith(option) and needle in str(info.value)


def test_plan_of_an_absent_or_cancelled_series():
    address = events.EventAddress(user=UPN)
    client = FakeClient(gets={address.event_path("S"): GraphNotFound(404)})
    assert events.plan_cancel(client, events.Selection(address, series_id="S", day=datetime.date(2027, 3, 1))).already_absent == ["S"]
    plan = _occurrence_plan(_series(isCancelled=True), [], datetime.date(2027, 3, 1))
    assert plan.already_cancelled == ["S"] and plan.events[0]["result"] == "already_cancelled"
    plan = _occurrence_plan(_series(isOrganizer=False), [], datetime.date(2027, 3, 1))
    assert plan.not_organizer == ["S"]


# --------------------------------------------------------------------------- the cancel


def test_cancel_sends_one_write_per_event_by_immutable_id_and_settles_each_summary():
    address = events.EventAddress(user=UPN)
    plan = events.Plan(address)
    for reported, immutable in (("a", "IMM-a"), ("b", "IMM-b"), ("c", "IMM-c")):
        plan.classify(reported, event(immutable), skip_not_organizer=False)
    client = FakeClient(writes={"b": "absent", "c": "failed"})
    events.cancel(client, plan, None)
    assert [(op.key, op.path, op.body, op.probe_path) for op in client.sent] == [
        (key, "/users/%s/events/IMM-%s/cancel" % (UPN.replace("@", "%40"), key), {"Comment": ""},
         "/users/%s/events/IMM-%s" % (UPN.replace("@", "%40"), key)) for key in "abc"]
    assert all(op.outlook and op.mailbox == "users/" + UPN for op in client.sent)
    assert plan.cancelled == ["a"] and plan.gone_meanwhile == ["b"] and [k for k, _e in plan.cancel_failures] == ["c"]
    assert [s["result"] for s in plan.events] == ["cancelled", "already_absent", "failed"]


@pytest.mark.parametrize("status,body,done", [
    (404, None, True), (200, {"isCancelled": True}, True), (200, {"isCancelled": False}, False), (None, None, False)])
def test_a_cancel_is_done_when_the_event_is_gone_or_flagged(status, body, done):
    assert events.is_cancelled_probe(status, body) is done
