# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Calendar event logic shared by calendar_event_cancel and calendar_event_info.

PRIVATE to the collection: no compatibility promise outside graphops.msgraph.

Addressing (which of the ten cancel paths in docs/dev NOTES is used), reading one, many or a
window of events, finding one occurrence of a series by its calendar day, and the summaries
and diffs both modules return. Nothing here talks to Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.graphops.msgraph.plugins.module_utils._ids import build_path, validate_id

try:
    from zoneinfo import ZoneInfo  # Python 3.9+
except ImportError:  # pragma: no cover - Python 3.8 has no zoneinfo
    ZoneInfo = None

# The value of calendar_id that means "the owner's default calendar" ({owner}/calendar/events).
DEFAULT_CALENDAR = "default"

# Only the fields the modules need: keeps every answer small (NOTES: $select is safe).
EVENT_FIELDS = "id,subject,start,end,type,seriesMasterId,organizer,attendees,isOrganizer,isCancelled"
SERIES_FIELDS = EVENT_FIELDS + ",recurrence,originalStartTimeZone,cancelledOccurrences"

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


class EventsError(Exception):
    """A request that cannot be served as asked; the message names the option at fault."""


# ---------------------------------------------------------------------------------------------
# Addressing


class EventAddress:
    """Where an owner's events live, and the Graph paths derived from it.

    Owner: /users/{user}, /groups/{group_id} or /me. Calendar: none ({owner}/events),
    DEFAULT_CALENDAR ({owner}/calendar/events), a calendar id ({owner}/calendars/{id}/events),
    or a calendar in a calendar group ({owner}/calendarGroups/{g}/calendars/{id}/events).
    Groups have one calendar only, so they take /events and /calendar/events.
    """

    def __init__(self, user=None, group_id=None, calendar_id=None, calendar_group_id=None):
        self._ids = {}
        if user is not None:
            self._ids["user"] = validate_id(user, "user")
            owner = "/users/{user}"
            self.mailbox = "users/" + user
        elif group_id is not None:
            self._ids["group_id"] = validate_id(group_id, "group_id")
            owner = "/groups/{group_id}"
            self.mailbox = "groups/" + group_id
        else:
            owner = "/me"
            self.mailbox = "me"
        self.owner = owner
        self.is_me = user is None and group_id is None

        if calendar_group_id is not None:
            self._ids["calendar_group_id"] = validate_id(calendar_group_id, "calendar_group_id")
        if calendar_id is not None:
            self._ids["calendar_id"] = validate_id(calendar_id, "calendar_id")

        if group_id is not None and calendar_group_id is not None:
            raise EventsError("calendar_group_id cannot be used with group_id: a group has one calendar only")
        if group_id is not None and calendar_id not in (None, DEFAULT_CALENDAR):
            raise EventsError("calendar_id must be omitted or '%s' with group_id: a group has one calendar only" % DEFAULT_CALENDAR)
        if calendar_group_id is not None and calendar_id in (None, DEFAULT_CALENDAR):
            raise EventsError("calendar_group_id requires calendar_id (the id of a calendar in that group)")

        if calendar_id is None:
            self.container = owner
        elif calendar_id == DEFAULT_CALENDAR:
            self.container = owner + "/calendar"
        elif calendar_group_id is not None:
            self.container = owner + "/calendarGroups/{calendar_group_id}/calendars/{calendar_id}"
        else:
            self.container = owner + "/calendars/{calendar_id}"

    def _path(self, template, **extra):
        ids = dict((k, v) for k, v in self._ids.items() if "{%s}" % k in template)
        ids.update(extra)
        return build_path(template, **ids)

    def event_path(self, event_id):
        """GET path of one event: {owner}/events/{id} reaches it in any calendar or folder
        (Graph serves GET there for users, /me and groups), so reads work the same for every
        calendar variant and still find an event that a cancel moved to Deleted Items."""
        return self._path(self.owner + "/events/{event_id}", event_id=event_id)

    def cancel_path(self, event_id):
        """POST path of the cancel, through the calendar the user named (one of the ten variants)."""
        return self._path(self.container + "/events/{event_id}/cancel", event_id=event_id)

    def calendar_view_path(self):
        """{owner}/calendarView is the default calendar already, so 'default' uses it too."""
        base = self.owner if self.container == self.owner + "/calendar" else self.container
        return self._path(base + "/calendarView")

    def instances_path(self, series_id):
        return self._path(self.owner + "/events/{event_id}/instances", event_id=series_id)


# ---------------------------------------------------------------------------------------------
# Pure helpers: time, filters, summaries


def _fromisoformat(value):
    """datetime.fromisoformat that also takes 'Z' and Graph's seven fractional digits
    (fromisoformat before Python 3.11 takes neither). Raises ValueError."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _sep, tail = text.partition(".")
        digits = ""
        while tail and tail[0].isdigit():
            digits, tail = digits + tail[0], tail[1:]
        text = head + ("." + digits[:6] if digits else "") + tail
    return datetime.datetime.fromisoformat(text)


def parse_datetime(value, option):
    """ISO 8601 date or date-time -> aware UTC datetime. Without an offset a value is UTC,
    as Graph reads calendarView bounds (https://learn.microsoft.com/graph/api/user-list-calendarview)."""
    if not isinstance(value, str) or not value.strip():
        raise EventsError("%s must be an ISO 8601 date or date-time, got %r" % (option, value))
    try:
        parsed = _fromisoformat(value)
    except ValueError:
        raise EventsError("%s must be an ISO 8601 date or date-time, got %r" % (option, value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def graph_datetime(value):
    """Aware datetime -> the UTC form sent as startDateTime/endDateTime."""
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value, option):
    try:
        return datetime.datetime.strptime(str(value), "%Y-%m-%d").date()
    except ValueError:
        raise EventsError("%s must be a calendar day as YYYY-MM-DD, got %r" % (option, value))


def resolve_time_zone(name):
    """A Graph time zone name (IANA or the common Windows names) -> tzinfo."""
    if not name or name.lower() in ("utc", "etc/utc", "z"):
        return datetime.timezone.utc
    iana = _WINDOWS_ZONES.get(name.lower(), name)
    if iana == "UTC":
        return datetime.timezone.utc
    if ZoneInfo is None:
        raise EventsError("time zone %r needs Python 3.9 or later (zoneinfo) on the managed node" % name)
    try:
        return ZoneInfo(iana)
    except Exception:  # zoneinfo raises several types for unknown or malformed keys
        raise EventsError("unknown time zone %r" % name)


def event_start(event):
    """The event's start as an aware datetime (dateTime is wall time in start.timeZone), or None."""
    start = event.get("start") or {}
    value = start.get("dateTime")
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = _fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=resolve_time_zone(start.get("timeZone")))
    return moment


def subject_matches(event, subject=None, subject_contains=None):
    text = event.get("subject") or ""
    if subject is not None and text != subject:
        return False
    if subject_contains is not None and subject_contains.lower() not in text.lower():
        return False
    return True


def _time(value):
    if not value:
        return None
    return {"date_time": value.get("dateTime"), "time_zone": value.get("timeZone")}


def summarize(event):
    """The snake_case summary both modules return for an event."""
    organizer = ((event.get("organizer") or {}).get("emailAddress") or {}).get("address")
    return {
        "id": event.get("id"),
        "subject": event.get("subject"),
        "start": _time(event.get("start")),
        "end": _time(event.get("end")),
        "type": event.get("type"),
        "series_master_id": event.get("seriesMasterId"),
        "organizer": organizer,
        "attendee_count": len(event.get("attendees") or []),
        "is_organizer": event.get("isOrganizer"),
        "is_cancelled": event.get("isCancelled"),
    }


def diff_entry(event):
    """What --diff shows of an event before it is cancelled."""
    summary = summarize(event)
    return dict((k, summary[k]) for k in ("subject", "start", "end", "type", "attendee_count"))


def is_cancelled_probe(status, body):
    """probe_done for WriteOp: a cancel took effect when the event is gone or flagged cancelled.

    After a cancel the organizer's copy moves to Deleted Items; whether a GET by immutable id
    then answers the item with isCancelled or a 404 is unverified (NOTES), so both count.
    """
    if status == 404:
        return True
    return bool(status and 200 <= status < 300 and isinstance(body, dict) and body.get("isCancelled") is True)


# ---------------------------------------------------------------------------------------------
# Recurrence: is a calendar day a scheduled occurrence of a series?


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
    except EventsError:
        return False
    if day < first:
        return False
    if rng.get("type") == "endDate" and rng.get("endDate"):
        try:
            if day > parse_date(rng["endDate"], "recurrence.range.endDate"):
                return False
        except EventsError:
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
    return start.astimezone(datetime.timezone.utc), end.astimezone(datetime.timezone.utc)


def cancelled_occurrence_id(master, day):
    """The entry of master.cancelledOccurrences for `day`, if Graph listed one."""
    suffix = "." + day.isoformat()
    for entry in master.get("cancelledOccurrences") or []:
        if isinstance(entry, str) and entry.endswith(suffix):
            return entry
    return None


# ---------------------------------------------------------------------------------------------
# Reading through the Graph client


# Outlook pages events 10 at a time unless asked; a window of 1000 meetings would be 100 round
# trips one after the other. $top is safe (NOTES); 500 keeps each page well under Outlook's cap.
WINDOW_PAGE_SIZE = "500"


def read_window(client, address, start, end, subject=None, subject_contains=None):
    """Events in [start, end) (occurrences expanded), filtered on subject client side:
    server-side $filter on calendarView is not documented to work reliably (NOTES)."""
    params = {
        "startDateTime": graph_datetime(start),
        "endDateTime": graph_datetime(end),
        "$select": EVENT_FIELDS,
        "$top": WINDOW_PAGE_SIZE,
    }
    events = client.get_all(address.calendar_view_path(), params=params, outlook=True)
    return [e for e in events if subject_matches(e, subject, subject_contains)]


def read_events(client, address, event_ids, read_op_cls):
    """event id -> (status, body, error) for each id, read by immutable id in one batch."""
    ops = [read_op_cls(key=eid, path=address.event_path(eid), params={"$select": EVENT_FIELDS},
                       mailbox=address.mailbox, outlook=True) for eid in event_ids]
    return client.read_many(ops)


def find_occurrences(client, address, master, day):
    """Occurrences and exceptions of `master` whose start falls on `day` in the series' zone."""
    tz = resolve_time_zone(series_time_zone(master))
    start, end = day_window(day, tz)
    params = {
        "startDateTime": graph_datetime(start),
        "endDateTime": graph_datetime(end),
        "$select": EVENT_FIELDS,
    }
    instances = client.get_all(address.instances_path(master["id"]), params=params, outlook=True)
    found = []
    for instance in instances:
        begins = event_start(instance)
        if begins is not None and begins.astimezone(tz).date() == day:
            found.append(instance)
    return found
