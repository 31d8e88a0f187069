# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the graphops.msgraph collection. It may change without notice.

"""Recurring series: time zones, calendar days, and whether a day holds a scheduled occurrence.

Used by _events to find one occurrence by its calendar day (calendar_event_cancel's occurrence
option) and to tell "no occurrence on that day" from "that occurrence was already cancelled".
Pure: no requests, nothing from Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._times import UTC, fromisoformat, parse_date

try:
    from zoneinfo import ZoneInfo  # Python 3.9+
except ImportError:  # pragma: no cover - Python 3.8 has no zoneinfo
    ZoneInfo = None

# Graph reports Windows time zone names unless told otherwise; the common ones, mapped to IANA.
_WINDOWS_ZONES = {
    "utc": "UTC",
    "coordinated universal time": "UTC",
    "tzone://microsoft/utc": "UTC",
    "greenwich standard time": "Atlantic/Reykjavik",
    "gmt standard time": "Europe/London",
    "w. europe standard time": "Europe/Berlin",
    "romance standard time": "Europe/Paris",
    "central europe standard time": "Europe/Budapest",
    "central european standard time": "Europe/Warsaw",
    "e. europe standard time": "Europe/Chisinau",
    "fle standard time": "Europe/Kiev",
    "gtb standard time": "Europe/Bucharest",
    "russian standard time": "Europe/Moscow",
    "eastern standard time": "America/New_York",
    "central standard time": "America/Chicago",
    "mountain standard time": "America/Denver",
    "us mountain standard time": "America/Phoenix",
    "pacific standard time": "America/Los_Angeles",
    "alaskan standard time": "America/Anchorage",
    "hawaiian standard time": "Pacific/Honolulu",
    "atlantic standard time": "America/Halifax",
    "e. south america standard time": "America/Sao_Paulo",
    "india standard time": "Asia/Kolkata",
    "china standard time": "Asia/Shanghai",
    "singapore standard time": "Asia/Singapore",
    "tokyo standard time": "Asia/Tokyo",
    "korea standard time": "Asia/Seoul",
    "arabian standard time": "Asia/Dubai",
    "israel standard time": "Asia/Jerusalem",
    "south africa standard time": "Africa/Johannesburg",
    "aus eastern standard time": "Australia/Sydney",
    "w. australia standard time": "Australia/Perth",
    "new zealand standard time": "Pacific/Auckland",
}

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_INDEX = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1}


def resolve_time_zone(name, option):
    """A Graph time zone name (IANA or the common Windows names) -> tzinfo.

    A zone that cannot be resolved fails naming option, the value it prevents from being served.
    """
    if not name or name.lower() in ("utc", "etc/utc", "z"):
        return UTC
    iana = _WINDOWS_ZONES.get(name.lower(), name)
    if iana == "UTC":
        return UTC
    if ZoneInfo is None:
        raise InvalidInputError("%s: time zone %r needs Python 3.9 or later (zoneinfo) on the managed node" % (option, name),
                                option=option)
    try:
        return ZoneInfo(iana)
    except Exception:  # zoneinfo raises several types for unknown or malformed keys
        raise InvalidInputError("%s: unknown time zone %r" % (option, name), option=option)


def event_start(event, option):
    """The event's start as an aware datetime (dateTime is wall time in start.timeZone), or None."""
    start = event.get("start") or {}
    value = start.get("dateTime")
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=resolve_time_zone(start.get("timeZone"), option))
    return moment


def _month_index(day):
    return day.year * 12 + day.month - 1


def _relative_day_matches(day, days_of_week, index):
    if _WEEKDAYS[day.weekday()] not in days_of_week:
        return False
    position = _INDEX.get(index or "first", 0)
    if position == -1:
        return (day + datetime.timedelta(days=7)).month != day.month
    return (day.day - 1) // 7 == position


def _pattern_matches(pattern, first, day):
    kind = pattern.get("type")
    interval = max(int(pattern.get("interval") or 1), 1)
    days_of_week = [d.lower() for d in pattern.get("daysOfWeek") or []]
    if kind == "daily":
        return (day - first).days % interval == 0
    if kind == "weekly":
        if _WEEKDAYS[day.weekday()] not in days_of_week:
            return False
        week_start = _WEEKDAYS.index((pattern.get("firstDayOfWeek") or "sunday").lower())

        def start_of_week(value):
            return value - datetime.timedelta(days=(value.weekday() - week_start) % 7)

        return ((start_of_week(day) - start_of_week(first)).days // 7) % interval == 0
    if kind == "absoluteMonthly":
        return day.day == pattern.get("dayOfMonth") and (_month_index(day) - _month_index(first)) % interval == 0
    if kind == "relativeMonthly":
        return _relative_day_matches(day, days_of_week, pattern.get("index")) and (_month_index(day) - _month_index(first)) % interval == 0
    if kind == "absoluteYearly":
        return day.month == pattern.get("month") and day.day == pattern.get("dayOfMonth") and (day.year - first.year) % interval == 0
    if kind == "relativeYearly":
        return (day.month == pattern.get("month") and _relative_day_matches(day, days_of_week, pattern.get("index"))
                and (day.year - first.year) % interval == 0)
    return False


def is_scheduled(recurrence, day):
    """True when the series' recurrence puts an occurrence on `day`, a date in the series' zone.

    Used only to tell "no occurrence on that day" from "that occurrence was already cancelled"
    (a cancelled occurrence is gone from instances). Unknown patterns answer False.
    """
    if not recurrence:
        return False
    pattern = recurrence.get("pattern") or {}
    rng = recurrence.get("range") or {}
    try:
        first = parse_date(rng.get("startDate"), "recurrence.range.startDate")
    except InvalidInputError:
        return False
    if day < first:
        return False
    if rng.get("type") == "endDate" and rng.get("endDate"):
        try:
            if day > parse_date(rng["endDate"], "recurrence.range.endDate"):
                return False
        except InvalidInputError:
            return False
    if not _pattern_matches(pattern, first, day):
        return False
    if rng.get("type") == "numbered":
        limit = int(rng.get("numberOfOccurrences") or 0)
        count, cursor = 0, first
        while cursor <= day:
            if _pattern_matches(pattern, first, cursor):
                count += 1
                if count > limit:
                    return False
            cursor += datetime.timedelta(days=1)
    return True


def series_time_zone(master):
    """The zone in which the series' calendar days are counted."""
    rng = ((master.get("recurrence") or {}).get("range") or {})
    return (rng.get("recurrenceTimeZone") or master.get("originalStartTimeZone")
            or (master.get("start") or {}).get("timeZone") or "UTC")


def day_window(day, tz):
    """[start, end) of a calendar day in zone tz, as aware datetimes."""
    start = datetime.datetime(day.year, day.month, day.day, tzinfo=tz)
    following = day + datetime.timedelta(days=1)
    end = datetime.datetime(following.year, following.month, following.day, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def cancelled_occurrence_id(master, day):
    """The entry of master.cancelledOccurrences for `day`, if Graph listed one."""
    suffix = "." + day.isoformat()
    for entry in master.get("cancelledOccurrences") or []:
        if isinstance(entry, str) and entry.endswith(suffix):
            return entry
    return None
