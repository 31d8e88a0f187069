# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""booking_appointment_cancel through main(), against the Graph emulator.

Every outcome is asserted through the emulator's own record (requests, notifications, state),
never only through what the module returns. Expected sets are computed from the seed fixture
(tests/emulator/fixtures/tenant.json), independently of the module's own filtering.
"""

import re

import pytest

from ansible.module_utils.common import warnings as ansible_warnings

from emulator.graph.testing import load_fixture
from module_runner import module_credentials, run_main
from ansible_collections.graphops.msgraph.plugins.modules import booking_appointment_cancel

BUSINESS = "contosoclinic@contoso.example"
MISSING = "AAMkADmissing0000000000000000000000000000000000AA=="
WEEK = dict(start="2027-03-01T00:00:00Z", end="2027-03-06T00:00:00Z")
MONDAY = dict(start="2027-03-01T00:00:00Z", end="2027-03-02T00:00:00Z")


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def fresh_warnings():
    """main() runs in this process, and AnsibleModule keeps warnings in a process-wide list: start
    each test with none, so one test's warning is never read as another's."""
    pending = getattr(ansible_warnings, "_global_warnings", None)
    if pending is not None:
        pending.clear()


SEED = [b for b in load_fixture()["bookingBusinesses"] if b["id"] == BUSINESS][0]
APPTS = dict((a["id"], a) for a in SEED["appointments"])
IDS = [a["id"] for a in SEED["appointments"]]  # seed order is chronological
STAFF_EMAIL = dict((s["id"], s["emailAddress"]) for s in SEED["staffMembers"])


def recipients(appointment_id):
    """Who Graph notifies when this seed appointment is cancelled: customers and staff."""
    appt = APPTS[appointment_id]
    return sorted([c["emailAddress"] for c in appt["customers"]] + [STAFF_EMAIL[s] for s in appt["staffMemberIds"]])


def run_cancel(emu, args, check=False, diff=False, capsys=None, **credentials):
    """Run the module's main() in-process; returns (failed, result)."""
    params = module_credentials(emu, retries=1, max_wait=5, **credentials)
    params.update(args)
    return run_main(booking_appointment_cancel, params, capsys, check=check, diff=diff)


def cancel_requests(emu):
    """Recorded cancel operations, top level or inside a $batch."""
    return [r for r in emu.requests() if r["method"] == "POST" and r["segments"] and r["segments"][-1] == "cancel"]


def cancel_counts(emu):
    """appointment id -> how many cancel operations Graph received for it."""
    counts = {}
    for req in cancel_requests(emu):
        counts[req["segments"][-2]] = counts.get(req["segments"][-2], 0) + 1
    return counts


def notified(emu):
    """appointment id -> sorted recipients of booking_cancelled notifications."""
    out = {}
    for note in emu.notifications():
        assert note["kind"] == "booking_cancelled"
        out.setdefault(note["item_id"], []).append(note["recipient"])
    return dict((k, sorted(v)) for k, v in out.items())


def remaining(emu):
    return set(a["id"] for a in emu.appointments_state(BUSINESS))


def expected_in_window(window, customer_email=None, service_id=None, staff_member_id=None):
    """Seed appointments overlapping the window that meet every filter, computed from the fixture."""
    def stamp(text):
        return text[:19]
    lo, hi = window["start"][:19], window["end"][:19]
    out = []
    for appt in SEED["appointments"]:
        if not (stamp(appt["startDateTime"]["dateTime"]) < hi and stamp(appt["endDateTime"]["dateTime"]) > lo):
            continue
        if customer_email and customer_email.lower() not in [c["emailAddress"].lower() for c in appt["customers"]]:
            continue
        if service_id and appt["serviceId"] != service_id:
            continue
        if staff_member_id and staff_member_id not in appt["staffMemberIds"]:
            continue
        out.append(appt["id"])
    return out


# --------------------------------------------------------------------------- check mode x state


@pytest.mark.parametrize("check", [True, False], ids=["check", "apply"])
@pytest.mark.parametrize("present", [True, False], ids=["present", "absent"])
def test_check_mode_and_state(emu, capsys, check, present):
    target = IDS[0] if present else MISSING
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, appointment_id=target, cancellation_message="Clinic closed"),
                                check=check, capsys=capsys)
    assert not failed, result
    assert result["changed"] is present
    if present:
        assert result["cancelled"] == [target] and result["already_absent"] == []
        assert [a["id"] for a in result["appointments"]] == [target]
    else:
        assert result["cancelled"] == [] and result["already_absent"] == [target] and result["appointments"] == []

    # The emulator's record: the appointment was read; a cancel went out only for a real run of a present one.
    reads = [r for r in emu.requests() if r["method"] == "GET"]
    assert [r["segments"][-1] for r in reads] == [target]
    # Only the properties the result and the diff use are read.
    assert set(reads[0]["query"]["$select"].split(",")) == {
        "id", "serviceId", "serviceName", "staffMemberIds", "customers", "customerEmailAddress", "customerName",
        "startDateTime", "endDateTime"}
    if present and not check:
        assert cancel_counts(emu) == {target: 1}
        assert notified(emu) == {target: recipients(target)}
        assert all(n["message"] == "Clinic closed" for n in emu.notifications())
        assert target not in remaining(emu)
    else:
        assert cancel_requests(emu) == [] and emu.notifications() == []
        assert remaining(emu) == set(IDS)


def test_rerun_is_not_changed(emu, capsys):
    args = dict(business_id=BUSINESS, appointment_ids=IDS[:3])
    first = run_cancel(emu, args, capsys=capsys)[1]
    second = run_cancel(emu, args, capsys=capsys)[1]
    assert first["changed"] and first["cancelled"] == IDS[:3]
    assert not second["changed"] and second["cancelled"] == [] and second["already_absent"] == IDS[:3]
    assert cancel_counts(emu) == dict((i, 1) for i in IDS[:3])
    assert notified(emu) == dict((i, recipients(i)) for i in IDS[:3])


# --------------------------------------------------------------------------- diff


@pytest.mark.parametrize("check", [True, False], ids=["check", "apply"])
def test_diff_shows_before_and_absent_after(emu, capsys, check):
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, match=MONDAY), check=check, diff=True, capsys=capsys)
    assert not failed, result
    wanted = expected_in_window(MONDAY)
    assert len(wanted) == 3
    assert sorted(result["diff"]["before"]) == sorted(wanted)
    assert result["diff"]["after"] == dict((i, "absent") for i in wanted)
    first = APPTS[wanted[0]]
    assert result["diff"]["before"][wanted[0]] == {
        "start": first["startDateTime"]["dateTime"][:19] + "Z",
        "end": first["endDateTime"]["dateTime"][:19] + "Z",
        "service": first["serviceName"],
        "customers": ["%s <%s>" % (c["name"], c["emailAddress"]) for c in first["customers"]],
    }
    assert bool(cancel_requests(emu)) is not check
    assert remaining(emu) == (set(IDS) if check else set(IDS) - set(wanted))


# --------------------------------------------------------------------------- selectors


def test_appointment_ids_duplicate_is_cancelled_once(emu, capsys):
    ids = [IDS[3], IDS[4], IDS[3], MISSING, IDS[4]]
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, appointment_ids=ids), capsys=capsys)
    assert not failed, result
    assert result["cancelled"] == [IDS[3], IDS[4]] and result["already_absent"] == [MISSING]
    assert cancel_counts(emu) == {IDS[3]: 1, IDS[4]: 1}
    assert notified(emu) == {IDS[3]: recipients(IDS[3]), IDS[4]: recipients(IDS[4])}
    # Several ids are read through one $batch, not one request each.
    assert any(r["segments"] == ["$batch"] for r in emu.requests())


FILTERS = [
    ("window only", {}),
    ("customer_email", {"customer_email": "Jordan.Miller@Example.NET"}),
    ("service_id", {"service_id": "c4d6e8f0-2a4c-4e6a-8c0e-3b5d7f9a1c52"}),
    ("staff_member_id", {"staff_member_id": "9e2f4a6c-8d0b-4c2e-a4f6-1b3d5f7a9c22"}),
    ("service and staff", {"service_id": "57da6774-a087-4d69-b0e6-6fb82c339976",
                           "staff_member_id": "7c1d9e3a-5b2f-4a8c-9e6d-0f2a4c6e8b11"}),
]


@pytest.mark.parametrize("filters", [f[1] for f in FILTERS], ids=[f[0] for f in FILTERS])
@pytest.mark.parametrize("check", [True, False], ids=["check", "apply"])
def test_match_with_each_filter(emu, capsys, filters, check):
    window = WEEK if filters else MONDAY
    match = dict(window, **filters)
    wanted = expected_in_window(window, **filters)
    assert wanted, "the fixture should hold appointments for this filter"
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, match=match, cancellation_message="Sorry"), check=check, capsys=capsys)
    assert not failed, result
    assert result["changed"] is True
    assert sorted(result["cancelled"]) == sorted(wanted)
    assert sorted(a["id"] for a in result["appointments"]) == sorted(wanted)
    # The window was read with calendarView start/end; nothing but the matches was touched.
    views = [r for r in emu.requests() if r["segments"][-1:] == ["calendarView"]]
    assert views and views[0]["query"]["start"] == window["start"] and views[0]["query"]["end"] == window["end"]
    if check:
        assert cancel_requests(emu) == [] and emu.notifications() == [] and remaining(emu) == set(IDS)
    else:
        assert cancel_counts(emu) == dict((i, 1) for i in wanted)
        assert notified(emu) == dict((i, recipients(i)) for i in wanted)
        assert remaining(emu) == set(IDS) - set(wanted)


def test_match_nothing_is_ok(emu, capsys):
    match = dict(WEEK, customer_email="nobody@example.com")
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, match=match), capsys=capsys)
    assert not failed and result["changed"] is False and result["cancelled"] == []
    assert cancel_requests(emu) == []


def test_beta_reads_start_and_end(emu, capsys):
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, match=MONDAY), check=True, capsys=capsys, api_version="beta")
    assert not failed, result
    assert all(r["version"] == "beta" for r in emu.requests())
    [view] = [r for r in emu.requests() if r["segments"][-1:] == ["calendarView"]]
    assert {"start", "end"} <= set(view["query"]["$select"].split(",")) and "startDateTime" not in view["query"]["$select"]
    summary = dict((a["id"], a) for a in result["appointments"])[IDS[0]]
    assert (summary["start"], summary["end"]) == ("2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z")


# --------------------------------------------------------------------------- failures


def _cancel_path_regex(appointment_id):
    return "/cancel$" if appointment_id is None else re.escape("/appointments/%s/cancel" % appointment_id) + "$"


def test_bulk_partial_failure_then_rerun_finishes(emu, capsys):
    targets = IDS[:5]
    broken = [IDS[1], IDS[3]]
    for appointment_id in broken:
        # Enough times to outlast the client's retries: these two fail for this run.
        emu.add_fault("status_500_unknown", method="POST", path_regex=_cancel_path_regex(appointment_id), times=50)
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, appointment_ids=targets), capsys=capsys)
    assert failed
    for appointment_id in broken:
        assert "Cancel appointment %s failed: HTTP 500 UnknownError" % appointment_id in result["msg"]
    assert [f["id"] for f in result["failures"]] == broken
    assert all(f["error"]["status"] == 500 and f["error"]["code"] == "UnknownError" and f["error"]["request_id"]
               for f in result["failures"])
    done = [i for i in targets if i not in broken]
    assert result["changed"] is True and result["cancelled"] == done
    assert [a["id"] for a in result["appointments"]] == done
    assert remaining(emu) == set(IDS) - set(done)
    assert notified(emu) == dict((i, recipients(i)) for i in done)

    emu.clear_faults()
    failed, rerun = run_cancel(emu, dict(business_id=BUSINESS, appointment_ids=targets), capsys=capsys)
    assert not failed, rerun
    assert rerun["cancelled"] == broken and rerun["already_absent"] == done
    # Nothing lost, nothing doubled: one notification per recipient per appointment over both runs.
    assert notified(emu) == dict((i, recipients(i)) for i in targets)
    assert remaining(emu) == set(IDS) - set(targets)


@pytest.mark.parametrize("kind", ["applied_then_504", "applied_then_reset"])
@pytest.mark.parametrize("bulk", [False, True], ids=["single", "batch"])
def test_applied_then_failed_notifies_once(emu, capsys, kind, bulk):
    targets = IDS[:3] if bulk else IDS[:1]
    # On the cancel inside the $batch (one appointment too is read and cancelled in one batch);
    # a reset there becomes the whole batch's fate: no answer for any item of it.
    emu.add_fault(kind, method="POST", path_regex=_cancel_path_regex(IDS[0]), in_batch=True, times=1)
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, appointment_ids=targets), capsys=capsys)
    assert not failed, result
    assert [f["hits"] for f in emu.faults()] == [1]
    assert result["changed"] is True and sorted(result["cancelled"]) == sorted(targets)
    assert notified(emu) == dict((i, recipients(i)) for i in targets)
    assert remaining(emu) == set(IDS) - set(targets)
    assert cancel_counts(emu) == dict((i, 1) for i in targets)
    # ansible-core 2.19 reports a warning as {"event": {"msg": ...}}, earlier versions as text.
    warnings = [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings", [])]
    lost_warning = [w for w in warnings if "did not confirm" in w]
    if not bulk and kind == "applied_then_reset":
        # Gone after a lost answer: reported cancelled, with the doubt said, never sent again.
        assert lost_warning and IDS[0] in lost_warning[0]
        assert result["appointments"] == [dict(id=IDS[0], start=None, end=None, service_id=None, service_name=None,
                                               staff_member_ids=[], customers=[])]
    else:
        assert not lost_warning
        assert [a["id"] for a in result["appointments"]] == targets


def test_single_cancel_is_one_round_trip(emu, capsys):
    """The read and the cancel of one appointment go in one $batch, the cancel dependsOn the read."""
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, appointment_id=IDS[0], cancellation_message="Closed"),
                                capsys=capsys)
    assert not failed, result
    assert result["cancelled"] == [IDS[0]] and result["appointments"][0]["service_name"] == APPTS[IDS[0]]["serviceName"]
    graph_http = [r for r in emu.http_requests() if r["path"] not in ("/%s/oauth2/v2.0/token" % emu["tenant_id"],)
                  and "/v2.0/.well-known/" not in r["path"]]
    assert [(r["method"], r["path"]) for r in graph_http] == [("POST", "/v1.0/$batch")]
    ops = [r for r in emu.requests() if r["in_batch"]]
    assert [(r["method"], r["segments"][-1]) for r in ops] == [("GET", IDS[0]), ("POST", "cancel")]
    assert notified(emu) == {IDS[0]: recipients(IDS[0])}


def test_single_cancel_of_an_absent_appointment_sends_no_cancel(emu, capsys):
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, appointment_id=MISSING), capsys=capsys)
    assert not failed, result
    assert result["changed"] is False and result["already_absent"] == [MISSING]
    # Graph answered the dependent cancel 424 and never ran it: no cancel reached the store.
    assert [r["status"] for r in emu.requests() if r["in_batch"]] in ([404], [404, 424])
    assert notified(emu) == {}


def test_china_fails_before_any_request(emu, capsys):
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, appointment_id=IDS[0]), capsys=capsys, cloud="china")
    assert failed
    assert result["msg"] == "Microsoft Bookings is not available in the china (21Vianet) cloud"
    assert emu.requests() == [] and emu.token_requests() == []


BAD_INPUT = [
    ("appointment_id", dict(appointment_id="AAMk/../x")),
    ("appointment_ids", dict(appointment_ids=[IDS[0], " AAMkAD "])),
    ("appointment_ids", dict(appointment_ids=[IDS[0], "a?b"])),
    ("business_id", dict(business_id="..", appointment_id=IDS[0])),
    ("match.staff_member_id", dict(match=dict(WEEK, staff_member_id="x#y"))),
    ("match.end", dict(match=dict(start="2027-03-02T00:00:00Z", end="2027-03-01T00:00:00Z"))),
    ("match.start", dict(match=dict(start="next monday", end="2027-03-01T00:00:00Z"))),
    ("match.start", dict(match=dict(start="0001-01-01T00:00:00+01:00", end="2027-03-01T00:00:00Z"))),  # before year 1 in UTC
    ("mutually exclusive", dict(appointment_id=IDS[0], appointment_ids=[IDS[1]])),
    ("one of", dict()),
]


@pytest.mark.parametrize("option,args", BAD_INPUT, ids=[b[0] + "-" + str(n) for n, b in enumerate(BAD_INPUT)])
def test_bad_input_sends_nothing(emu, capsys, option, args):
    params = dict(business_id=BUSINESS)
    params.update(args)
    failed, result = run_cancel(emu, params, capsys=capsys)
    assert failed
    if "." in option or option.endswith("_id") or option.endswith("_ids"):
        assert option in result["msg"]
    assert emu.requests() == [] and emu.token_requests() == []


def test_business_not_visible_is_a_failure_not_absent(emu, capsys):
    # ErrorFolderNotFound is a 404 too, but it means "not a member of this business".
    for args in (dict(appointment_id=IDS[0]), dict(appointment_ids=IDS[:2])):
        failed, result = run_cancel(emu, dict(business_id="nobody@contoso.example", **args), capsys=capsys)
        assert failed and "ErrorFolderNotFound" in result["msg"], result
        assert result["already_absent"] == [] and result["changed"] is False
    assert cancel_requests(emu) == []


def test_app_without_write_permission_fails_before_any_graph_request(emu, capsys):
    # The read-only app's token carries Bookings.Read.All only: known from its roles, nothing is sent.
    readonly = emu["apps"]["readonly"]
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, appointment_id=IDS[0]), capsys=capsys,
                                client_id=readonly["client_id"], client_secret=readonly["client_secret"])
    assert failed
    assert result["msg"].startswith("Nothing sent") and "Bookings.ReadWrite.All" in result["msg"]
    assert result["changed"] is False and result["cancelled"] == []
    assert emu.requests() == []
    assert emu.notifications() == [] and remaining(emu) == set(IDS)


def test_bulk_read_failure_is_reported_and_the_rest_cancelled(emu, capsys):
    targets = IDS[:3]
    # The read of one appointment keeps failing: it is neither cancelled nor called absent.
    emu.add_fault("status_503", method="GET", path_regex=re.escape("/appointments/%s" % IDS[1]) + "$", times=50)
    failed, result = run_cancel(emu, dict(business_id=BUSINESS, appointment_ids=targets), capsys=capsys)
    assert failed
    assert [f["id"] for f in result["failures"]] == [IDS[1]] and result["failures"][0]["error"]["status"] == 503
    assert "Read appointment %s failed: HTTP 503" % IDS[1] in result["msg"]
    assert result["cancelled"] == [IDS[0], IDS[2]] and result["already_absent"] == []
    assert cancel_counts(emu) == {IDS[0]: 1, IDS[2]: 1}
    assert IDS[1] in remaining(emu)
