# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the graphops.msgraph collection. It may change without notice.

"""Calendar events: the domain logic of calendar_event_cancel and calendar_event_info.

What the user asked for (an EventAddress, one of the ten cancel paths in docs/dev NOTES, and a
Selection), the reads, the plan of a cancel (what to cancel, what is already absent or cancelled,
what is skipped) and the cancel operations, plus the summaries and diffs both modules return.
Every request goes through the GraphClient; recurrence arithmetic lives in _recurrence. Nothing
here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOp, WriteOp, sort_write_outcomes
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import GraphNotFound, InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._ids import build_path, validate_id, validate_id_list
from ansible_collections.graphops.msgraph.plugins.module_utils import _recurrence as recurrence
from ansible_collections.graphops.msgraph.plugins.module_utils._times import format_utc, parse_date
# issue 18: match.time_zone / time_zone (local dates and times in an IANA zone).
from ansible_collections.graphops.msgraph.plugins.module_utils._local_time import parse_zoned_window

# The value of calendar_id that means "the owner's default calendar" ({owner}/calendar/events).
DEFAULT_CALENDAR = "default"

# Only the fields the modules need: keeps every answer small (NOTES: $select is safe).
EVENT_FIELDS = "id,subject,start,end,type,seriesMasterId,organizer,attendees,isOrganizer,isCancelled"
SERIES_FIELDS = EVENT_FIELDS + ",recurrence,originalStartTimeZone,cancelledOccurrences"

# Outlook pages events 10 at a time unless asked; a window of 1000 meetings would be 100 round
# trips one after the other. $top is safe (NOTES); 500 keeps each page well under Outlook's cap.
WINDOW_PAGE_SIZE = "500"

ME_NEEDS_DELEGATED = ("No user or group_id given, so the events of /me were addressed, but the credentials give an application "
                      "token and /me needs a delegated (user) token: set user to the userPrincipalName or object id of the "
                      "mailbox owner")


# ---------------------------------------------------------------------------------------------
# What the user asked for


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
            raise InvalidInputError("calendar_group_id cannot be used with group_id: a group has one calendar only",
                                    option="calendar_group_id")
        if group_id is not None and calendar_id not in (None, DEFAULT_CALENDAR):
            raise InvalidInputError("calendar_id must be omitted or '%s' with group_id: a group has one calendar only"
                                    % DEFAULT_CALENDAR, option="calendar_id")
        if calendar_group_id is not None and calendar_id in (None, DEFAULT_CALENDAR):
            raise InvalidInputError("calendar_group_id requires calendar_id (the id of a calendar in that group)",
                                    option="calendar_group_id")

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


def _address(params):
    return EventAddress(user=params["user"], group_id=params["group_id"], calendar_id=params["calendar_id"],
                        calendar_group_id=params["calendar_group_id"])


class Selection:
    """The events a task is about, validated: ids, one occurrence (series_id and day) or a window."""

    def __init__(self, address, ids=None, series_id=None, day=None, window=None, subject=None, subject_contains=None,
                 organizer_only=False):
        self.address = address
        self.ids = ids
        self.series_id = series_id
        self.day = day
        self.window = window
        self.subject = subject
        self.subject_contains = subject_contains
        self.organizer_only = organizer_only


def cancel_selection(params):
    """calendar_event_cancel's options, checked before any request. Raises InvalidInputError."""
    address = _address(params)
    if params["event_id"] is not None:
        return Selection(address, ids=[validate_id(params["event_id"], "event_id")])
    if params["event_ids"] is not None:
        return Selection(address, ids=validate_id_list(params["event_ids"], "event_ids"))
    if params["occurrence"] is not None:
        occurrence = params["occurrence"]
        return Selection(address, series_id=validate_id(occurrence["series_id"], "occurrence.series_id"),
                         day=parse_date(occurrence["date"], "occurrence.date"))
    match = params["match"]
    window = parse_zoned_window(match["start"], match["end"], match.get("time_zone"), "match.start", "match.end", "match.time_zone")
    return Selection(address, window=window, subject=match["subject"], subject_contains=match["subject_contains"])


def info_selection(params):
    """calendar_event_info's options, checked before any request. Raises InvalidInputError."""
    address = _address(params)
    if params["event_id"] is not None:
        return Selection(address, ids=[validate_id(params["event_id"], "event_id")])
    return Selection(address, window=parse_zoned_window(params["start"], params["end"], params.get("time_zone")), subject=params["subject"],
                     subject_contains=params["subject_contains"], organizer_only=params["organizer_only"])


def check_owner(address, is_delegated):
    """Refuse /me (no user, no group_id) unless is_delegated() says the token will speak for a user."""
    if address.is_me and not is_delegated():
        raise InvalidInputError(ME_NEEDS_DELEGATED, option="user")


# ---------------------------------------------------------------------------------------------
# Summaries and filters


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


def _person(entry):
    """{name, address} of an organizer or attendee (Graph's recipient / attendee shape)."""
    address = (entry or {}).get("emailAddress") or {}
    return {"name": address.get("name"), "address": address.get("address")}


def summarize(event):
    """The snake_case summary both modules return for an event."""
    organizer = _person(event.get("organizer"))
    return {
        "id": event.get("id"),
        "subject": event.get("subject"),
        "start": _time(event.get("start")),
        "end": _time(event.get("end")),
        "type": event.get("type"),
        "series_master_id": event.get("seriesMasterId"),
        "organizer": organizer["address"],
        "organizer_name": organizer["name"],
        "attendees": [_person(a) for a in event.get("attendees") or [] if isinstance(a, dict)],
        "attendee_count": len(event.get("attendees") or []),
        "is_organizer": event.get("isOrganizer"),
        "is_cancelled": event.get("isCancelled"),
    }


def diff_entry(event):
    """What --diff shows of an event before it is cancelled."""
    summary = summarize(event)
    return dict((k, summary[k]) for k in ("subject", "start", "end", "type", "attendee_count"))


# ---------------------------------------------------------------------------------------------
# Reads


def read_event(client, address, event_id):
    """One event (raw Graph shape), or None when Graph says 404. Other errors propagate."""
    try:
        return client.get(address.event_path(event_id), params={"$select": EVENT_FIELDS}, outlook=True)
    except GraphNotFound:
        return None


def read_events(client, address, event_ids):
    """[ReadOutcome] of each id in input order, read by immutable id in one batch."""
    return client.read_many([ReadOp(key=eid, path=address.event_path(eid), params={"$select": EVENT_FIELDS},
                                    mailbox=address.mailbox, outlook=True) for eid in event_ids])


def read_window(client, address, start, end, subject=None, subject_contains=None):
    """Events in [start, end) (occurrences expanded), filtered on subject client side:
    server-side $filter on calendarView is not documented to work reliably (NOTES)."""
    params = {
        "startDateTime": format_utc(start),
        "endDateTime": format_utc(end),
        "$select": EVENT_FIELDS,
        "$top": WINDOW_PAGE_SIZE,
    }
    events = client.get_all(address.calendar_view_path(), params=params, outlook=True)
    return [e for e in events if subject_matches(e, subject, subject_contains)]


def find_occurrences(client, address, master, day):
    """Occurrences and exceptions of `master` whose start falls on `day` in the series' zone."""
    tz = recurrence.resolve_time_zone(recurrence.series_time_zone(master), "occurrence.date")
    start, end = recurrence.day_window(day, tz)
    params = {
        "startDateTime": format_utc(start),
        "endDateTime": format_utc(end),
        "$select": EVENT_FIELDS,
    }
    instances = client.get_all(address.instances_path(master["id"]), params=params, outlook=True)
    found = []
    for instance in instances:
        begins = recurrence.event_start(instance, "occurrence.date")
        if begins is not None and begins.astimezone(tz).date() == day:
            found.append(instance)
    return found


def find_events(client, selection):
    """calendar_event_info: the selected events (raw Graph shape); an absent event id gives []."""
    if selection.ids:
        event = read_event(client, selection.address, selection.ids[0])
        return [] if event is None else [event]
    events = read_window(client, selection.address, selection.window[0], selection.window[1], selection.subject,
                         selection.subject_contains)
    if selection.organizer_only:
        events = [e for e in events if e.get("isOrganizer") is True]
    return events


# ---------------------------------------------------------------------------------------------
# The plan of a cancel


class Plan:
    """What a cancel does: the events to cancel and how every other event was classified.

    Filled by plan_cancel() (reads only, the same in check mode and for real), then by cancel().
    """

    def __init__(self, address):
        self.address = address
        self.to_cancel = []  # (reported id, event body)
        self.already_cancelled = []
        self.already_absent = []
        self.skipped_not_organizer = []  # found in a window: left alone
        self.not_organizer = []  # named by the user: the task refuses to send anything
        self.read_failures = []  # (id, error): nothing is sent then
        self.events = []  # summaries, each with "result"
        self.aliases = []  # (reported id, reported id of the same event read first): one event, two ids
        self._seen = {}  # immutable id (the read's body id) -> the reported id read first
        # Set by cancel():
        self.cancelled = []
        self.gone_meanwhile = []  # absent when the cancel arrived
        self.cancel_failures = []  # (id, error)

    @property
    def wanted(self):
        """The reported ids of the events to cancel (every id the user gave for one of them)."""
        return self.with_aliases([reported_id for reported_id, _event in self.to_cancel])

    def with_aliases(self, ids):
        """ids, each followed by the other ids the user gave for the same event."""
        return [i for rid in ids for i in [rid] + [alias for alias, first in self.aliases if first == rid]]

    def classify(self, reported_id, event, skip_not_organizer):
        # Reads send Prefer IdType="ImmutableId", so the body's id is the event's immutable id: two
        # ids the user gave for one event (its default and its immutable id) are one cancel (issue 16).
        target = event.get("id")
        if target and target in self._seen:
            self.aliases.append((reported_id, self._seen[target]))
            return
        if target:
            self._seen[target] = reported_id
        summary = summarize(event)
        if event.get("isCancelled") is True:
            summary["result"] = "already_cancelled"
            self.already_cancelled.append(reported_id)
        elif event.get("isOrganizer") is not True:
            summary["result"] = "skipped_not_organizer"
            (self.skipped_not_organizer if skip_not_organizer else self.not_organizer).append(reported_id)
        else:
            summary["result"] = "cancelled"
            self.to_cancel.append((reported_id, event))
        self.events.append(summary)

    def diff(self, check_mode=False):
        """before/after keyed by reported id, from the outcomes: "cancelled" only for an event this run
        cancelled (in check mode, would cancel); one gone meanwhile is "already_absent", one whose cancel
        failed is unchanged."""
        done = set(self.wanted if check_mode else self.cancelled)
        gone = set(self.gone_meanwhile)
        before, after = {}, {}
        for rid, event in self.to_cancel:
            before[rid] = diff_entry(event)
            after[rid] = "cancelled" if rid in done else "already_absent" if rid in gone else before[rid]
        return {"before": before, "after": after}


def plan_cancel(client, selection):
    """Read what the selection names and classify it; a Plan. Raises GraphError, or InvalidInputError
    for an occurrence the series does not have."""
    plan = Plan(selection.address)
    if selection.ids is not None:
        _plan_ids(client, selection.address, selection.ids, plan)
    elif selection.series_id is not None:
        _plan_occurrence(client, selection.address, selection.series_id, selection.day, plan)
    else:
        _plan_window(client, selection, plan)
    for ids in (plan.already_cancelled, plan.skipped_not_organizer, plan.not_organizer):
        ids[:] = plan.with_aliases(ids)
    return plan


def _plan_ids(client, address, ids, plan):
    for outcome in read_events(client, address, ids):
        if outcome.status == 404:
            plan.already_absent.append(outcome.key)
        elif outcome.error is not None:
            plan.read_failures.append((outcome.key, outcome.error))
        else:
            plan.classify(outcome.key, outcome.body or {}, skip_not_organizer=False)


def _plan_occurrence(client, address, series_id, day, plan):
    try:
        master = client.get(address.event_path(series_id), params={"$select": SERIES_FIELDS}, outlook=True)
    except GraphNotFound:
        plan.already_absent.append(series_id)
        return
    if master.get("isCancelled") is True:
        plan.already_cancelled.append(series_id)
        plan.events.append(dict(summarize(master), result="already_cancelled"))
        return
    if master.get("type") != "seriesMaster":
        raise InvalidInputError("occurrence.series_id %s is not a series master (type %s): use event_id for it"
                                % (series_id, master.get("type")), option="occurrence.series_id")
    if master.get("isOrganizer") is not True:
        plan.not_organizer.append(series_id)
        return
    found = find_occurrences(client, address, master, day)
    for instance in found:
        plan.classify(instance.get("id"), instance, skip_not_organizer=False)
    if found:
        return
    # Gone from instances: cancelled, if Graph lists it as such or the pattern schedules that day.
    cancelled = recurrence.cancelled_occurrence_id(master, day)
    if cancelled is None and recurrence.is_scheduled(master.get("recurrence"), day):
        cancelled = "OID.%s.%s" % (master.get("id"), day.isoformat())
    if cancelled is None:
        raise InvalidInputError("occurrence.date: series %s has no occurrence on %s (%s)"
                                % (series_id, day.isoformat(), recurrence.series_time_zone(master)), option="occurrence.date")
    plan.already_cancelled.append(cancelled)


def _plan_window(client, selection, plan):
    start, end = selection.window
    for event in read_window(client, selection.address, start, end, selection.subject, selection.subject_contains):
        if event.get("type") == "seriesMaster":
            continue  # calendarView expands series; never cancel a whole series from a window
        plan.classify(event.get("id"), event, skip_not_organizer=True)


# ---------------------------------------------------------------------------------------------
# The cancel


def is_cancelled_probe(status, body):
    """probe_done for the cancel: it took effect when the event is gone or flagged cancelled.

    After a cancel the organizer's copy moves to Deleted Items; whether a GET by immutable id
    then answers the item with isCancelled or a 404 is unverified (NOTES), so both count.
    """
    if status == 404:
        return True
    return bool(status and 200 <= status < 300 and isinstance(body, dict) and body.get("isCancelled") is True)


def _cancel_op(address, reported_id, event, comment):
    target = event.get("id") or reported_id  # the immutable id: stable even if the item moved
    # https://learn.microsoft.com/graph/api/event-cancel
    return WriteOp(key=reported_id, path=address.cancel_path(target), body={"Comment": comment or ""},
                   mailbox=address.mailbox, outlook=True, probe_path=address.event_path(target),
                   probe_done=is_cancelled_probe)


def cancel(client, plan, comment):
    """Cancel every event of plan.to_cancel at most once (the client batches and probes).

    Fills plan.cancelled, plan.gone_meanwhile and plan.cancel_failures, and sets each summary's result.
    """
    outcomes = client.write_at_most_once([_cancel_op(plan.address, rid, event, comment) for rid, event in plan.to_cancel])
    done, absent, failed = sort_write_outcomes(outcomes)
    plan.cancelled.extend(done)
    plan.gone_meanwhile.extend(absent)
    plan.cancel_failures.extend(failed)
    plan.cancelled = plan.with_aliases(plan.cancelled)
    plan.gone_meanwhile = plan.with_aliases(plan.gone_meanwhile)
    by_id = dict((s["id"], s) for s in plan.events)
    for rid, event in plan.to_cancel:
        summary = by_id.get(event.get("id"))
        if summary is not None:
            summary["result"] = ("cancelled" if rid in plan.cancelled
                                 else "already_absent" if rid in plan.gone_meanwhile else "failed")
