# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routing, error shapes, mailboxes handed to the runtime, state views and seed loading."""

import pytest

from emulator.graph import GraphService
from emulator.graph.testing import (ADELE, ADELE_ID, ALEX_ID, BUSINESS, GROUP_ID, FakeRuntime, app_principal, fixture_event,
                                    load_fixture, make_request, seg, user_principal)


@pytest.fixture
def svc():
    service = GraphService(FakeRuntime())
    service.load(load_fixture())
    return service


@pytest.mark.parametrize("url,segment", [
    ("/me/mailFolders", "mailFolders"),
    ("/users/%s/events/x/forward" % ADELE, "forward"),
    ("/solutions/virtualEvents", "virtualEvents"),
    ("/groups/%s/calendars/x/events/y/cancel" % GROUP_ID, "calendars"),  # no such variant for groups
])
def test_unknown_segments_are_400(svc, url, segment):
    resp = svc.handle(make_request("POST", url, app_principal(), {}))
    assert resp.status == 400
    assert resp.body["error"]["message"] == "Resource not found for the segment '%s'." % segment


@pytest.mark.parametrize("method,url", [("GET", "/me/events/x/cancel"), ("DELETE", "/me/calendarView"),
                                        ("PATCH", "/solutions/bookingBusinesses/b/appointments/a")])
def test_wrong_method_is_405(svc, method, url):
    resp = svc.handle(make_request(method, url, user_principal()))
    assert resp.status == 405 and resp.headers["Allow"]


def test_unknown_version(svc):
    assert svc.handle(make_request("GET", "/me/events", user_principal(), version="v2.0")).status == 400


def test_error_body_shape(svc):
    resp = svc.handle(make_request("GET", "/me/events/AAMkADnope0000000000000000000000000000000000=", user_principal()))
    inner = resp.body["error"]["innerError"]
    assert resp.headers["Content-Type"] == "application/json"
    assert set(inner) == {"date", "request-id", "client-request-id"} and inner["client-request-id"] == "crid-test"


@pytest.mark.parametrize("url,principal,mailbox", [
    ("/solutions/bookingBusinesses/ContosoClinic@contoso.example/appointments", app_principal(), BUSINESS),
    ("/me/events", user_principal(), ADELE_ID),
    ("/users/%s/events" % ADELE.upper(), app_principal(), ADELE_ID),
    ("/groups/%s/calendarView" % GROUP_ID.upper(), app_principal(), GROUP_ID),
    ("/users/ghost@contoso.example/events", app_principal(), "ghost@contoso.example"),
    ("/me/events", app_principal(), None),
    ("/me/nowhere", user_principal(), None),
])
def test_every_operation_goes_through_run_operation_with_its_mailbox(svc, url, principal, mailbox):
    svc.handle(make_request("GET", url, principal))
    assert svc.runtime.operations[-1][2] == mailbox


def test_segments_are_case_insensitive(svc):
    event_id = seg(fixture_event("Focus time")["id"])
    assert svc.handle(make_request("GET", "/ME/Events/" + event_id, user_principal())).status == 200


def test_directory_and_state_views(svc):
    directory = svc.directory()
    adele = next(u for u in directory["users"] if u["userPrincipalName"] == ADELE)
    assert adele["id"] == ADELE_ID and adele["password"] and adele["role"] == "organizer"
    assert directory["businesses"] == [{"id": BUSINESS, "displayName": "Contoso Clinic"}]
    assert directory["groups"][0]["id"] == GROUP_ID and directory["groups"][0]["mail"]
    events = svc.events_state(ADELE)
    assert events == svc.events_state(ADELE_ID) and len(events) == 9
    assert all({"id", "immutableId", "parentFolder", "isCancelled", "calendarId"} <= set(e) for e in events)
    assert svc.events_state(GROUP_ID)[0]["subject"] == "Clinic team offsite planning"
    assert svc.events_state("nobody") == [] and svc.appointments_state("nobody@x") == []
    assert len(svc.appointments_state(BUSINESS.upper())) == 12


def test_seed_merges(svc):
    svc.load({"users": [{"id": "0000-new", "userPrincipalName": "new@contoso.example", "displayName": "New", "password": "p"}],
              "mailboxes": [{"owner": "new@contoso.example", "events": [dict(fixture_event("Focus time"), id="AAMkADnew00000000000000000000000000000000000=")]},
                            {"owner": ALEX_ID, "events": [dict(fixture_event("Focus time"), id="AAMkADalexnew0000000000000000000000000000000=")]}]})
    assert len(svc.events_state("0000-new")) == 1 and len(svc.events_state(ALEX_ID)) == 3
    assert len(svc.directory()["users"]) == 4 and len(svc.events_state(ADELE)) == 9


def test_seed_with_unknown_owner_is_refused(svc):
    with pytest.raises(ValueError):
        svc.load({"mailboxes": [{"owner": "ghost", "events": []}]})
