# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Microsoft Bookings domain logic (_bookings): selections, summaries, filters, plans and cancels.

No Graph and no emulator: the client is a stand-in answering at the GraphClient's public API
(get_all, read_many, read_then_write, write_at_most_once), which records every operation it is given.
"""

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils import _bookings as bookings
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOutcome, WriteOutcome
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import (
    GraphForbidden, GraphNotFound, GraphServerError, InvalidInputError)

BUSINESS = "contosoclinic@contoso.example"
MISSING = GraphNotFound(404, code="ErrorItemNotFound")
NOT_A_MEMBER = GraphNotFound(404, code="ErrorFolderNotFound")


def appointment(appointment_id, start="2027-03-02T09:00:00.0000000", zone="UTC", **extra):
    body = {"id": appointment_id, "serviceId": "svc-1", "serviceName": "Check-up", "staffMemberIds": ["staff-1"],
            "customers": [{"name": "Alex Wilber", "emailAddress": "alex@contoso.example"}],
            "startDateTime": {"dateTime": start, "timeZone": zone},
            "endDateTime": {"dateTime": "2027-03-02T09:30:00.0000000Z", "timeZone": zone}}
    body.update(extra)
    return body


class FakeClient:
    """key -> ReadOutcome for reads, key -> (result, error) for writes; every op recorded in sent."""

    api_version = "v1.0"

    def __init__(self, reads=None, writes=None, window=None):
        self.reads, self.writes, self.window = reads or {}, writes or {}, window or []
        self.sent = []

    def get_all(self, path, params=None, outlook=False):
        self.sent.append(("GET", path, params))
        return self.window

    def read_many(self, ops):
        self.sent.extend(ops)
        return [self.reads[op.key] for op in ops]

    def _write(self, op, probed=False):
        result, error = self.writes.get(op.key, ("done", None))
        return WriteOutcome(op.key, result, None, error, probed)

    def write_at_most_once(self, ops):
        self.sent.extend(ops)
        return [self._write(op) for op in ops]

    def read_then_write(self, read_op, write_op):
        self.sent.extend([read_op, write_op])
        read = self.reads[read_op.key]
        return read, (self._write(write_op) if read.status == 200 else None)


def params(**given):
    base = dict(business_id=BUSINESS, appointment_id=None, appointment_ids=None, match=None, start=None, end=None,
                customer_email=None, service_id=None, staff_member_id=None)
    base.update(given)
    return base


WEEK = dict(start="2027-03-01T00:00:00Z", end="2027-03-08T00:00:00Z", customer_email=None, service_id=None, staff_member_id=None)


# --------------------------------------------------------------------------- what the user asked for


@pytest.mark.parametrize("given,option", [
    (dict(business_id="..", appointment_id="a"), "business_id"),
    (dict(appointment_id="a/b"), "appointment_id"),
    (dict(appointment_ids=["a", " b"]), "appointment_ids"),
    (dict(match=dict(WEEK, staff_member_id="x#y")), "match.staff_member_id"),
    (dict(match=dict(WEEK, start="next monday")), "match.start"),
    (dict(match=dict(WEEK, end="2027-02-01T00:00:00Z")), "match.end"),
    (dict(match=dict(WEEK, end="9999-12-31T23:30:00-01:00")), "match.end"),
])
def test_cancel_selection_names_the_option_at_fault(given, option):
    with pytest.raises(InvalidInputError) as info:
        bookings.cancel_selection(params(**given))
    assert info.value.option == option and str(info.value).startswith(option), str(info.value)


def test_selections():
    assert bookings.cancel_selection(params(appointment_ids=["a", "b", "a"])).ids == ["a", "b"]
    sel = bookings.cancel_selection(params(match=dict(WEEK, service_id="svc-1")))
    assert sel.filters == {"customer_email": None, "service_id": "svc-1", "staff_member_id": None} and sel.ids is None
    sel = bookings.info_selection(params(appointment_id="a", customer_email="alex@contoso.example"))
    assert sel.ids == ["a"] and sel.filters["customer_email"] == "alex@contoso.example"
    for given, option in ((dict(start="tuesday", end="2027-03-02"), "start"), (dict(appointment_id="a", service_id=".."), "service_id")):
        with pytest.raises(InvalidInputError) as info:
            bookings.info_selection(params(**given))
        assert info.value.option == option


def test_china_has_no_bookings():
    bookings.check_cloud("global")
    with pytest.raises(InvalidInputError) as info:
        bookings.check_cloud("china")
    assert str(info.value) == "Microsoft Bookings is not available in the china (21Vianet) cloud" and info.value.option == "cloud"


# --------------------------------------------------------------------------- summaries and filters


def test_summary_in_utc_and_diff():
    summary = bookings.appointment_summary(appointment("a"))
    assert summary == {"id": "a", "start": "2027-03-02T09:00:00Z", "end": "2027-03-02T09:30:00Z", "service_id": "svc-1",
                       "service_name": "Check-up", "staff_member_ids": ["staff-1"],
                       "customers": [{"name": "Alex Wilber", "email_address": "alex@contoso.example"}]}
    assert bookings.build_diff([summary]) == {
        "before": {"a": {"start": "2027-03-02T09:00:00Z", "end": "2027-03-02T09:30:00Z", "service": "Check-up",
                         "customers": ["Alex Wilber <alex@contoso.example>"]}},
        "after": {"a": "absent"}}
    # Not UTC, or not readable: kept as Graph wrote it rather than guessed.
    assert bookings.appointment_summary(appointment("b", zone="Pacific Standard Time"))["start"] == (
        "2027-03-02T09:00:00.0000000 Pacific Standard Time")
    assert bookings.appointment_summary(appointment("c", start="0001-01-01T00:00:00+01:00"))["start"] == (
        "0001-01-01T00:00:00+01:00 UTC")


@pytest.mark.parametrize("filters,expected", [
    ({}, True), ({"customer_email": " ALEX@contoso.example"}, True), ({"customer_email": "bob@contoso.example"}, False),
    ({"service_id": "svc-1", "staff_member_id": "staff-1"}, True), ({"staff_member_id": "staff-2"}, False)])
def test_filters(filters, expected):
    assert bookings.matches_filters(appointment("a"), filters) is expected


# --------------------------------------------------------------------------- plans and the cancel


def test_plan_of_ids_reads_in_bulk_and_sorts_what_it_found():
    failure = GraphServerError(503, code="ServiceUnavailable")
    client = FakeClient(reads={"a": ReadOutcome("a", 200, appointment("a"), None), "b": ReadOutcome("b", 404, None, MISSING),
                               "c": ReadOutcome("c", 503, None, failure), "d": ReadOutcome("d", 404, None, NOT_A_MEMBER)})
    plan = bookings.plan_cancel(client, bookings.Selection(BUSINESS, ids=["a", "b", "c", "d"]), "Sorry", check_mode=False)
    assert plan.to_cancel == ["a"] and plan.already_absent == ["b"] and plan.sent is None
    # ErrorFolderNotFound is a 404 too, but it means "not a member of this business": a failure, not absent.
    assert plan.failures == [("c", failure, "Read"), ("d", NOT_A_MEMBER, "Read")]
    assert [op.params for op in client.sent] == [{"$select": bookings.APPOINTMENT_FIELDS["v1.0"]}] * 4

    client.writes = {"a": ("failed", GraphForbidden(403, code="ErrorAccessDenied"))}
    bookings.cancel(client, plan, "Sorry")
    assert client.sent[-1].path == "/solutions/bookingBusinesses/%s/appointments/a/cancel" % BUSINESS.replace("@", "%40")
    assert client.sent[-1].body == {"cancellationMessage": "Sorry"} and client.sent[-1].probe_path.endswith("/appointments/a")
    assert plan.cancelled == [] and [(key, step) for key, _e, step in plan.failures][-1] == ("a", "Cancel")


def test_one_appointment_is_read_and_cancelled_in_one_round_trip_outside_check_mode():
    client = FakeClient(reads={"a": ReadOutcome("a", 200, appointment("a"), None)})
    selection = bookings.Selection(BUSINESS, ids=["a"])
    plan = bookings.plan_cancel(client, selection, None, check_mode=False)
    assert [type(op).__name__ for op in client.sent] == ["ReadOp", "WriteOp"] and plan.to_cancel == ["a"]
    bookings.cancel(client, plan, None)
    assert len(client.sent) == 2 and plan.cancelled == ["a"]  # the cancel was not sent again

    checked = FakeClient(reads={"a": ReadOutcome("a", 200, appointment("a"), None)})
    plan = bookings.plan_cancel(checked, selection, None, check_mode=True)
    assert [type(op).__name__ for op in checked.sent] == ["ReadOp"] and plan.to_cancel == ["a"] and plan.sent is None


def test_an_appointment_gone_between_the_read_and_the_cancel_is_absent():
    client = FakeClient(reads={k: ReadOutcome(k, 200, appointment(k), None) for k in "ab"}, writes={"b": ("absent", MISSING)})
    plan = bookings.plan_cancel(client, bookings.Selection(BUSINESS, ids=["a", "b"]), None, check_mode=False)
    bookings.cancel(client, plan, None)
    assert plan.cancelled == ["a"] and plan.already_absent == ["b"] and plan.failures == []


def test_plan_of_a_window_keeps_what_overlaps_and_matches_once():
    window = bookings.cancel_selection(params(match=dict(WEEK, customer_email="alex@contoso.example"))).window
    client = FakeClient(window=[appointment("a"), appointment("a"), appointment("late", start="2027-03-09T09:00:00Z"),
                                appointment("other", customers=[])])
    plan = bookings.plan_cancel(client, bookings.Selection(BUSINESS, window=window,
                                                           filters={"customer_email": "alex@contoso.example"}), None, True)
    assert plan.to_cancel == ["a"]
    assert client.sent[0][2]["start"] == "2027-03-01T00:00:00Z" and client.sent[0][2]["end"] == "2027-03-08T00:00:00Z"
