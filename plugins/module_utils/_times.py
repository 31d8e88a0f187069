# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the graphops.msgraph collection. It may change without notice.

"""ISO 8601 dates and times, and start/end windows: one parser for Bookings and calendar events.

Graph writes seven fractional digits (``2026-03-02T09:00:00.0000000Z``), and before Python 3.11
datetime.fromisoformat() accepts neither those nor the ``Z`` suffix, so both are normalised here
first. A value the user typed that is not a date, or one that cannot be represented once moved to
UTC (year 1 at +01:00: "date value out of range"), fails with InvalidInputError naming its option.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError

UTC = datetime.timezone.utc
_FRACTION = re.compile(r"^(?P<head>[^.]*)\.(?P<frac>\d+)(?P<tail>.*)$")


def fromisoformat(value):
    """datetime.fromisoformat() that also takes 'Z' and any number of fractional digits. Raises ValueError.

    The result is naive when the text has no offset: what that means is the caller's choice.
    """
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    found = _FRACTION.match(text)
    if found:
        # fromisoformat() before 3.11 takes exactly 3 or 6 digits: pad or cut to microseconds.
        text = "%s.%s%s" % (found.group("head"), (found.group("frac") + "000000")[:6], found.group("tail"))
    return datetime.datetime.fromisoformat(text)


def parse_datetime(value, option):
    """An ISO 8601 date or date-time the user gave, as an aware UTC datetime.

    Without an offset the value is UTC, as Graph reads calendarView bounds
    (https://learn.microsoft.com/graph/api/user-list-calendarview).
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("%s must be an ISO 8601 date or date-time, got %r" % (option, value), option=option)
    try:
        parsed = fromisoformat(value)
    except ValueError:
        raise InvalidInputError("%s must be an ISO 8601 date or date-time, got %r" % (option, value), option=option)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # "date value out of range": the UTC moment falls before year 1 or after 9999
        raise InvalidInputError("%s is out of range once converted to UTC: %r" % (option, value), option=option)


def parse_date(value, option):
    """A calendar day given as YYYY-MM-DD, as a datetime.date.

    The first and last days datetime can hold are refused: a day's window in a zone east or west
    of UTC would fall outside the range a datetime can represent.
    """
    try:
        day = datetime.datetime.strptime(str(value), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInputError("%s must be a calendar day as YYYY-MM-DD, got %r" % (option, value), option=option)
    if day in (datetime.date.min, datetime.date.max):
        raise InvalidInputError("%s must be a day between 0001-01-02 and 9999-12-30, got %r" % (option, value), option=option)
    return day


def parse_window(start, end, start_option="start", end_option="end"):
    """A start/end pair the user gave, as aware UTC datetimes; end must come after start."""
    start_at = parse_datetime(start, start_option)
    end_at = parse_datetime(end, end_option)
    if end_at <= start_at:
        raise InvalidInputError("%s must be after %s (%s %s, %s %s)" % (end_option, start_option, start_option, start, end_option, end),
                                option=end_option)
    return start_at, end_at


def format_utc(moment):
    """2026-03-02T09:00:00Z: the form sent to calendarView and returned in Bookings summaries."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
