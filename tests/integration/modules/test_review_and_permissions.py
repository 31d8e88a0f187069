# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What was reviewed is what runs (issue 17) and the modules meet the emulator's truth (issue 15.3):
approved_ids, max_items, permissions known before the first write, 403s that name the permissions,
malformed ids that name their option, group calendars only with a delegated token, and results a
report can use. Everything is asserted through the emulator's own record.
"""

import copy

import pytest

from ansible.module_utils.common import warnings as ansible_warnings

from emulator.graph.testing import load_fixture
from module_runner import module_credentials, run_main
from ansible_collections.graphops.msgraph.plugins.modules import (
    booking_appointment_cancel, booking_appointment_info, calendar_event_cancel, calendar_event_info)

BUSINESS = "contosoclinic@contoso.example"
GROUP = "3d9f6a1b-2c4e-4f8a-b7d6-5e4c3b2a1f10"
OTHER_GROUP = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"  # seeded below with no members
OFFSITE = "AAMkADM3XjjrjKvel3AZ8aH_Cpzfrq2klvzVjSwO_uQggE8H0="  # group calendar, 2 attendees
BUDGET = "AAMkADvlmEnFKhcQh4mZbhfE2GrV-NcA0hryR2R3_War8mblc="  # Adele organizes, 3 attendees, 2027-03-02
VENDOR = "AAMkADBkZwbdxgfQTPey0XO36paqTSV6vYUrimRxo5vsXVxoQ="  # 1 attendee, 2027-03-03
SERIES = "AAMkADV997ArQMAWwboR7UA-u1wuzn6xganOFsp2eB98_pX84="  # weekly Monday 09:30 UTC
MALFORMED = "AAMk-not-an-id"  # passes the module's own checks; Graph answers 400 ErrorInvalidIdMalformed
MONDAY = dict(start="2027-03-01T00:00:00Z", end="2027-03-02T00:00:00Z")
THURSDAY = dict(start="2027-03-04T00:00:00Z", end="2027-03-05T00:00:00Z")
SEED = [b for b in load_fixture()["bookingBusinesses"] if b["id"] == BUSINESS][0]
IDS = [a["id"] for a in SEED["appointments"]]
APPOINTMENT_PERMISSIONS = ("Bookings.ReadWrite.All", "BookingsAppointment.ReadWrite.All", "Bookings.Manage.All")


@pytest.fixture(autouse=True)
def fresh_warnings():
    pending = getattr(ansible_warnings, "_global_warnings", None)
    if pending is not None:
        pending.clear()


@pytest.fixture
def run(emu, capsys):
    def _run(module, args, check=False, kind="app", **credentials):
        params = module_credentials(emu, kind, retries=1, max_wait=5, **credentials)
        params.update(args)
        return run_main(module, params, capsys, check=check)
    return _run


def readonly(emu):
    return dict(client_id=emu["apps"]["readonly"]["client_id"], client_secret=emu["apps"]["readonly"]["client_secret"])


def cancels(emu):
    return [r for r in emu.requests() if r["method"] == "POST" and r["segments"] and r["segments"][-1] == "cancel"]


def graph_calls(emu):
    return [r for r in emu.requests() if r.get("version") in ("v1.0", "beta")]


def notified_items(emu):
    return sorted(set(n["item_id"] for n in emu.notifications()))


def new_appointment(emu, appointment_id, start, end):
    """Book one more appointment into the business, as a customer would between review and run."""
    appt = copy.deepcopy(SEED["appointments"][0])
    appt.update(id=appointment_id, startDateTime={"dateTime": start, "timeZone": "UTC"},
                endDateTime={"dateTime": end, "timeZone": "UTC"})
    emu.seed({"bookingBusinesses": [{"id": BUSINESS, "appointments": [appt]}]})


# --------------------------------------------------------------------------- issue 15.3: group calendars


@pytest.mark.parametrize("module, args, permission", [
    (calendar_event_cancel, dict(group_id=GROUP, event_id=OFFSITE), "Group.ReadWrite.All"),
    (calendar_event_cancel, dict(group_id=GROUP, match=THURSDAY), "Group.ReadWrite.All"),
    (calendar_event_info, dict(group_id=GROUP, event_id=OFFSITE), "Group.Read.All"),
], ids=["cancel-id", "cancel-window", "info"])
@pytest.mark.parametrize("check", [False, True], ids=["apply", "check"])
def test_group_with_an_app_token_fails_before_sending_anything(run, emu, module, args, permission, check):
    failed, result = run(module, args, check=check)
    assert failed
    assert "delegated" in result["msg"] and permission in result["msg"] and "group_id" in result["msg"]
    assert emu.http_requests() == []  # not even a token request


def test_group_cancel_with_a_delegated_token(run, emu):
    failed, result = run(calendar_event_cancel, dict(group_id=GROUP, event_ids=[OFFSITE], comment="Postponed."),
                         kind="delegated")
    assert not failed, result["msg"]
    assert result["cancelled"] == [OFFSITE]
    assert notified_items(emu) and len(emu.notifications()) == 2


def test_group_403_names_the_group_permission(run, emu):
    # The organizer is no member of this group: Graph answers 403 although the token has the scope.
    emu.seed({"groups": [{"id": OTHER_GROUP, "displayName": "Other", "mail": "other@contoso.example", "members": []}]})
    failed, result = run(calendar_event_cancel, dict(group_id=OTHER_GROUP, match=THURSDAY), kind="delegated")
    assert failed
    assert "HTTP 403" in result["msg"] and "Group.ReadWrite.All" in result["msg"]
    assert "Group.ReadWrite.All" in result["error"]["note"]
    failed, result = run(calendar_event_info, dict(group_id=OTHER_GROUP, **THURSDAY), kind="delegated")
    assert failed and "HTTP 403" in result["msg"] and "Group.Read.All" in result["msg"]
    assert cancels(emu) == []


# --------------------------------------------------------------------------- issue 15.3: malformed ids


def test_malformed_event_id_names_the_option_never_absent(run, emu, upn):
    failed, result = run(calendar_event_cancel, dict(user=upn, event_id=MALFORMED))
    assert failed and "event_id" in result["msg"] and MALFORMED in result["msg"]
    assert "ErrorInvalidIdMalformed" in result["msg"] and result["already_absent"] == []
    failed, result = run(calendar_event_info, dict(user=upn, event_id=MALFORMED))
    assert failed and "event_id" in result["msg"] and MALFORMED in result["msg"]
    failed, result = run(calendar_event_cancel, dict(user=upn, occurrence=dict(series_id=MALFORMED, date="2027-03-01")))
    assert failed and "occurrence.series_id" in result["msg"] and MALFORMED in result["msg"]
    assert cancels(emu) == []


def test_malformed_event_in_a_list_fails_naming_it_and_sends_nothing(run, emu, upn):
    failed, result = run(calendar_event_cancel, dict(user=upn, event_ids=[BUDGET, MALFORMED]))
    assert failed and "event_ids: %s" % MALFORMED in result["msg"]
    assert MALFORMED not in result["already_absent"]
    assert cancels(emu) == []


def test_malformed_appointment_fails_that_item_only(run, emu):
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, appointment_ids=[IDS[0], MALFORMED]))
    assert failed and "appointment_ids: %s" % MALFORMED in result["msg"]
    assert result["cancelled"] == [IDS[0]] and result["already_absent"] == []
    assert [f["id"] for f in result["failures"]] == [MALFORMED]
    assert notified_items(emu) == [IDS[0]]


@pytest.mark.parametrize("check", [False, True], ids=["apply", "check"])
def test_malformed_single_appointment_names_the_option(run, emu, check):
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, appointment_id=MALFORMED), check=check)
    assert failed and "appointment_id: %s" % MALFORMED in result["msg"], result["msg"]
    assert result["already_absent"] == [] and result["changed"] is False
    failed, result = run(booking_appointment_info, dict(business_id=BUSINESS, appointment_id=MALFORMED))
    assert failed and "appointment_id" in result["msg"] and MALFORMED in result["msg"]
    assert emu.notifications() == []


# --------------------------------------------------------------------------- issue 17.3: permissions


@pytest.mark.parametrize("check", [False, True], ids=["apply", "check"])
def test_readonly_app_fails_before_any_graph_request_naming_the_permissions(run, emu, upn, check):
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, match=MONDAY), check=check, **readonly(emu))
    assert failed and result["msg"].startswith("Nothing sent")
    for permission in APPOINTMENT_PERMISSIONS:
        assert permission in result["msg"] and permission in result["required_permissions"]
    failed, result = run(calendar_event_cancel, dict(user=upn, event_id=BUDGET), check=check, **readonly(emu))
    assert failed and "Calendars.ReadWrite" in result["msg"]
    assert graph_calls(emu) == []  # only the token requests
    assert emu.notifications() == []


def test_readonly_app_may_read(run, emu, upn):
    failed, result = run(booking_appointment_info, dict(business_id=BUSINESS, **MONDAY), **readonly(emu))
    assert not failed and result["msg"] == "Found %d appointments." % len(result["appointments"])
    failed, result = run(calendar_event_info, dict(user=upn, **THURSDAY), **readonly(emu))
    assert not failed and result["msg"].startswith("Found ")


def test_opaque_token_skips_the_check_with_a_note(run, emu, upn):
    failed, result = run(calendar_event_cancel, dict(user=upn, event_id=BUDGET), auth_method="access_token",
                         access_token="opaque-token-not-a-jwt", client_secret=None)
    assert "permission_note" in result and "not a JWT" in result["permission_note"]
    assert failed  # Graph refuses the token itself
    assert emu.notifications() == []


# --------------------------------------------------------------------------- issue 17.1: approved_ids


def test_approved_ids_appointment_added_after_review_is_left_alone(run, emu):
    failed, review = run(booking_appointment_cancel, dict(business_id=BUSINESS, match=MONDAY), check=True)
    assert not failed and review["cancelled"] and emu.notifications() == []
    late = "AAMkADlateBooking00000000000000000000000000000000A=="
    new_appointment(emu, late, "2027-03-01T15:00:00.0000000+00:00", "2027-03-01T15:30:00.0000000+00:00")
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, match=MONDAY,
                                                          approved_ids=review["cancelled"], cancellation_message="x"))
    assert not failed, result["msg"]
    assert result["cancelled"] == review["cancelled"] and result["unapproved"] == [late]
    assert any(late in str(w) for w in result.get("warnings", [])), result.keys()
    assert notified_items(emu) == sorted(review["cancelled"])
    assert late in set(a["id"] for a in emu.appointments_state(BUSINESS))
    assert "1 not approved" in result["msg"]


def test_approved_ids_empty_cancels_nothing(run, emu):
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, appointment_id=IDS[0], approved_ids=[]))
    assert not failed and result["cancelled"] == [] and result["unapproved"] == [IDS[0]] and result["changed"] is False
    assert cancels(emu) == []


@pytest.mark.parametrize("selector", ["match", "event_ids", "occurrence"])
def test_event_ids_of_a_check_run_are_what_approved_ids_takes(run, emu, upn, selector):
    args = {
        "match": dict(match=dict(start="2027-03-01T00:00:00Z", end="2027-03-06T00:00:00Z")),
        "event_ids": dict(event_ids=[BUDGET, VENDOR]),
        "occurrence": dict(occurrence=dict(series_id=SERIES, date="2027-03-08")),
    }[selector]
    failed, review = run(calendar_event_cancel, dict(user=upn, **args), check=True)
    assert not failed and review["cancelled"]
    approved = review["cancelled"][:1]
    failed, result = run(calendar_event_cancel, dict(user=upn, approved_ids=approved, **args))
    assert not failed, result["msg"]
    assert result["cancelled"] == approved
    assert sorted(result["unapproved"]) == sorted(review["cancelled"][1:])
    assert [e["result"] for e in result["events"]].count("unapproved") == len(result["unapproved"])
    assert len(cancels(emu)) == 1


# --------------------------------------------------------------------------- issue 17.2: max_items


@pytest.mark.parametrize("check", [False, True], ids=["apply", "check"])
def test_max_items_fails_before_any_write_naming_both_numbers(run, emu, upn, check):
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, match=MONDAY, max_items=1), check=check)
    assert failed and result["selected"] > 1
    assert "holds %d appointments, more than max_items 1" % result["selected"] in result["msg"]
    failed, result = run(calendar_event_cancel, dict(user=upn, match=dict(start="2027-03-01T00:00:00Z",
                                                                          end="2027-03-06T00:00:00Z"), max_items=2), check=check)
    assert failed and "more than max_items 2" in result["msg"] and str(result["selected"]) in result["msg"]
    assert cancels(emu) == [] and emu.notifications() == []


def test_max_items_at_the_size_of_the_selection_runs(run, emu):
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, appointment_ids=IDS[:2], max_items=2))
    assert not failed and sorted(result["cancelled"]) == sorted(IDS[:2])


# --------------------------------------------------------------------------- issue 17.5: results


def test_msg_wording_is_the_same_for_both_modules(run, emu, upn):
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, appointment_ids=IDS[:2]), check=True)
    assert result["msg"] == "Would cancel 2 appointments; 0 already cancelled; 0 failed."
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, appointment_ids=IDS[:2]))
    assert result["msg"] == "Cancelled 2 appointments; 0 already cancelled; 0 failed."
    failed, result = run(booking_appointment_cancel, dict(business_id=BUSINESS, appointment_ids=IDS[:3]))
    assert result["msg"] == "Cancelled 1 appointment; 2 already cancelled; 0 failed."
    failed, result = run(calendar_event_cancel, dict(user=upn, event_ids=[BUDGET, VENDOR]), check=True)
    assert result["msg"] == "Would cancel 2 events; 0 already cancelled; 0 failed."
    failed, result = run(calendar_event_cancel, dict(user=upn, event_ids=[BUDGET]))
    assert result["msg"] == "Cancelled 1 event; 0 already cancelled; 0 failed."
    failed, result = run(calendar_event_cancel, dict(user=upn, event_ids=[BUDGET, VENDOR]))
    assert result["msg"] == "Cancelled 1 event; 1 already cancelled; 0 failed."


def test_events_carry_attendees_and_organizer(run, emu, upn):
    stored = dict((e["immutableId"], e) for e in emu.events_state(upn))
    failed, result = run(calendar_event_cancel, dict(user=upn, event_id=BUDGET), check=True)
    assert not failed
    event = result["events"][0]
    raw = [e for e in stored.values() if e.get("subject") == event["subject"]][0]
    assert event["attendees"] == [{"name": a["emailAddress"].get("name"), "address": a["emailAddress"]["address"]}
                                  for a in raw["attendees"]]
    assert event["organizer"] == raw["organizer"]["emailAddress"]["address"]
    assert event["organizer_name"] == raw["organizer"]["emailAddress"].get("name")
    failed, result = run(calendar_event_info, dict(user=upn, event_id=BUDGET))
    assert result["events"][0]["attendees"] == event["attendees"] and result["msg"] == "Found 1 event."
    # Who was told, as the emulator recorded it, is who the result lists.
    failed, result = run(calendar_event_cancel, dict(user=upn, event_id=BUDGET))
    assert sorted(n["recipient"] for n in emu.notifications()) == sorted(a["address"] for a in event["attendees"])
