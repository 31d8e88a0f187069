# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Series in a window (_series, issue 18): whole, end, attendees_only, and the PATCH sent at most once.

Planning runs against a stand-in of the GraphClient's public API; the PATCH runs through the real
client against scripted HTTP (exact method, URL and body asserted). No emulator.
"""

import datetime

from ansible_collections.graphops.msgraph.plugins.module_utils import _events as events
from ansible_collections.graphops.msgraph.plugins.module_utils import _series as series
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOutcome, WriteOutcome

UPN = "adele.vance@contoso.example"
UTC = datetime.timezone.utc
RECURRENCE = {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
              "range": {"type": "noEnd", "startDate": "2027-01-04", "recurrenceTimeZone": "UTC", "numberOfOccurrences": 0}}


def ev(event_id, start, kind="singleInstance", master=None, attendees=2, organizer=True):
    return {"id": event_id, "subject": "S-" + event_id, "type": kind, "seriesMasterId": master, "isOrganizer": organizer,
            "isCancelled": False, "start": {"dateTime": start, "timeZone": "UTC"}, "end": {"dateTime": start, "timeZone": "UTC"},
            "attendees": [{"emailAddress": {"address": "a%d@x" % n}} for n in range(attendees)],
            "organizer": {"emailAddress": {"address": UPN}}}


MASTER = dict(ev("M1", "2027-01-04T09:00:00.0000000", kind="seriesMaster"), recurrence=RECURRENCE)


class FakeClient:
    def __init__(self, lists, masters):
        self.lists, self.masters, self.sent = lists, masters, []

    def get_all(self, path, params=None, outlook=False):
        self.sent.append(("GET", path, params))
        return self.lists[path.rsplit("/", 1)[-1] if path.endswith("calendarView") else path]

    def read_many(self, ops):
        self.sent.extend(("READ", op.path, None) for op in ops)
        return [ReadOutcome(op.key, 200, self.masters[op.key], None) for op in ops]

    def write_at_most_once(self, ops):
        self.sent.extend(ops)
        return [WriteOutcome(op.key, "done", 200, None, False) for op in ops]


def selection(mode, start="2027-03-10T00:00:00Z", attendees_only=False):
    match = dict(start=start, end="2027-06-01T00:00:00Z", subject=None, subject_contains=None, series=mode,
                 attendees_only=attendees_only, time_zone=None)
    params = dict(user=UPN, group_id=None, calendar_id=None, calendar_group_id=None, event_id=None, event_ids=None,
                  occurrence=None, match=match)
    return series.configure(events.cancel_selection(params), params)


def window(*found):
    return {"calendarView": list(found)}


OCCS = [ev("O%d" % n, "2027-03-%02dT09:00:00.0000000" % day, kind="occurrence", master="M1") for n, day in enumerate((15, 22, 29))]
INSTANCES_PATH = "/users/adele.vance%40contoso.example/events/M1/instances"


def test_whole_cancels_the_master_once():
    client = FakeClient(window(*OCCS), {"M1": MASTER})
    plan, work = series.plan_cancel(client, selection("whole"))
    assert plan.wanted == ["M1"] and work.to_end == []
    assert work.series == [{"id": "M1", "subject": "S-M1", "action": "cancelled", "end_date": None, "reason": None}]


def test_end_patches_the_range_to_the_last_occurrence_before_the_window():
    before = [ev("P%d" % n, "2027-03-%02dT09:00:00.0000000" % day, kind="occurrence", master="M1") for n, day in enumerate((1, 8))]
    client = FakeClient(dict(window(*OCCS), **{INSTANCES_PATH: before}), {"M1": MASTER})
    plan, work = series.plan_cancel(client, selection("end"))
    assert plan.wanted == [] and work.wanted == ["M1"]
    patched = work.to_end[0][2]
    assert patched["range"] == {"type": "endDate", "startDate": "2027-01-04", "endDate": "2027-03-08", "recurrenceTimeZone": "UTC"}
    assert patched["pattern"] == RECURRENCE["pattern"]
    instances = [s for s in client.sent if s[1] == INSTANCES_PATH][0][2]
    assert (instances["startDateTime"], instances["endDateTime"]) == ("2027-01-04T09:00:00Z", "2027-03-10T00:00:00Z")
    assert work.diff()["after"]["M1"]["recurrence_range"]["end_date"] == "2027-03-08"


def test_end_cancels_a_series_starting_in_the_window_and_leaves_an_ended_one():
    client = FakeClient(window(*OCCS), {"M1": MASTER})
    plan, work = series.plan_cancel(client, selection("end", start="2027-01-01T00:00:00Z"))
    assert plan.wanted == ["M1"] and work.series[0]["reason"] == "starts_in_window"

    ended = dict(MASTER, recurrence=dict(RECURRENCE, range=dict(RECURRENCE["range"], type="endDate", endDate="2027-03-08")))
    overlap = [ev("P", "2027-03-08T09:00:00.0000000", kind="occurrence", master="M1")]
    client = FakeClient(dict(window(*OCCS), **{INSTANCES_PATH: overlap}), {"M1": ended})
    plan, work = series.plan_cancel(client, selection("end"))
    assert plan.wanted == [] and work.to_end == [] and work.series[0]["reason"] == "already_ended"


def test_attendees_only_leaves_singles_and_series_without_attendees():
    lonely = dict(MASTER, attendees=[{"emailAddress": {"address": UPN}}])  # only the organizer
    client = FakeClient(window(ev("S1", "2027-03-11T09:00:00.0000000", attendees=0), ev("S2", "2027-03-12T09:00:00.0000000"), *OCCS),
                        {"M1": lonely})
    plan, work = series.plan_cancel(client, selection("whole", attendees_only=True))
    assert plan.wanted == ["S2"] and work.skipped_no_attendees == ["S1", "M1"]
    assert work.series[0]["reason"] == "no_attendees"


def test_occurrences_without_attendees_only_is_events_own_plan():
    client = FakeClient(window(*OCCS), {})
    plan, work = series.plan_cancel(client, selection("occurrences"))
    assert plan.wanted == ["O0", "O1", "O2"] and work.series == []


def test_the_patch_is_sent_once_and_an_ambiguous_one_is_read_back(make_client):
    ended = dict(MASTER, recurrence={"pattern": RECURRENCE["pattern"], "range": {"type": "endDate", "endDate": "2027-03-08"}})
    client, adapter = make_client([(504, None), (200, ended)])
    work = series.SeriesWork()
    patched = {"pattern": RECURRENCE["pattern"], "range": {"type": "endDate", "startDate": "2027-01-04", "endDate": "2027-03-08"}}
    work.to_end.append(("M1", MASTER, patched))
    work.series.append({"id": "M1", "subject": "S-M1", "action": "ended", "end_date": "2027-03-08", "reason": None})
    address = events.EventAddress(user=UPN)
    series.end_series(client, address, work)
    assert work.ended == ["M1"] and work.end_failures == []
    assert [(r.method, r.url.split("/v1.0")[1]) for r in adapter.requests] == [
        ("PATCH", "/users/adele.vance%40contoso.example/events/M1"), ("GET", "/users/adele.vance%40contoso.example/events/M1")]
    assert adapter.requests[0].body == {"recurrence": patched}
