# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""booking_business_info, booking_appointment_cancel's match.staff_email / match.service_name and
booking_appointment_info's staff_email / service_name (issue 18), through main(), against the Graph
emulator. Expected values come from the seed fixture; the emulator's record shows what was read and
that an unknown name writes nothing (and, for the info module, reads no appointment)."""

import pytest

from ansible_collections.graphops.msgraph.plugins.modules import booking_appointment_cancel, booking_appointment_info, booking_business_info
from emulator.graph.testing import load_fixture
from module_runner import module_credentials, run_main

BUSINESS = "contosoclinic@contoso.example"
SEED = [b for b in load_fixture()["bookingBusinesses"] if b["id"] == BUSINESS][0]
# The staff member and service of the first seeded appointment, found by e-mail and by name.
FIRST = SEED["appointments"][0]
STAFF = [s for s in SEED["staffMembers"] if s["id"] == FIRST["staffMemberIds"][0]][0]
SERVICE = [s for s in SEED["services"] if s["id"] == FIRST["serviceId"]][0]
WEEK = {"start": "2027-03-01T00:00:00Z", "end": "2027-03-08T00:00:00Z"}


def run(emu, module, args, capsys, kind="app", check=False):
    params = module_credentials(emu, kind, retries=1, max_wait=5)
    params.update(args)
    return run_main(module, params, capsys, check=check)


def writes(emu):
    return [r for r in emu.requests() if r["method"] != "GET" and r["segments"][0] != "$batch"]


@pytest.mark.parametrize("kind", ["app", "readonly"])
def test_lists_businesses(emu, capsys, kind):
    failed, result = run(emu, booking_business_info, {}, capsys, kind=kind)
    assert not failed, result
    assert {"id": BUSINESS, "name": SEED["displayName"]} in result["businesses"]
    assert result["staff_members"] == [] and result["services"] == []
    assert [r["segments"] for r in emu.requests()] == [["solutions", "bookingBusinesses"]]


def test_lists_staff_and_services_of_one_business(emu, capsys):
    failed, result = run(emu, booking_business_info, dict(business_id=BUSINESS), capsys, kind="readonly")
    assert not failed, result
    assert result["staff_members"] == [{"id": s["id"], "name": s["displayName"], "email_address": s["emailAddress"], "role": s["role"]}
                                       for s in SEED["staffMembers"]]
    assert result["services"] == [{"id": s["id"], "name": s["displayName"]} for s in SEED["services"]]
    assert writes(emu) == []


def test_unknown_business_fails_with_graphs_error(emu, capsys):
    failed, result = run(emu, booking_business_info, dict(business_id="nobody@contoso.example"), capsys)
    assert failed and "ErrorFolderNotFound" in result["msg"], result


def test_names_resolve_to_ids_before_the_cancel(emu, capsys):
    by_name = dict(WEEK, staff_email=STAFF["emailAddress"].upper(), service_name=SERVICE["displayName"].lower())
    by_id = dict(WEEK, staff_member_id=STAFF["id"], service_id=SERVICE["id"])
    failed, named = run(emu, booking_appointment_cancel, dict(business_id=BUSINESS, match=by_name), capsys, check=True)
    assert not failed, named
    failed, plain = run(emu, booking_appointment_cancel, dict(business_id=BUSINESS, match=by_id), capsys, check=True)
    assert not failed and named["cancelled"] == plain["cancelled"] and named["cancelled"], (named, plain)
    assert writes(emu) == []

    failed, result = run(emu, booking_appointment_cancel, dict(business_id=BUSINESS, match=by_name), capsys)
    assert not failed and sorted(result["cancelled"]) == sorted(plain["cancelled"]), result
    notified = {n["item_id"] for n in emu.notifications()}
    assert notified == set(plain["cancelled"])


@pytest.mark.parametrize("match,option,value", [
    (dict(staff_email="nobody@contoso.example"), "match.staff_email", "nobody@contoso.example"),
    (dict(service_name="Dental check"), "match.service_name", "Dental check"),
])
def test_unknown_name_fails_naming_it_with_zero_writes(emu, capsys, match, option, value):
    failed, result = run(emu, booking_appointment_cancel, dict(business_id=BUSINESS, match=dict(WEEK, **match)), capsys)
    assert failed and option in result["msg"] and value in result["msg"], result
    assert writes(emu) == [] and emu.notifications() == []
    assert not [r for r in emu.requests() if r["segments"][-1:] in (["calendarView"], ["appointments"])]


# --------------------------------------------------------------------------- booking_appointment_info by name


def reads(emu):
    """The Graph paths read, in order, past the business: [["staffMembers"], ["services"], ["calendarView"], ...]."""
    return [r["segments"][3:] for r in emu.requests()]


def test_info_finds_by_name_what_it_finds_by_id(emu, capsys):
    by_name = dict(WEEK, staff_email=STAFF["emailAddress"].upper(), service_name=SERVICE["displayName"].lower())
    by_id = dict(WEEK, staff_member_id=STAFF["id"], service_id=SERVICE["id"])
    failed, named = run(emu, booking_appointment_info, dict(business_id=BUSINESS, **by_name), capsys, kind="readonly")
    assert not failed, named
    assert reads(emu) == [["staffMembers"], ["services"], ["calendarView"]]
    failed, plain = run(emu, booking_appointment_info, dict(business_id=BUSINESS, **by_id), capsys, kind="readonly")
    assert not failed and named["appointments"] == plain["appointments"] and named["appointments"], (named, plain)
    assert FIRST["id"] in [a["id"] for a in named["appointments"]]
    assert all(a["service_id"] == SERVICE["id"] and STAFF["id"] in a["staff_member_ids"] for a in named["appointments"])
    assert writes(emu) == [] and emu.notifications() == []


def test_info_filters_one_appointment_by_name(emu, capsys):
    other = [s for s in SEED["staffMembers"] if s["id"] not in FIRST["staffMemberIds"]][0]
    for email, found in ((STAFF["emailAddress"], [FIRST["id"]]), (other["emailAddress"], [])):
        failed, result = run(emu, booking_appointment_info, dict(business_id=BUSINESS, appointment_id=FIRST["id"], staff_email=email),
                             capsys, kind="readonly")
        assert not failed and [a["id"] for a in result["appointments"]] == found, result
    assert writes(emu) == []


@pytest.mark.parametrize("args,option,value,read", [
    (dict(staff_email="nobody@contoso.example"), "staff_email", "nobody@contoso.example", [["staffMembers"]]),
    (dict(service_name="Dental check"), "service_name", "Dental check", [["services"]]),
    (dict(staff_email=STAFF["emailAddress"], service_name="Dental check"), "service_name", "Dental check",
     [["staffMembers"], ["services"]]),
])
def test_info_unknown_name_fails_naming_it_before_any_appointment_is_read(emu, capsys, args, option, value, read):
    failed, result = run(emu, booking_appointment_info, dict(business_id=BUSINESS, **dict(WEEK, **args)), capsys, kind="readonly")
    assert failed and result["msg"].startswith(option + ": ") and repr(value) in result["msg"], result
    assert result["msg"].endswith("; no appointment was read") and result["appointments"] == [], result
    assert reads(emu) == read
    assert writes(emu) == [] and emu.notifications() == []


@pytest.mark.parametrize("args,pair", [
    (dict(staff_email=STAFF["emailAddress"], staff_member_id=STAFF["id"]), "staff_member_id|staff_email"),
    (dict(service_name=SERVICE["displayName"], service_id=SERVICE["id"]), "service_id|service_name"),
])
def test_info_name_and_id_are_mutually_exclusive(emu, capsys, args, pair):
    failed, result = run(emu, booking_appointment_info, dict(business_id=BUSINESS, **dict(WEEK, **args)), capsys, kind="readonly")
    assert failed and result["msg"] == "parameters are mutually exclusive: " + pair, result
    assert emu.http_requests() == []  # refused by the argument spec: not even a token request


@pytest.mark.parametrize("module,args,option", [
    (booking_appointment_cancel, dict(match=dict(WEEK, staff_email="")), "match.staff_email"),
    (booking_appointment_cancel, dict(match=dict(WEEK, service_name=" ")), "match.service_name"),
    (booking_appointment_info, dict(WEEK, staff_email=""), "staff_email"),
    (booking_appointment_info, dict(WEEK, service_name=" "), "service_name"),
])
def test_blank_name_is_refused_not_ignored(emu, capsys, module, args, option):
    """Ignored, a blank name would select every appointment of the window: the cancel module would cancel them all."""
    failed, result = run(emu, module, dict(business_id=BUSINESS, **args), capsys)
    assert failed and result["msg"].startswith(option + ": a blank value"), result
    assert emu.requests() == [] and emu.notifications() == []
