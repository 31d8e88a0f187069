# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""booking_appointment_info through main(), against the Graph emulator.

Expected results come from the seed fixture (tests/emulator/fixtures/tenant.json); the
emulator's record shows what was asked of Graph and that nothing was ever written.
"""

import json

import pytest

from emulator.graph.testing import load_fixture
from module_runner import module_credentials, run_main
from ansible_collections.graphops.msgraph.plugins.modules import booking_appointment_info

BUSINESS = "contosoclinic@contoso.example"
MISSING = "AAMkADmissing0000000000000000000000000000000000AA=="
TUESDAY = dict(start="2027-03-02T00:00:00Z", end="2027-03-03T00:00:00Z")
WEEK = dict(start="2027-03-01T00:00:00Z", end="2027-03-06T00:00:00Z")


SEED = [b for b in load_fixture()["bookingBusinesses"] if b["id"] == BUSINESS][0]
APPTS = dict((a["id"], a) for a in SEED["appointments"])
IDS = [a["id"] for a in SEED["appointments"]]


def run_info(emu, args, check=False, capsys=None, **credentials):
    """Run the module's main() in-process with the read-only app; returns (failed, result)."""
    params = module_credentials(emu, kind="readonly", retries=1, max_wait=5, **credentials)
    params.update(args)
    return run_main(booking_appointment_info, params, capsys, check=check)


def expected_summary(appointment_id):
    appt = APPTS[appointment_id]
    return {
        "id": appointment_id,
        "start": appt["startDateTime"]["dateTime"][:19] + "Z",
        "end": appt["endDateTime"]["dateTime"][:19] + "Z",
        "service_id": appt["serviceId"],
        "service_name": appt["serviceName"],
        "staff_member_ids": appt["staffMemberIds"],
        "customers": [{"name": c["name"], "email_address": c["emailAddress"]} for c in appt["customers"]],
    }


def in_window(window, customer_email=None, service_id=None, staff_member_id=None):
    lo, hi = window["start"][:19], window["end"][:19]
    out = []
    for appt in SEED["appointments"]:
        if not (appt["startDateTime"]["dateTime"][:19] < hi and appt["endDateTime"]["dateTime"][:19] > lo):
            continue
        if customer_email and customer_email.lower() not in [c["emailAddress"].lower() for c in appt["customers"]]:
            continue
        if service_id and appt["serviceId"] != service_id:
            continue
        if staff_member_id and staff_member_id not in appt["staffMemberIds"]:
            continue
        out.append(appt["id"])
    return out


def assert_read_only(emu):
    assert all(r["method"] == "GET" for r in emu.requests())
    assert emu.notifications() == []
    assert set(a["id"] for a in emu.appointments_state(BUSINESS)) == set(IDS)


@pytest.mark.parametrize("check", [True, False], ids=["check", "normal"])
@pytest.mark.parametrize("present", [True, False], ids=["present", "absent"])
def test_by_id(emu, capsys, check, present):
    target = IDS[5] if present else MISSING
    failed, result = run_info(emu, dict(business_id=BUSINESS, appointment_id=target), check=check, capsys=capsys)
    assert not failed, result
    assert result["changed"] is False
    assert result["appointments"] == ([expected_summary(target)] if present else [])
    assert [r["segments"][-1] for r in emu.requests()] == [target]
    assert_read_only(emu)


FILTERS = [
    ("window only", TUESDAY, {}),
    ("customer_email", WEEK, {"customer_email": "MEI.CHEN@example.org"}),
    ("service_id", WEEK, {"service_id": "e1f3a5c7-9b2d-4f6a-8e1c-4d6f8a0c2e63"}),
    ("staff_member_id", WEEK, {"staff_member_id": "a1b3c5d7-e9f1-4a3b-8c5d-2e4f6a8b0c33"}),
    ("nothing matches", WEEK, {"customer_email": "nobody@example.com"}),
]


@pytest.mark.parametrize("window,filters", [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS])
@pytest.mark.parametrize("api_version", ["v1.0", "beta"])
def test_window_with_filters(emu, capsys, window, filters, api_version):
    args = dict(business_id=BUSINESS, **window)
    args.update(filters)
    failed, result = run_info(emu, args, capsys=capsys, api_version=api_version)
    assert not failed, result
    assert result["changed"] is False
    assert result["appointments"] == [expected_summary(i) for i in in_window(window, **filters)]
    views = [r for r in emu.requests() if r["segments"][-1:] == ["calendarView"]]
    assert len(views) == 1 and views[0]["version"] == api_version
    assert (views[0]["query"]["start"], views[0]["query"]["end"]) == (window["start"], window["end"])
    assert_read_only(emu)


def test_window_follows_paging(emu, capsys):
    # More appointments than one calendarView page (the emulator pages at 100 by default).
    extra = []
    for n in range(130):
        appt = json.loads(json.dumps(APPTS[IDS[0]]))
        appt["id"] = "AAMkADpaging%04d==" % n
        appt["selfServiceAppointmentId"] = "paging-%04d" % n
        extra.append(appt)
    emu.seed({"bookingBusinesses": [{"id": BUSINESS, "appointments": extra}]})
    failed, result = run_info(emu, dict(business_id=BUSINESS, **WEEK), capsys=capsys)
    assert not failed, result
    assert len(result["appointments"]) == len(IDS) + 130
    assert len([r for r in emu.requests() if r["segments"][-1:] == ["calendarView"]]) >= 2


def test_china_fails_before_any_request(emu, capsys):
    failed, result = run_info(emu, dict(business_id=BUSINESS, **TUESDAY), capsys=capsys, cloud="china")
    assert failed and result["msg"] == "Microsoft Bookings is not available in the china (21Vianet) cloud"
    assert emu.requests() == [] and emu.token_requests() == []


BAD_INPUT = [
    ("appointment_id", dict(appointment_id="a/b")),
    ("business_id", dict(business_id="contoso clinic ", appointment_id=IDS[0])),
    ("end", dict(start="2027-03-02T00:00:00Z", end="2027-03-02T00:00:00Z")),
    ("start", dict(start="tuesday", end="2027-03-02T00:00:00Z")),
    ("staff_member_id", dict(TUESDAY, staff_member_id="..")),
    ("start/end together", dict(start="2027-03-02T00:00:00Z")),
    ("id or window", dict(appointment_id=IDS[0], **TUESDAY)),
]


@pytest.mark.parametrize("option,args", BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_sends_nothing(emu, capsys, option, args):
    params = dict(business_id=BUSINESS)
    params.update(args)
    failed, result = run_info(emu, params, capsys=capsys)
    assert failed
    if " " not in option:
        assert option in result["msg"]
    assert emu.requests() == [] and emu.token_requests() == []


def test_business_not_visible_fails(emu, capsys):
    failed, result = run_info(emu, dict(business_id="nobody@contoso.example", appointment_id=IDS[0]), capsys=capsys)
    assert failed and "ErrorFolderNotFound" in result["msg"] and result["appointments"] == []
