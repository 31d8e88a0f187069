# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the graphops.msgraph collection. It may change without notice.

"""Series in a calendar_event_cancel window: cancel them whole, or end them before the window (issue 18).

match.series decides what an occurrence found in the window does to its series:

* ``occurrences`` (the default): each occurrence is cancelled on its own (_events does that);
* ``whole``: its series master is cancelled, once however many occurrences the window holds,
  as Exchange's Remove-CalendarEvents does: one cancellation per attendee per series;
* ``end``: a series that started before the window is ended before it. Its master's
  recurrence.range becomes ``endDate`` on the day of its last occurrence before match.start, so
  past occurrences stay in everyone's calendar; a series starting inside the window is
  cancelled whole (https://learn.microsoft.com/graph/api/event-update).

match.attendees_only leaves alone events (and series) without attendees or resources, as
Remove-CalendarEvents does. Every series is read before anything is sent, the PATCH goes through
the client's at-most-once writes (attendees are notified per PATCH: an ambiguous one is re-read
before it is sent again), and a series already ended on or before that day is left, so a rerun
sends nothing. Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOp, WriteOp, sort_write_outcomes
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import GraphNotFound
from ansible_collections.graphops.msgraph.plugins.module_utils import _events as events
from ansible_collections.graphops.msgraph.plugins.module_utils import _recurrence as recurrence
from ansible_collections.graphops.msgraph.plugins.module_utils._times import format_utc

OCCURRENCES, WHOLE, END = "occurrences", "whole", "end"
SERIES_CHOICES = (OCCURRENCES, WHOLE, END)


class SeriesWork:
    """What a window does to series beyond _events' Plan: the series to end and the report of every series."""

    def __init__(self):
        self.to_end = []  # (master id, master, patched recurrence)
        self.ended = []  # set by end_series()
        self.gone_meanwhile = []
        self.end_failures = []  # (id, error)
        self.series = []  # one report per series the window touched
        self.skipped_no_attendees = []

    @property
    def wanted(self):
        return [sid for sid, _master, _rec in self.to_end]

    def diff(self):
        """before/after of each series to end: its recurrence range, then the shortened one."""
        return {
            "before": dict((sid, {"subject": master.get("subject"), "recurrence_range": _range(master.get("recurrence"))})
                           for sid, master, _rec in self.to_end),
            "after": dict((sid, {"subject": master.get("subject"), "recurrence_range": _range(rec)})
                          for sid, master, rec in self.to_end),
        }


def _range(rec):
    rng = (rec or {}).get("range") or {}
    return {"type": rng.get("type"), "start_date": rng.get("startDate"), "end_date": rng.get("endDate")}


def configure(selection, params):
    """Copy match.series and match.attendees_only onto a window selection."""
    match = params.get("match") or {}
    selection.series_mode = match.get("series") or OCCURRENCES
    selection.attendees_only = bool(match.get("attendees_only"))
    return selection


def has_attendees(event):
    """Whether anyone but the organizer is invited (a room or equipment is an attendee of type resource)."""
    organizer = (((event.get("organizer") or {}).get("emailAddress") or {}).get("address") or "").lower()
    for attendee in event.get("attendees") or []:
        address = ((attendee.get("emailAddress") or {}).get("address") or "").lower()
        if address and address != organizer:
            return True
    return False


def plan_cancel(client, selection):
    """(Plan, SeriesWork): _events' plan, or for a window with series or attendees_only, this module's."""
    work = SeriesWork()
    if selection.window is None or (getattr(selection, "series_mode", OCCURRENCES) == OCCURRENCES
                                    and not getattr(selection, "attendees_only", False)):
        return events.plan_cancel(client, selection), work
    plan = events.Plan(selection.address)
    start, end = selection.window
    masters = {}  # series master id -> first occurrence seen, in calendarView order
    for event in events.read_window(client, selection.address, start, end, selection.subject, selection.subject_contains):
        if event.get("type") == "seriesMaster":
            continue  # calendarView expands series
        if selection.series_mode != OCCURRENCES and event.get("seriesMasterId"):
            masters.setdefault(event["seriesMasterId"], event)
            continue
        if selection.attendees_only and not has_attendees(event) and event.get("isCancelled") is not True:
            _skip_no_attendees(plan, work, event.get("id"), event)
            continue
        plan.classify(event.get("id"), event, skip_not_organizer=True)
    if masters:
        _plan_series(client, selection, plan, work, list(masters))
    return plan, work


def _skip_no_attendees(plan, work, reported_id, event):
    plan.events.append(dict(events.summarize(event), result="skipped_no_attendees"))
    work.skipped_no_attendees.append(reported_id)


def _report(work, master, action, end_date=None, reason=None):
    work.series.append({"id": master.get("id"), "subject": master.get("subject"), "action": action,
                        "end_date": end_date, "reason": reason})


def _plan_series(client, selection, plan, work, master_ids):
    address = selection.address
    reads = client.read_many([ReadOp(key=mid, path=address.event_path(mid), params={"$select": events.SERIES_FIELDS},
                                     mailbox=address.mailbox, outlook=True) for mid in master_ids])
    for outcome in reads:
        if outcome.status == 404:
            plan.already_absent.append(outcome.key)
            continue
        if outcome.error is not None:
            plan.read_failures.append((outcome.key, outcome.error))
            continue
        master = outcome.body or {}
        master.setdefault("id", outcome.key)
        if master.get("isCancelled") is True:
            plan.classify(outcome.key, master, skip_not_organizer=True)
            _report(work, master, "left", reason="already_cancelled")
        elif master.get("isOrganizer") is not True:
            plan.classify(outcome.key, master, skip_not_organizer=True)
            _report(work, master, "left", reason="not_organizer")
        elif selection.attendees_only and not has_attendees(master):
            _skip_no_attendees(plan, work, outcome.key, master)
            _report(work, master, "left", reason="no_attendees")
        elif selection.series_mode == END:
            _plan_end(client, address, plan, work, outcome.key, master, selection.window[0])
        else:
            plan.classify(outcome.key, master, skip_not_organizer=True)
            _report(work, master, "cancelled")


def _plan_end(client, address, plan, work, master_id, master, window_start):
    """End the series on its last occurrence before window_start, or cancel it whole when it has none."""
    first = recurrence.event_start(master, "match.start")
    starts_inside = first is None or first >= window_start
    last = None if starts_inside else last_occurrence_before(client, address, master, first, window_start)
    if last is None:
        # Nothing before the window to keep (a range can not end before it starts): cancel it whole.
        plan.classify(master_id, master, skip_not_organizer=True)
        _report(work, master, "cancelled", reason="starts_in_window" if starts_inside else "no_occurrence_before_window")
        return
    tz = recurrence.resolve_time_zone(recurrence.series_time_zone(master), "match.start")
    end_date = last.astimezone(tz).date().isoformat()
    rec = master.get("recurrence") or {}
    rng = rec.get("range") or {}
    summary = events.summarize(master)
    if rng.get("type") == "endDate" and rng.get("endDate") and rng["endDate"] <= end_date:
        # Already ended there (an occurrence overlapping match.start keeps the series in the window).
        _report(work, master, "left", end_date=rng["endDate"], reason="already_ended")
        plan.events.append(dict(summary, result="already_ended"))
        return
    new_range = dict(rng, type="endDate", endDate=end_date)
    new_range.pop("numberOfOccurrences", None)
    patched = {"pattern": rec.get("pattern"), "range": new_range}
    work.to_end.append((master_id, master, patched))
    plan.events.append(dict(summary, result="ended"))
    _report(work, master, "ended", end_date=end_date)


def last_occurrence_before(client, address, master, first, window_start):
    """Start (aware) of the series' last occurrence or exception starting before window_start, or None."""
    params = {"startDateTime": format_utc(first), "endDateTime": format_utc(window_start), "$select": events.EVENT_FIELDS,
              "$top": events.WINDOW_PAGE_SIZE}
    try:
        found = client.get_all(address.instances_path(master["id"]), params=params, outlook=True)
    except GraphNotFound:
        return None
    starts = [recurrence.event_start(i, "match.start") for i in found if i.get("isCancelled") is not True]
    starts = [s for s in starts if s is not None and s < window_start]
    return max(starts) if starts else None


def _ended_probe(end_date):
    """probe_done of the PATCH: it took effect when the master's range ends on end_date."""
    def done(status, body):
        if not (status and 200 <= status < 300 and isinstance(body, dict)):
            return False
        rng = ((body.get("recurrence") or {}).get("range") or {})
        return rng.get("type") == "endDate" and rng.get("endDate") == end_date
    return done


def end_series(client, address, work):
    """PATCH each series of work.to_end at most once; fills work.ended, gone_meanwhile and end_failures."""
    ops = [WriteOp(key=sid, path=address.event_path(master.get("id") or sid), body={"recurrence": patched},
                   mailbox=address.mailbox, outlook=True, probe_path=address.event_path(master.get("id") or sid),
                   probe_done=_ended_probe(patched["range"]["endDate"]), method="PATCH")
           for sid, master, patched in work.to_end]
    done, absent, failed = sort_write_outcomes(client.write_at_most_once(ops))
    work.ended.extend(done)
    work.gone_meanwhile.extend(absent)
    work.end_failures.extend(failed)
    for report in work.series:
        if report["action"] == "ended" and report["id"] not in work.ended:
            report["action"] = "failed" if report["id"] not in work.gone_meanwhile else "already_absent"
