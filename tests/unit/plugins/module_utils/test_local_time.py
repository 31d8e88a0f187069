# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Windows in an IANA zone (_local_time, issue 18): local days across daylight-saving changes. No Graph."""

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._local_time import add_local_times, parse_zoned_window
from ansible_collections.graphops.msgraph.plugins.module_utils._times import format_utc


@pytest.mark.parametrize("zone,day,start,end,hours", [
    ("Europe/Oslo", "2027-03-28", "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z", 23),  # spring forward
    ("Europe/Oslo", "2027-10-31", "2027-10-30T22:00:00Z", "2027-10-31T23:00:00Z", 25),  # fall back
    ("Europe/Oslo", "2027-03-02", "2027-03-01T23:00:00Z", "2027-03-02T23:00:00Z", 24),
    ("America/Los_Angeles", "2027-03-14", "2027-03-14T08:00:00Z", "2027-03-15T07:00:00Z", 23),
    ("America/Los_Angeles", "2027-03-02", "2027-03-02T08:00:00Z", "2027-03-03T08:00:00Z", 24),
    ("UTC", "2027-03-02", "2027-03-02T00:00:00Z", "2027-03-03T00:00:00Z", 24),
])
def test_a_date_as_start_and_end_is_that_whole_local_day(zone, day, start, end, hours):
    lo, hi = parse_zoned_window(day, day, zone)
    assert (format_utc(lo), format_utc(hi)) == (start, end)
    assert (hi - lo).total_seconds() == hours * 3600


def test_local_times_without_offset_are_wall_time_and_offsets_win():
    lo, hi = parse_zoned_window("2027-03-28T08:00:00", "2027-03-29T08:00:00+00:00", "Europe/Oslo")
    assert (format_utc(lo), format_utc(hi)) == ("2027-03-28T06:00:00Z", "2027-03-29T08:00:00Z")


def test_without_a_zone_the_old_reading_holds():
    lo, hi = parse_zoned_window("2027-03-02", "2027-03-03", None)
    assert (format_utc(lo), format_utc(hi)) == ("2027-03-02T00:00:00Z", "2027-03-03T00:00:00Z")


@pytest.mark.parametrize("start,end,zone,option", [
    ("2027-03-02", "2027-03-02", "Europe/Atlantis", "match.time_zone"),
    ("2027-03-02", "2027-03-02", "", "match.time_zone"),
    ("yesterday", "2027-03-02", "Europe/Oslo", "match.start"),
    ("2027-03-03", "2027-03-02", "Europe/Oslo", "match.end"),
    ("2027-13-01", "2027-03-02", "Europe/Oslo", "match.start"),
])
def test_bad_values_fail_naming_their_option(start, end, zone, option):
    with pytest.raises(InvalidInputError) as err:
        parse_zoned_window(start, end, zone, "match.start", "match.end", "match.time_zone")
    assert err.value.option == option and option in str(err.value)


def test_results_show_times_in_the_zone():
    summaries = [{"start": {"date_time": "2027-03-28T21:30:00.0000000", "time_zone": "UTC"}, "end": "2027-03-28T21:45:00Z"},
                 {"start": None, "end": {"date_time": "2027-03-28T21:30:00", "time_zone": "Pacific Standard Time"}}]
    add_local_times(summaries, "Europe/Oslo")
    assert summaries[0]["local_start"] == "2027-03-28T23:30:00+02:00"
    assert summaries[0]["local_end"] == "2027-03-28T23:45:00+02:00"
    assert summaries[1]["local_start"] is None and summaries[1]["local_end"] is None
    untouched = [{"start": "2027-03-28T21:30:00Z"}]
    assert add_local_times(untouched, None) == [{"start": "2027-03-28T21:30:00Z"}]
