# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bookings appointments in the Graph layer, in-process (no server)."""

import time

import pytest

from emulator.graph import GraphService
from emulator.graph.testing import (BUSINESS, FakeRuntime, app_principal, follow, load_fixture, make_request, seg,
                                    user_principal, ALEX)

V1 = "/solutions/bookingBusinesses/" + BUSINESS
BETA_SHORT = "/bookingBusinesses/" + BUSINESS


@pytest.fixture
def svc():
    service = GraphService(FakeRuntime())
    service.load(load_fixture())
    return service


def call(svc, method, url, principal=None, body=None, version="v1.0", headers=None):
    return svc.handle(make_request(method, url, principal or app_principal(), body, headers, version))


def appointment(svc, subject_index=0):
    return svc.appointments_state(BUSINESS)[subject_index]


def test_list_pages_with_top_and_next_link_on_same_host(svc):
    first = call(svc, "GET", V1 + "/appointments?$top=5")
    assert len(first.body["value"]) == 5
    items, pages = follow(svc, first, app_principal())
    assert pages == 3 and len(items) == 12 and len({a["id"] for a in items}) == 12


def test_list_whole_and_shapes_per_version(svc):
    v1 = call(svc, "GET", V1 + "/appointments")
    assert len(v1.body["value"]) == 12 and "@odata.nextLink" not in v1.body
    appt = v1.body["value"][0]
    assert appt["startDateTime"]["timeZone"] == "UTC" and appt["startDateTime"]["dateTime"].endswith("+00:00")
    assert "start" not in appt
    for url in (V1, BETA_SHORT):
        beta = call(svc, "GET", url + "/appointments/" + seg(appt["id"]), version="beta")
        assert beta.status == 200
        assert beta.body["start"] == appt["startDateTime"] and "startDateTime" not in beta.body


def test_beta_only_prefix_is_unknown_in_v1(svc):
    resp = call(svc, "GET", BETA_SHORT + "/appointments")
    assert resp.status == 400 and resp.body["error"]["message"] == "Resource not found for the segment 'bookingBusinesses'."


@pytest.mark.parametrize("version", ["v1.0", "beta"])
@pytest.mark.parametrize("query", ["", "?start=2027-03-02T00:00:00Z", "?end=2027-03-02T00:00:00Z", "?start=bad&end=2027-03-02"])
def test_calendar_view_requires_a_window(svc, version, query):
    resp = call(svc, "GET", V1 + "/calendarView" + query, version=version)
    assert resp.status == 400 and resp.body["error"]["innerError"]["request-id"]


def test_calendar_view_filters_overlap(svc):
    resp = call(svc, "GET", V1 + "/calendarView?start=2027-03-02T00:00:00Z&end=2027-03-03T00:00:00Z")
    assert [a["startDateTime"]["dateTime"][:16] for a in resp.body["value"]] == ["2027-03-02T08:30", "2027-03-02T11:00", "2027-03-02T15:30"]
    # The 09:00-10:00 consultation ends exactly where this window starts: no overlap.
    resp = call(svc, "GET", V1 + "/calendarView?start=2027-03-01T10:00:00%2B00:00&end=2027-03-01T10:31:00Z")
    assert [a["startDateTime"]["dateTime"][:16] for a in resp.body["value"]] == ["2027-03-01T10:30"]


def test_get_select_and_missing(svc):
    appt = appointment(svc)
    resp = call(svc, "GET", V1 + "/calendarView/%s?$select=serviceName,customers" % seg(appt["id"]))
    assert set(resp.body) == {"id", "serviceName", "customers"}
    missing = call(svc, "GET", V1 + "/appointments/AAMkADnope0000000000000000000000000000000000=")
    assert missing.status == 404 and missing.body["error"]["code"] == "ErrorItemNotFound"


@pytest.mark.parametrize("collection", ["appointments", "calendarView"])
def test_cancel_notifies_once_and_removes(svc, collection):
    appt = next(a for a in svc.appointments_state(BUSINESS) if len(a["customers"]) == 2)
    resp = call(svc, "POST", V1 + "/%s/%s/cancel" % (collection, seg(appt["id"])), body={"cancellationMessage": "Clinic closed"})
    assert resp.status == 204 and resp.body is None
    notes = svc.runtime.notifications
    assert sorted(n["role"] for n in notes) == ["customer", "customer"] + ["staff"] * len(appt["staffMemberIds"])
    assert {n["recipient"] for n in notes if n["role"] == "customer"} == {c["emailAddress"] for c in appt["customers"]}
    assert all(n["message"] == "Clinic closed" and n["item_id"] == appt["id"] and n["kind"] == "booking_cancelled" for n in notes)
    assert call(svc, "GET", V1 + "/appointments/" + seg(appt["id"])).status == 404
    again = call(svc, "POST", V1 + "/appointments/%s/cancel" % seg(appt["id"]), body={"cancellationMessage": "x"})
    assert again.status == 404 and len(svc.runtime.notifications) == len(notes)
    assert len(svc.appointments_state(BUSINESS)) == 11


@pytest.mark.parametrize("body", [None, [], {"message": "x"}, {"cancellationMessage": 5}])
def test_cancel_body_is_checked(svc, body):
    appt = appointment(svc)
    resp = call(svc, "POST", V1 + "/appointments/%s/cancel" % seg(appt["id"]), body=body)
    assert resp.status == 400 and not svc.runtime.notifications


def test_cancel_accepts_null_message_and_namespaced_action(svc):
    appt = appointment(svc)
    resp = call(svc, "POST", V1 + "/appointments/%s/microsoft.graph.cancel" % seg(appt["id"]), body={"cancellationMessage": None})
    assert resp.status == 204


def test_delegated_member_and_non_member(svc):
    appt = appointment(svc)
    url = V1 + "/appointments/%s/cancel" % seg(appt["id"])
    alex = call(svc, "POST", url, user_principal(ALEX), {"cancellationMessage": "x"})
    assert alex.status == 404 and alex.body["error"]["code"] == "ErrorFolderNotFound"
    assert call(svc, "POST", url, user_principal(), {"cancellationMessage": "x"}).status == 204


@pytest.mark.parametrize("principal,method,expected", [
    (app_principal(["Bookings.Read.All"]), "GET", 200),
    (app_principal(["Bookings.Read.All"]), "POST", 403),
    (app_principal(["Bookings.Manage.All"]), "POST", 204),
    (app_principal(["BookingsAppointment.ReadWrite.All"]), "GET", 403),  # delegated-only permission
    (app_principal(["Calendars.ReadWrite"]), "GET", 403),
    (user_principal(scopes=["Bookings.Read.All"]), "POST", 403),
    (user_principal(scopes=["Bookings.Read.All"]), "GET", 200),
    (user_principal(scopes=["Bookings.ReadWrite.All"]), "POST", 204),
])
def test_permissions(svc, principal, method, expected):
    appt = appointment(svc)
    url = V1 + "/appointments/" + seg(appt["id"]) + ("/cancel" if method == "POST" else "")
    resp = call(svc, method, url, principal, {"cancellationMessage": "x"} if method == "POST" else None)
    assert resp.status == expected
    if expected == 403:
        assert resp.body["error"] == dict(resp.body["error"], code="ErrorAccessDenied", message="Access is denied. Check credentials and try again.")


def test_china_has_no_bookings():
    service = GraphService(FakeRuntime(cloud="china"), cloud="china")
    service.load(load_fixture())
    for url in (V1 + "/appointments", V1 + "/appointments/x/cancel"):
        resp = call(service, "GET", url)
        assert resp.status == 400
        assert resp.body["error"]["message"] == "Resource not found for the segment 'bookingBusinesses'."


def test_business_id_is_case_insensitive_and_is_the_mailbox(svc):
    resp = call(svc, "GET", "/solutions/bookingBusinesses/ContosoClinic@Contoso.Example/appointments")
    assert resp.status == 200
    assert svc.runtime.operations[-1][2] == BUSINESS


def test_unknown_business(svc):
    resp = call(svc, "GET", "/solutions/bookingBusinesses/nobody@contoso.example/appointments")
    assert resp.status == 404 and resp.body["error"]["code"] == "ErrorFolderNotFound"


def test_ews_format_id_is_malformed_even_when_stored(svc):
    """An id holding "/" or "+" (EWS / Office.js format) reaches the route as one encoded segment
    and is refused as malformed: Graph's REST ids are URL-safe base64 (NOTES, RULES.md)."""
    appt = dict(appointment(svc), id="AAMkAD/with+slash" + "A" * 30 + "=")
    svc.load({"bookingBusinesses": [{"id": BUSINESS, "appointments": [appt]}]})
    for method, url, body in (("GET", V1 + "/appointments/" + seg(appt["id"]), None),
                              ("POST", V1 + "/appointments/%s/cancel" % seg(appt["id"]), {})):
        resp = call(svc, method, url, body=body)
        assert (resp.status, resp.body["error"]["code"]) == (400, "ErrorInvalidIdMalformed")
    assert appt["id"] in {a["id"] for a in svc.appointments_state(BUSINESS)} and not svc.runtime.notifications


def test_bulk_seed_is_fast_and_pages(svc):
    template = appointment(svc)
    bulk = [dict(template, id="AAMkADbulk%05d000000000000000000000000000000=" % n) for n in range(5000)]
    started = time.monotonic()
    svc.load({"bookingBusinesses": [{"id": BUSINESS, "appointments": bulk}]})
    assert time.monotonic() - started < 2.0
    resp = call(svc, "GET", V1 + "/calendarView?start=2027-02-01T00:00:00Z&end=2027-04-01T00:00:00Z&$top=1000")
    items, pages = follow(svc, resp, app_principal())
    assert len(items) == 5012 and pages == 6


def test_single_customer_appointment_without_customers_list(svc):
    appt = dict(appointment(svc), id="AAMkADlegacy00000000000000000000000000000000=", customers=[], customerEmailAddress="walk.in@example.com")
    svc.load({"bookingBusinesses": [{"id": BUSINESS, "appointments": [appt]}]})
    assert call(svc, "POST", V1 + "/appointments/%s/cancel" % seg(appt["id"]), body={"cancellationMessage": "x"}).status == 204
    assert [n["recipient"] for n in svc.runtime.notifications if n["role"] == "customer"] == ["walk.in@example.com"]
