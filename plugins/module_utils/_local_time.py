# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the graphops.msgraph collection. It may change without notice.

"""Windows in a local time zone (issue 18): time_zone on the four modules.

With an IANA zone (``Europe/Oslo``) start and end may be local dates or local date-times:

* a date as start means the local midnight that begins it; a date as end means the local
  midnight that ends it, so ``start: 2027-03-02, end: 2027-03-02`` is that whole local day,
  however many hours it has across a daylight-saving change (23 or 25);
* a date-time without an offset is local wall time in the zone (a time skipped by a spring
  change reads as the offset before it, Python's fold=0 rule); one with an offset is that moment.

Without a time zone _times.parse_window decides, as before (no offset means UTC). Results gain
start/end in the zone (local_start, local_end) so an operator reads them as they think of them.
Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._times import UTC, fromisoformat, parse_date, parse_window

try:
    from zoneinfo import ZoneInfo  # Python 3.9+
except ImportError:  # pragma: no cover - Python 3.8 has no zoneinfo
    ZoneInfo = None

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def resolve_iana(name, option):
    """An IANA zone name -> tzinfo; an unknown name fails naming option."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("%s must be an IANA time zone name such as Europe/Oslo, got %r" % (option, name), option=option)
    if ZoneInfo is None:
        raise InvalidInputError("%s needs Python 3.9 or later (zoneinfo) on the managed node" % option, option=option)
    try:
        return ZoneInfo(name.strip())
    except Exception:  # zoneinfo raises ValueError, KeyError or ZoneInfoNotFoundError for bad keys
        raise InvalidInputError("%s: unknown IANA time zone %r (for example Europe/Oslo or America/Los_Angeles)" % (option, name),
                                option=option)


def _local_midnight(day, tz):
    return datetime.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def parse_local(value, tz, option, is_end):
    """One bound in zone tz, as an aware UTC datetime."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and _DATE_ONLY.match(text):
        day = parse_date(text, option)
        return _local_midnight(day + datetime.timedelta(days=1) if is_end else day, tz)
    if not isinstance(text, str) or not text:
        raise InvalidInputError("%s must be a date or date-time, got %r" % (option, value), option=option)
    try:
        moment = fromisoformat(text)
    except ValueError:
        raise InvalidInputError("%s must be a date (YYYY-MM-DD) or an ISO 8601 date-time, got %r" % (option, value), option=option)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInputError("%s is out of range once converted to UTC: %r" % (option, value), option=option)


def parse_zoned_window(start, end, time_zone, start_option="start", end_option="end", zone_option="time_zone"):
    """(start, end) as aware UTC datetimes: in time_zone when given, else as _times.parse_window reads them."""
    if time_zone is None:
        return parse_window(start, end, start_option, end_option)
    tz = resolve_iana(time_zone, zone_option)
    start_at = parse_local(start, tz, start_option, is_end=False)
    end_at = parse_local(end, tz, end_option, is_end=True)
    if end_at <= start_at:
        message = "%s must be after %s (%s %s, %s %s in %s)" % (end_option, start_option, start_option, start, end_option, end, time_zone)
        raise InvalidInputError(message, option=end_option)
    return start_at, end_at


def _as_local(value, tz):
    """A summary's time ({date_time, time_zone}, or an ISO string) as ISO 8601 with the zone's offset."""
    if isinstance(value, dict):
        text, zone = value.get("date_time"), value.get("time_zone")
    else:
        text, zone = value, "UTC"
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        if zone not in (None, "", "UTC", "Etc/UTC"):
            return None  # only UTC is asked for (Graph's default); another zone is not guessed
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).isoformat(timespec="seconds")


def add_local_times(summaries, time_zone, keys=(("start", "local_start"), ("end", "local_end"))):
    """Add local_start/local_end (in time_zone) to each summary; no-op without a zone."""
    if time_zone is None:
        return summaries
    tz = resolve_iana(time_zone, "time_zone")
    for summary in summaries:
        for source, target in keys:
            if source in summary:
                summary[target] = _as_local(summary[source], tz)
    return summaries
