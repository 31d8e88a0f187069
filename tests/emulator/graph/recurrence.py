# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Series expansion and occurrence ids.

Occurrences are never stored; they are computed from the master's patternedRecurrence when a
calendarView or instances request asks for a window. Outlook occurrence ids are opaque but
embed the master and the original date, so here an occurrence id is the base64 of
"OCC|<master id>|<YYYYMMDD>" behind the same prefix as the id format it was derived from:
stable, derivable, and either format resolves.
"""

import base64
import binascii
import datetime
import functools

from emulator.graph import common

_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DEFAULT_PREFIX, IMMUTABLE_PREFIX = "AAMkAD", "AAkALg"


def occurrence_id(master_id, day, immutable):
    payload = "OCC|%s|%s" % (master_id, day.strftime("%Y%m%d"))
    prefix = IMMUTABLE_PREFIX if immutable else DEFAULT_PREFIX
    return prefix + base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii")


def parse_occurrence_id(value):
    """(master id, date) when value is an occurrence id, else None."""
    if len(value) < 10 or value[:6] not in (DEFAULT_PREFIX, IMMUTABLE_PREFIX):
        return None
    try:
        payload = base64.urlsafe_b64decode(value[6:].encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = payload.split("|")
    if len(parts) != 3 or parts[0] != "OCC":
        return None
    try:
        day = datetime.datetime.strptime(parts[2], "%Y%m%d").date()
    except ValueError:
        return None
    return parts[1], day


def occurrence_dates(master, until):
    """Original dates of every occurrence of the series up to (excluding) the date `until`, as a tuple."""
    rec = master.data.get("recurrence") or {}
    pattern, rng = rec.get("pattern") or {}, rec.get("range") or {}
    first = common.dtz_to_utc(master.data["start"]).date()
    start = datetime.datetime.strptime(rng.get("startDate") or first.isoformat(), "%Y-%m-%d").date()
    last = None
    if rng.get("type") == "endDate" and rng.get("endDate"):
        last = datetime.datetime.strptime(rng["endDate"], "%Y-%m-%d").date()
    limit = int(rng.get("numberOfOccurrences") or 0) if rng.get("type") == "numbered" else 0
    interval = max(int(pattern.get("interval") or 1), 1)
    days = frozenset(d.lower() for d in pattern.get("daysOfWeek") or [_DAYS[start.weekday()]])
    return _dates(pattern.get("type"), start, last, limit, interval, days, until)


@functools.lru_cache(maxsize=1024)
def _dates(kind, start, last, limit, interval, days, until):
    # Cached on everything the expansion depends on, so a write to the series (a new range, an
    # ended series) is a new key: each page of a calendarView no longer re-walks a year day by day.
    week0 = start - datetime.timedelta(days=start.weekday())
    out, day = [], start
    while day < until and (last is None or day <= last) and (not limit or len(out) < limit):
        if kind == "daily":
            hit = (day - start).days % interval == 0
        else:  # weekly (the only other pattern the fixtures use)
            hit = _DAYS[day.weekday()] in days and ((day - week0).days // 7) % interval == 0
        if hit:
            out.append(day)
        day += datetime.timedelta(days=1)
    return tuple(out)


def occurrence_times(master, day):
    start = common.dtz_to_utc(master.data["start"])
    end = common.dtz_to_utc(master.data["end"])
    occ_start = datetime.datetime.combine(day, start.timetz())
    return occ_start, occ_start + (end - start)


def live_occurrences(master, win_start, win_end):
    """(date, start, end) of the occurrences overlapping the window and not cancelled."""
    if master.data.get("isCancelled") or master.folder != "calendar":
        return []
    cancelled = set(master.data.get("_cancelledDates", []))
    start = common.dtz_to_utc(master.data["start"])
    at, length = start.timetz(), common.dtz_to_utc(master.data["end"]) - start
    out = []
    for day in occurrence_dates(master, (win_end + datetime.timedelta(days=1)).date()):
        occ_start = datetime.datetime.combine(day, at)  # as occurrence_times(master, day)
        occ_end = occ_start + length
        if common.overlaps(occ_start, occ_end, win_start, win_end) and not (cancelled and day.isoformat() in cancelled):
            out.append((day, occ_start, occ_end))
    return out


def is_live_occurrence(master, day):
    if master.data.get("isCancelled") or master.folder != "calendar" or day.isoformat() in master.data.get("_cancelledDates", []):
        return False
    return day in occurrence_dates(master, day + datetime.timedelta(days=1))
