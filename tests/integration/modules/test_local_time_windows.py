# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""time_zone on calendar_event_info and both Bookings modules (issue 18), through main(), against the emulator.

The emulator's record shows the window sent (the local day in UTC) and that nothing was written
in check mode; the results carry the times in the zone.
"""

import pytest

from ansible_collections.graphops.msgraph.plugins.modules import booking_appointment_cancel, booking_appointment_info, calendar_event_info
from module_runner import module_credentials, run_main

BUSINESS = "contosoclinic@contoso.example"


def run(emu, module, args, capsys, kind="app", check=False):
    params = module_credentials(emu, kind, retries=1, max_wait=5)
    params.update(args)
    return run_main(module, params, capsys, check=check)


def views(emu):
    return [(r["query"].get("start") or r["query"].get("startDateTime"), r["query"].get("end") or r["query"].get("endDateTime"))
            for r in emu.requests() if r["segments"][-1:] == ["calendarView"]]


def test_booking_info_reads_a_seattle_day(emu, capsys):
    args = dict(business_id=BUSINESS, start="2027-03-02", end="2027-03-02", time_zone="America/Los_Angeles")
    failed, result = run(emu, booking_appointment_info, args, capsys, kind="readonly")
    assert not failed, result
    assert views(emu) == [("2027-03-02T08:00:00Z", "2027-03-03T08:00:00Z")]
    assert result["appointments"], "the seed has appointments on that day"
    for appt in result["appointments"]:
        assert appt["local_start"].endswith("-08:00") and appt["local_start"][:10] == "2027-03-02"


def test_booking_cancel_check_mode_in_a_zone_sends_nothing(emu, capsys):
    failed, result = run(emu, booking_appointment_cancel, dict(business_id=BUSINESS, match=dict(
        start="2027-03-02", end="2027-03-02", time_zone="America/Los_Angeles")), capsys, check=True)
    assert not failed, result
    assert views(emu) == [("2027-03-02T08:00:00Z", "2027-03-03T08:00:00Z")]
    assert all(a["local_start"].endswith("-08:00") for a in result["appointments"])
    assert [r for r in emu.requests() if r["method"] != "GET" and r["segments"][0] != "$batch"] == []
    assert emu.notifications() == []


def test_event_info_local_day(emu, capsys):
    upn = emu["users"]["organizer"]["upn"]
    failed, result = run(emu, calendar_event_info, dict(user=upn, start="2027-03-02", end="2027-03-02", time_zone="Europe/Oslo"),
                         capsys)
    assert not failed, result
    assert views(emu) == [("2027-03-01T23:00:00Z", "2027-03-02T23:00:00Z")]
    assert {e["local_start"][:10] for e in result["events"]} == {"2027-03-02"}


@pytest.mark.parametrize("module,args", [
    (calendar_event_info, dict(start="2027-03-02", end="2027-03-02", time_zone="Mars/Olympus")),
    (booking_appointment_info, dict(business_id=BUSINESS, start="2027-03-02", end="2027-03-02", time_zone="Mars/Olympus")),
])
def test_unknown_zone_fails_before_any_request(emu, capsys, module, args):
    if module is calendar_event_info:
        args = dict(args, user=emu["users"]["organizer"]["upn"])
    failed, result = run(emu, module, args, capsys)
    assert failed and "time_zone" in result["msg"] and "Mars/Olympus" in result["msg"], result
    assert emu.requests() == []
