# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Outlook events in the Graph layer, in-process (no server)."""

import pytest

from emulator.graph import GraphService
from emulator.graph.testing import (ADELE, ADELE_ID, ALEX, ALEX_ID, GROUP_ID, MEGAN, FakeRuntime, app_principal, fixture_calendar,
                                    fixture_calendar_group, fixture_event, follow, load_fixture, make_request, seg, user_principal)

IMMUTABLE = {"Prefer": 'IdType="ImmutableId"'}
WINDOW = "startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-05-01T00:00:00Z"
WEEK = "startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-03-08T00:00:00Z"


@pytest.fixture
def svc():
    service = GraphService(FakeRuntime())
    service.load(load_fixture())
    return service


def call(svc, method, url, principal=None, body=None, headers=None, version="v1.0"):
    return svc.handle(make_request(method, url, principal or app_principal(), body, headers, version))


def state(svc, subject, owner=ADELE):
    return next(e for e in svc.events_state(owner) if e["subject"] == subject)


def _variants():
    """(name, url template, principal factory, subject) for the ten v1.0 cancel paths of NOTES."""
    proj, rota = fixture_calendar("Projects")["id"], fixture_calendar("On-call rota")["id"]
    clinic = fixture_calendar_group("Clinic rotas")["id"]
    out = []
    for owner, who in (("/me", user_principal), ("/users/" + ADELE, app_principal), ("/users/" + ADELE_ID, app_principal)):
        out += [
            (owner + " events", owner + "/events/{id}/cancel", who, "Vendor demo: scheduling suite"),
            (owner + " calendar", owner + "/calendar/events/{id}/cancel", who, "Vendor demo: scheduling suite"),
            (owner + " calendars", owner + "/calendars/%s/events/{id}/cancel" % seg(proj), who, "Project Falcon kickoff"),
            (owner + " calendarGroups", owner + "/calendarGroups/%s/calendars/%s/events/{id}/cancel" % (seg(clinic), seg(rota)), who,
             "On-call handover"),
        ]
    for who in (user_principal,):  # Adele is a member of the group; app-only tokens get 403 (test_rules.py)
        out += [
            ("group events", "/groups/%s/events/{id}/cancel" % GROUP_ID, who, "Clinic team offsite planning"),
            ("group calendar", "/groups/%s/calendar/events/{id}/cancel" % GROUP_ID, who, "Clinic team offsite planning"),
        ]
    return out


@pytest.mark.parametrize("name,template,who,subject", _variants(), ids=[v[0] for v in _variants()])
def test_cancel_path_variants(svc, name, template, who, subject):
    owner = GROUP_ID if name.startswith("group") else ADELE_ID
    seeded = fixture_event(subject, owner)
    resp = call(svc, "POST", template.format(id=seg(seeded["id"])), who(), {"Comment": "Sorry, cancelled"})
    assert resp.status == 202, resp.body
    after = state(svc, subject, owner)
    assert after["isCancelled"] and after["parentFolder"] == "deleteditems" and after["id"] != seeded["id"]
    expected = {a["emailAddress"]["address"] for a in seeded["attendees"]}
    notes = svc.runtime.notifications
    assert sorted(n["recipient"] for n in notes) == sorted(expected)
    assert all(n["role"] == "attendee" and n["kind"] == "event_cancelled" and n["message"] == "Sorry, cancelled" for n in notes)
    assert all(n["item_id"] == after["immutableId"] and n["container"] == owner for n in notes)


@pytest.mark.parametrize("template", [
    "/me/calendar/events/{falcon}/cancel",  # a secondary-calendar event is not in the default calendar
    "/me/calendars/{proj}/events/{vendor}/cancel",
    "/me/calendars/AAMkAGInope000000000000000000000000000000000=/events/{falcon}/cancel",
    "/me/calendarGroups/{mycals}/calendars/{rota}/events/{handover}/cancel",  # calendar not in that group
    "/me/events/AAMkADnope0000000000000000000000000000000000=/cancel",
])
def test_cancel_wrong_container_or_unknown_is_404(svc, template):
    ids = {"falcon": fixture_event("Project Falcon kickoff")["id"], "vendor": fixture_event("Vendor demo: scheduling suite")["id"],
           "handover": fixture_event("On-call handover")["id"], "proj": fixture_calendar("Projects")["id"],
           "rota": fixture_calendar("On-call rota")["id"], "mycals": fixture_calendar_group("My Calendars")["id"]}
    resp = call(svc, "POST", template.format(**{k: seg(v) for k, v in ids.items()}), user_principal(), {"Comment": ""})
    assert resp.status == 404 and resp.body["error"]["code"] == "ErrorItemNotFound"
    assert not svc.runtime.notifications


def test_attendee_cannot_cancel(svc):
    for subject in ("All-hands: March update", "Fabrikam design review"):
        resp = call(svc, "POST", "/me/events/%s/cancel" % seg(fixture_event(subject)["id"]), user_principal(), {"Comment": "x"})
        assert resp.status == 400
        assert resp.body["error"]["code"] == "ErrorInvalidRequest"
        assert resp.body["error"]["message"] == "Your request can't be completed. You need to be an organizer to cancel a meeting."
    # Alex's copy of Adele's meeting: same answer for the attendee user.
    copy = fixture_event("Quarterly budget review", ALEX_ID)
    assert call(svc, "POST", "/me/events/%s/cancel" % seg(copy["id"]), user_principal(ALEX), {"Comment": ""}).status == 400
    assert not svc.runtime.notifications


def test_me_needs_a_delegated_token(svc):
    event_id = seg(fixture_event("Focus time")["id"])
    for method, url in (("POST", "/me/events/%s/cancel" % event_id), ("GET", "/me/events/" + event_id), ("GET", "/me/calendarView?" + WEEK)):
        resp = call(svc, method, url, app_principal(), {"Comment": ""} if method == "POST" else None)
        assert resp.status == 400 and resp.body["error"]["message"] == "/me request is only valid with delegated authentication flow."


def test_immutable_id_survives_the_move(svc):
    seeded = fixture_event("Quarterly budget review")
    got = call(svc, "GET", "/users/%s/events/%s" % (ADELE, seg(seeded["id"])), headers=IMMUTABLE)
    immutable = got.body["id"]
    assert immutable != seeded["id"] and immutable == state(svc, "Quarterly budget review")["immutableId"]
    assert call(svc, "GET", "/users/%s/events/%s" % (ADELE, seg(immutable))).body["id"] == seeded["id"]
    resp = call(svc, "POST", "/users/%s/events/%s/cancel" % (ADELE, seg(immutable)), body={"comment": "lower-case works"}, headers=IMMUTABLE)
    assert resp.status == 202 and svc.runtime.notifications[0]["message"] == "lower-case works"
    assert call(svc, "GET", "/users/%s/events/%s" % (ADELE, seg(seeded["id"]))).status == 404
    again = call(svc, "GET", "/users/%s/events/%s" % (ADELE, seg(immutable)), headers=IMMUTABLE)
    assert again.status == 200 and again.body["isCancelled"] is True and again.body["id"] == immutable
    plain = call(svc, "GET", "/users/%s/events/%s" % (ADELE, seg(immutable)))
    assert plain.body["id"] not in (seeded["id"], immutable) and plain.body["id"] == state(svc, "Quarterly budget review")["id"]
    # The attendee's copy stays in the calendar and reads back as cancelled.
    assert state(svc, "Quarterly budget review", ALEX)["isCancelled"] is True


def test_event_get_select(svc):
    resp = call(svc, "GET", "/users/%s/events/%s?$select=subject,isOrganizer" % (ADELE_ID, seg(fixture_event("Focus time")["id"])))
    assert set(resp.body) == {"id", "subject", "isOrganizer"}
    assert call(svc, "GET", "/users/%s/events/%s" % (ADELE_ID, "AAMkADnope0000000000000000000000000000000000=")).body["error"]["code"] == "ErrorItemNotFound"


@pytest.mark.parametrize("url", ["/me/calendarView", "/me/calendarView?startDateTime=2027-03-01T00:00:00Z",
                                 "/me/events/{sync}/instances?endDateTime=2027-03-01T00:00:00Z",
                                 "/me/calendarView?startDateTime=yesterday&endDateTime=2027-03-01"])
def test_windows_are_required(svc, url):
    resp = call(svc, "GET", url.format(sync=seg(fixture_event("Weekly team sync")["id"])), user_principal())
    assert resp.status == 400 and resp.body["error"]["code"] == "ErrorInvalidParameter"


def test_calendar_view_expands_series_and_pages(svc):
    first = call(svc, "GET", "/me/calendarView?%s&$top=3" % WEEK, user_principal())
    items, pages = follow(svc, first, user_principal())
    subjects = [e["subject"] for e in items]
    assert pages == 3
    assert subjects.count("Weekly team sync") == 1 and "Project Falcon kickoff" not in subjects and "On-call handover" not in subjects
    assert {"All-hands: March update", "Fabrikam design review", "Focus time"} <= set(subjects)
    occ = next(e for e in items if e["type"] == "occurrence")
    assert occ["seriesMasterId"] == fixture_event("Weekly team sync")["id"] and occ["start"]["dateTime"] == "2027-03-01T09:30:00.0000000"
    default_page = call(svc, "GET", "/me/calendarView?" + WINDOW, user_principal())
    assert len(default_page.body["value"]) == 10 and "@odata.nextLink" in default_page.body


def test_occurrence_ids_are_stable_and_cancel_one(svc):
    sync = fixture_event("Weekly team sync")
    url = "/users/%s/events/%s/instances?%s" % (ADELE, seg(sync["id"]), WINDOW)
    first = follow(svc, call(svc, "GET", url), app_principal())[0]
    assert len(first) == 9 and [e["id"] for e in first] == [e["id"] for e in follow(svc, call(svc, "GET", url), app_principal())[0]]
    immutable = follow(svc, call(svc, "GET", url, headers=IMMUTABLE), app_principal())[0]
    assert {e["id"] for e in immutable}.isdisjoint({e["id"] for e in first})
    second = first[1]
    assert call(svc, "GET", "/users/%s/events/%s" % (ADELE, seg(second["id"]))).body["start"] == second["start"]
    resp = call(svc, "POST", "/users/%s/events/%s/cancel" % (ADELE, seg(immutable[1]["id"])), body={"Comment": "skip this week"})
    assert resp.status == 202
    assert sorted(n["recipient"] for n in svc.runtime.notifications) == sorted([ALEX, MEGAN])
    left = follow(svc, call(svc, "GET", url), app_principal())[0]
    assert len(left) == 8 and second["id"] not in {e["id"] for e in left}
    assert call(svc, "GET", "/users/%s/events/%s" % (ADELE, seg(second["id"]))).status == 404
    master = call(svc, "GET", "/users/%s/events/%s" % (ADELE, seg(sync["id"]))).body
    assert master["cancelledOccurrences"] == ["OID.%s.2027-03-08" % sync["id"]] and not master["isCancelled"]
    alex_view = call(svc, "GET", "/me/calendarView?startDateTime=2027-03-08T00:00:00Z&endDateTime=2027-03-09T00:00:00Z", user_principal(ALEX))
    assert alex_view.body["value"] == []


def test_cancel_series_master_cancels_all(svc):
    sync = fixture_event("Weekly team sync")
    immutable = call(svc, "GET", "/me/events/" + seg(sync["id"]), user_principal(), headers=IMMUTABLE).body["id"]
    assert call(svc, "POST", "/me/events/%s/cancel" % seg(sync["id"]), user_principal(), {"Comment": "series over"}).status == 202
    assert len(svc.runtime.notifications) == 2  # one per attendee for the whole series
    inst = call(svc, "GET", "/me/events/%s/instances?%s" % (seg(immutable), WINDOW), user_principal())
    assert inst.status == 200 and inst.body["value"] == []
    assert call(svc, "GET", "/me/events/%s/instances?%s" % (seg(sync["id"]), WINDOW), user_principal()).status == 404
    view = call(svc, "GET", "/me/calendarView?" + WINDOW + "&$top=100", user_principal())
    assert "Weekly team sync" not in [e["subject"] for e in view.body["value"]]


@pytest.mark.parametrize("principal,url,expected", [
    (user_principal(ALEX), "/users/%s/events/{focus}" % ADELE, 403),  # another user's mailbox
    (user_principal(ALEX), "/users/%s/events/{alex_copy}" % ALEX_ID, 200),  # own mailbox by id
    (user_principal(MEGAN), "/groups/%s/calendarView?%s" % (GROUP_ID, WEEK), 403),  # not a member
    (user_principal(), "/groups/%s/events/{offsite}" % GROUP_ID, 200),
    (user_principal(scopes=["Bookings.ReadWrite.All"]), "/me/events/{focus}", 403),
    (app_principal(["Calendars.Read"]), "/users/%s/events/{focus}" % ADELE, 200),
    (app_principal(["Calendars.Read"]), "/users/%s/events/{focus}/cancel" % ADELE, 403),
    (user_principal(scopes=["Calendars.Read"]), "/me/events/{focus}/cancel", 403),
    (app_principal(), "/users/nobody@contoso.example/events/{focus}", 404),
])
def test_permissions_and_mailbox_reach(svc, principal, url, expected):
    ids = {"focus": fixture_event("Focus time")["id"], "offsite": fixture_event("Clinic team offsite planning", GROUP_ID)["id"],
           "alex_copy": fixture_event("Quarterly budget review", ALEX_ID)["id"]}
    url = url.format(**{k: seg(v) for k, v in ids.items()})
    method = "POST" if url.endswith("/cancel") else "GET"
    resp = call(svc, method, url, principal, {"Comment": ""} if method == "POST" else None)
    assert resp.status == expected
    if expected == 403:
        assert resp.body["error"]["code"] == "ErrorAccessDenied"


def test_group_reads_and_list(svc):
    view = call(svc, "GET", "/groups/%s/calendarView?%s" % (GROUP_ID, WEEK), user_principal())
    assert [e["subject"] for e in view.body["value"]] == ["Clinic team huddle", "Clinic team huddle", "Clinic team offsite planning"]
    huddle = seg(fixture_event("Clinic team huddle", GROUP_ID)["id"])
    numbered = call(svc, "GET", "/groups/%s/events/%s/instances?%s&$top=20" % (GROUP_ID, huddle, WINDOW), user_principal())
    assert [e["start"]["dateTime"][:10] for e in numbered.body["value"]] == [
        "2027-03-02", "2027-03-04", "2027-03-09", "2027-03-11", "2027-03-16", "2027-03-18"]
    listed = call(svc, "GET", "/me/events?$top=50", user_principal())
    subjects = [e["subject"] for e in listed.body["value"]]
    assert "Weekly team sync" in subjects and "Project Falcon kickoff" not in subjects
    assert next(e for e in listed.body["value"] if e["subject"] == "Weekly team sync")["type"] == "seriesMaster"


def test_recancel_by_immutable_id_notifies_again(svc):
    """Pessimistic reading: nothing stops a second cancel of an item already in Deleted Items."""
    focus = fixture_event("Vendor demo: scheduling suite")
    immutable = state(svc, "Vendor demo: scheduling suite")["immutableId"]
    assert call(svc, "POST", "/me/events/%s/cancel" % seg(focus["id"]), user_principal(), {"Comment": ""}).status == 202
    moved_id = state(svc, "Vendor demo: scheduling suite")["id"]
    assert call(svc, "POST", "/me/events/%s/cancel" % seg(immutable), user_principal(), {"Comment": ""}).status == 202
    assert len(svc.runtime.notifications) == 2 and state(svc, "Vendor demo: scheduling suite")["id"] == moved_id


def test_calendar_view_follows_writes_and_answers_copies(svc):
    """A view expands and renders each series once per answer (events.render's memo, recurrence's cache of
    dates): the next answer still follows every write, and no answer shares anything with the store."""
    sync = fixture_event("Weekly team sync")
    url = "/me/calendarView?%s&$top=100&$select=subject,attendees,start" % WINDOW

    def sync_starts():
        return [e["start"]["dateTime"][:10] for e in call(svc, "GET", url, user_principal()).body["value"]
                if e["subject"] == "Weekly team sync"]

    assert len(sync_starts()) == 9
    ended = {"recurrence": dict(sync["recurrence"], range=dict(sync["recurrence"]["range"], endDate="2027-03-15"))}
    assert call(svc, "PATCH", "/me/events/" + seg(sync["id"]), user_principal(), ended).status == 200
    assert sync_starts() == ["2027-03-01", "2027-03-08", "2027-03-15"]
    call(svc, "POST", "/me/events/%s/cancel" % seg(next(
        e["id"] for e in call(svc, "GET", "/me/events/%s/instances?%s" % (seg(sync["id"]), WINDOW), user_principal()).body["value"]
        if e["start"]["dateTime"].startswith("2027-03-08"))), user_principal(), {"Comment": "not this week"})
    assert sync_starts() == ["2027-03-01", "2027-03-15"]
    answer = call(svc, "GET", url, user_principal()).body["value"]
    answer[0]["attendees"].append({"emailAddress": {"address": "intruder@example.net"}})
    answer[0]["subject"] = "changed by the caller"
    again = call(svc, "GET", url, user_principal()).body["value"]
    assert again[0]["subject"] != "changed by the caller"
    assert "intruder@example.net" not in [a["emailAddress"]["address"] for e in again for a in e.get("attendees") or []]
    assert set(again[0]) == {"id", "subject", "attendees", "start"}
