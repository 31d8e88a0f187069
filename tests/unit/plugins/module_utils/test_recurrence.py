# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recurring series (_recurrence): scheduled days, a day's window in the series' zone. No Graph."""

import datetime

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils import _recurrence as rec
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._times import parse_date


def _weekly(**range_):
    rng = dict(type="noEnd", startDate="2027-03-01", recurrenceTimeZone="Pacific Standard Time")
    rng.update(range_)
    return {"pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday", "thursday"], "firstDayOfWeek": "monday"},
            "range": rng}


@pytest.mark.parametrize("recurrence,day,expected", [
    (_weekly(), "2027-03-01", True),
    (_weekly(), "2027-03-04", True),
    (_weekly(), "2027-03-08", False),  # the odd week of an every-other-week series
    (_weekly(), "2027-03-15", True),
    (_weekly(), "2027-03-02", False),
    (_weekly(), "2027-02-22", False),  # before the series starts
    (_weekly(type="endDate", endDate="2027-03-14"), "2027-03-15", False),
    (_weekly(type="numbered", numberOfOccurrences=3), "2027-03-15", True),
    (_weekly(type="numbered", numberOfOccurrences=2), "2027-03-15", False),
    ({"pattern": {"type": "daily", "interval": 3}, "range": {"type": "noEnd", "startDate": "2027-03-01"}}, "2027-03-07", True),
    ({"pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15},
      "range": {"type": "noEnd", "startDate": "2027-03-01"}}, "2027-04-15", True),
    ({"pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
      "range": {"type": "noEnd", "startDate": "2027-03-01"}}, "2027-03-26", True),
    ({"pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
      "range": {"type": "noEnd", "startDate": "2027-03-01"}}, "2027-03-19", False),
    ({"pattern": {"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 2},
      "range": {"type": "noEnd", "startDate": "2027-03-01"}}, "2028-03-02", True),
    ({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "not a day"}}, "2027-03-01", False),
    (None, "2027-03-01", False),
])
def test_is_scheduled(recurrence, day, expected):
    assert rec.is_scheduled(recurrence, parse_date(day, "date")) is expected


def test_day_window_and_occurrence_day_in_the_series_zone():
    tz = rec.resolve_time_zone(rec.series_time_zone({"recurrence": _weekly()}), "occurrence.date")
    start, end = rec.day_window(datetime.date(2027, 3, 15), tz)
    # Pacific Daylight Time from 14 March 2027: the day runs 07:00Z to 07:00Z.
    assert (start.isoformat(), end.isoformat()) == ("2027-03-15T07:00:00+00:00", "2027-03-16T07:00:00+00:00")
    late = {"start": {"dateTime": "2027-03-16T05:30:00.0000000", "timeZone": "UTC"}}
    assert rec.event_start(late, "occurrence.date").astimezone(tz).date() == datetime.date(2027, 3, 15)


def test_an_unknown_zone_fails_naming_the_option_it_prevents():
    with pytest.raises(InvalidInputError) as info:
        rec.resolve_time_zone("Nowhere Standard Time", "occurrence.date")
    assert info.value.option == "occurrence.date" and str(info.value).startswith("occurrence.date")
    assert "Nowhere Standard Time" in str(info.value)


@pytest.mark.parametrize("day", ["0001-01-02", "9999-12-30"])
def test_the_first_and_last_days_accepted_have_a_window_in_any_zone(day):
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):  # UTC+14, UTC-12
        start, end = rec.day_window(parse_date(day, "occurrence.date"), rec.resolve_time_zone(zone, "occurrence.date"))
        assert start < end


def test_cancelled_occurrence_id_and_series_zone():
    master = {"cancelledOccurrences": ["OID.AAMk.2027-03-15", 7], "originalStartTimeZone": "W. Europe Standard Time"}
    assert rec.cancelled_occurrence_id(master, datetime.date(2027, 3, 15)) == "OID.AAMk.2027-03-15"
    assert rec.cancelled_occurrence_id(master, datetime.date(2027, 3, 22)) is None
    assert rec.series_time_zone(master) == "W. Europe Standard Time"
    assert rec.series_time_zone({}) == "UTC"
