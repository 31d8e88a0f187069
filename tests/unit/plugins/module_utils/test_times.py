# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one ISO 8601 and window parser (_times) both families use. No Graph."""

import datetime

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._times import (
    format_utc, fromisoformat, parse_date, parse_datetime, parse_window)


@pytest.mark.parametrize("value,expected", [
    ("2027-03-04", "2027-03-04T00:00:00Z"),
    ("2027-03-04T00:00:00+02:00", "2027-03-03T22:00:00Z"),
    ("2027-03-04T10:15:00.1234567Z", "2027-03-04T10:15:00Z"),  # Graph's seven fractional digits
    ("2027-03-04T10:15:00.5z", "2027-03-04T10:15:00Z"),
    ("2027-03-04T10:15:00.1234-01:00", "2027-03-04T11:15:00Z"),
    ("2027-03-04T10:15:00", "2027-03-04T10:15:00Z"),  # no offset: UTC
    (" 2027-03-04T10:15:00Z ", "2027-03-04T10:15:00Z"),
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
])
def test_window_bounds_are_sent_in_utc(value, expected):
    assert format_utc(parse_datetime(value, "match.start")) == expected


def test_fractions_are_kept_to_the_microsecond():
    assert fromisoformat("2027-03-04T10:15:00.1234567").microsecond == 123456
    assert fromisoformat("2027-03-04T10:15:00.5").microsecond == 500000
    assert fromisoformat("2027-03-04T10:15:00Z").tzinfo == datetime.timezone.utc


@pytest.mark.parametrize("value", ["next monday", "", "   ", None, 20270304, "2027-02-30", "2027-03-04T25:00:00Z",
                                   "2027-03-04T10:00:00+25:00"])
def test_what_is_not_a_date_fails_naming_the_option(value):
    with pytest.raises(InvalidInputError) as info:
        parse_datetime(value, "match.start")
    assert info.value.option == "match.start" and str(info.value).startswith("match.start must be an ISO 8601")


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_moment_out_of_range_in_utc_fails_naming_the_option(value):
    with pytest.raises(InvalidInputError) as info:
        parse_datetime(value, "start")
    assert info.value.option == "start" and "out of range" in str(info.value) and str(info.value).startswith("start")


def test_window():
    start, end = parse_window("2027-03-02", "2027-03-03T00:00:00+01:00", "match.start", "match.end")
    assert (format_utc(start), format_utc(end)) == ("2027-03-02T00:00:00Z", "2027-03-02T23:00:00Z")
    for bad_end in ("2027-03-02T00:00:00Z", "2027-03-01T00:00:00Z"):
        with pytest.raises(InvalidInputError) as info:
            parse_window("2027-03-02T00:00:00Z", bad_end, "match.start", "match.end")
        assert info.value.option == "match.end" and str(info.value).startswith("match.end must be after match.start")
    with pytest.raises(InvalidInputError) as info:
        parse_window("2027-03-02", "2027-03-01")
    assert "end must be after start" in str(info.value)
    with pytest.raises(InvalidInputError) as info:
        parse_window("2027-03-02", "whenever")
    assert info.value.option == "end"


def test_parse_date():
    assert parse_date("2027-03-15", "occurrence.date") == datetime.date(2027, 3, 15)


# The first and last days a date can hold are refused: their window in a zone off UTC cannot be represented.
@pytest.mark.parametrize("value", ["15/03/2027", "2027-13-45", "0001-01-01", "9999-12-31", None])
def test_a_day_that_cannot_be_served_fails_naming_the_option(value):
    with pytest.raises(InvalidInputError) as info:
        parse_date(value, "occurrence.date")
    assert info.value.option == "occurrence.date" and str(info.value).startswith("occurrence.date")


def test_an_input_error_always_names_its_option():
    assert str(InvalidInputError("must be a day", option="occurrence.date")) == "occurrence.date: must be a day"
    assert str(InvalidInputError("user must be set", option="user")) == "user must be set"
