#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: calendar_event_cancel
short_description: Cancel Outlook calendar events and meeting occurrences through Microsoft Graph
version_added: 0.1.0
description:
  - Cancels meetings that a user or a Microsoft 365 group organizes, and sends the attendees a
    cancellation with an optional O(comment), through the Graph C(cancel) action.
  - Selects the events by id (O(event_id), O(event_ids)), one occurrence of a recurring series by
    its calendar day (O(occurrence)), or every meeting the owner organizes in a time window (O(match)).
  - Idempotent. Every event is read first. An event that no longer exists is reported in
    RV(already_absent), an event already cancelled in RV(already_cancelled); neither changes anything
    and no notification is sent again.
  - B(Cancelling a series master cancels the whole series), every occurrence past and future;
    every attendee receives one cancellation for the series. To cancel a single meeting of a
    series use O(occurrence) or the id of that occurrence.
  - A cancel is never sent for an event the owner does not organize (Graph would answer 400).
    With O(event_id) or O(event_ids) the task fails naming those events before anything is sent;
    with O(match) they are skipped and listed in RV(skipped_not_organizer).
  - Several events are cancelled together through JSON batching, within the Outlook limit of four
    concurrent requests per mailbox. A cancel whose answer was lost is re-read before it is sent
    again, so attendees are notified at most once.
author:
  - graphops.msgraph contributors (@graphops)
options:
  user:
    description:
      - The user who organizes the events, as object id or userPrincipalName.
      - Without O(user) and O(group_id) the events of the signed-in user (C(/me)) are addressed;
        that needs a delegated (user) token, for example O(auth_method=password) or an
        O(access_token) issued to a user. With an application token set O(user).
    type: str
  group_id:
    description:
      - The object id of a Microsoft 365 group whose calendar holds the events.
      - Mutually exclusive with O(user).
    type: str
  calendar_id:
    description:
      - Address the events through one calendar of the owner instead of the whole mailbox.
      - The special value V(default) means the owner's default calendar (C(/calendar/events)).
      - With O(group_id) only V(default) is accepted, because a group has one calendar.
    type: str
  calendar_group_id:
    description:
      - The calendar group that holds O(calendar_id) (C(/calendarGroups/{id}/calendars/{id}/events)).
      - Requires O(calendar_id); not valid with O(group_id).
    type: str
  event_id:
    description:
      - The id of one event to cancel (a single meeting, one occurrence or exception, or a
        series master, which cancels the whole series).
      - Either the default or the immutable Outlook id.
    type: str
  event_ids:
    description:
      - Several events to cancel. Duplicates are ignored, the order is kept.
      - At most 5,000 different ids in one task; an empty list is refused.
    type: list
    elements: str
  occurrence:
    description:
      - One occurrence of a recurring series, found by its calendar day among the series'
        C(instances).
      - When the series has no occurrence on that day the task fails. When the occurrence was
        already cancelled (Graph removes it from the instances) the task is ok, not changed.
    type: dict
    suboptions:
      series_id:
        description: The id of the series master.
        type: str
        required: true
      date:
        description:
          - The calendar day of the occurrence as V(YYYY-MM-DD), in the series' own time zone.
          - Quote it in YAML so that it stays a string.
        type: str
        required: true
  match:
    description:
      - Cancel every meeting the owner organizes that overlaps a time window, recurring
        occurrences expanded (C(calendarView)); by default each occurrence is cancelled on its own
        and the rest of its series stays; O(match.series) cancels or ends the series instead.
      - Events the owner attends but does not organize are skipped and listed.
    type: dict
    suboptions:
      start:
        description:
          - Start of the window, an ISO 8601 date or date-time such as V(2025-06-02T00:00:00+02:00).
            Without an offset the value is UTC.
        type: str
        required: true
      end:
        description:
          - End of the window, after O(match.start), in the same format.
        type: str
        required: true
      subject:
        description: Only events whose subject is exactly this text.
        type: str
      subject_contains:
        description: Only events whose subject contains this text (case-insensitive).
        type: str
      series:
        description:
          - What an occurrence of a recurring series found in the window does to its series.
          - V(occurrences) cancels each occurrence in the window on its own; the series stays.
          - V(whole) cancels the series master once, however many occurrences the window holds,
            as Exchange's C(Remove-CalendarEvents -CancelOrganizedMeetings) does; each attendee
            receives one cancellation per series, and the occurrences before the window go too.
          - V(end) ends a series that started before the window on its last occurrence before
            O(match.start) (a C(PATCH) of the master's C(recurrence.range) to type C(endDate)), so
            past occurrences stay in everyone's calendar; attendees receive a meeting update. A
            series that starts inside the window is cancelled whole. A series already ended
            there is left alone, so a rerun sends nothing.
          - Single meetings are cancelled as before whatever the value.
        type: str
        choices: [occurrences, whole, end]
        default: occurrences
        version_added: 0.2.0
      attendees_only:
        description:
          - Leave alone events (and, with O(match.series=whole) or O(match.series=end), series)
            that have no attendees or resources, as C(Remove-CalendarEvents) does; they are
            listed in RV(skipped_no_attendees).
        type: bool
        default: false
        version_added: 0.2.0
      time_zone:
        description:
          - An IANA time zone name such as V(Europe/Oslo) in which O(match.start) and
            O(match.end) are read.
          - With it, a date alone is a whole local day (V(2027-03-02) as O(match.start) begins at
            that local midnight; as O(match.end) it ends at the next one), and a date-time
            without an offset is local wall time, correct across daylight-saving changes.
          - RV(events[].local_start) and RV(events[].local_end) show the times in that zone.
        type: str
        version_added: 0.2.0
  comment:
    description:
      - The message sent to the attendees with the cancellation.
    type: str
  approved_ids:
    description:
      - The ids a reviewer approved, usually RV(cancelled) of a check mode run of the same task.
      - Only selected events whose id is in this list are cancelled. Selected events outside it are
        returned in RV(unapproved), left alone (nothing is sent for them) and named in a warning; the
        task does not fail for them.
      - An event is approved by the id this module reports for it in RV(cancelled) or by its immutable id,
        so the ids of a check run work for every selector (O(match), O(event_id), O(event_ids), O(occurrence)).
      - An empty list approves nothing. Omitted, every selected event may be cancelled.
    type: list
    elements: str
  max_items:
    description:
      - The most events this task may cancel. When the selection holds more, the task fails before
        anything is sent, naming both numbers; check mode fails the same way.
      - Counted before O(approved_ids) is applied. Set it on every O(match) window, so a window that
        suddenly holds far more meetings than expected stops instead of notifying everyone.
    type: int
notes:
  - Needs the Microsoft Graph permission C(Calendars.ReadWrite), delegated or application. For a Microsoft 365 group's
    calendar (O(group_id)), Microsoft documents delegated permissions only, C(Group.ReadWrite.All); with O(group_id)
    and an application credential the task fails before sending anything.
  - The permissions are read from the token (its C(roles) or C(scp), without checking its signature) before the first
    request to Graph; when none of them is there, the task fails before sending anything, in check mode too, and names
    the permissions that would do. An opaque token (not a JWT) is not checked; RV(permission_note) says so. A 403 from
    Graph names the same permissions.
  - An id Graph calls malformed (HTTP 400 C(ErrorInvalidIdMalformed)) fails the task naming the id and its option; it
    is never reported as already absent.
  - Only the organizer of a meeting can cancel it. Graph moves the organizer's copy to Deleted
    Items and sends each attendee a cancellation.
  - Ids are sent with C(Prefer IdType="ImmutableId"), so the ids returned stay valid after the
    event moves to Deleted Items.
  - Unquoted dates in YAML are not strings; quote O(occurrence.date), O(match.start) and O(match.end).
  - Two ids of one event (its default id and its immutable id) in O(event_ids) send one cancel; both are reported.
  - One task at a time cancels in a mailbox on a controller. Outside check mode the task takes an exclusive lock on
    the mailbox (a file in C(~/.cache/graphops.msgraph/locks), or below E(XDG_CACHE_HOME)) before it reads what it
    will cancel, so forks of one playbook (C(hosts) set to C(all) with C(delegate_to) set to C(localhost)), two playbooks at once and
    a task left running by a killed C(ansible-playbook) take turns, and the later one reports the items already
    cancelled. A task that cannot take the lock within O(max_wait) seconds fails, sending nothing, naming the
    mailbox and the process holding it. Check mode takes no lock (it sends nothing).
  - The lock is local to one machine. Two controllers cancelling in the same mailbox at the same time are not
    kept apart, and could notify attendees twice; give each mailbox one controller.
  - The lock is named by the mailbox as the task gives it. A user named by user principal name in one job and by
    object id (or as C(/me)) in another gets two locks, so two such tasks at the same time are not kept apart;
    name each mailbox the same way in every job that cancels in it.
  - When the C(ansible-playbook) process that started the task is gone (killed), the task stops before its next
    cancel and records what it sent in the lock file; the next task on that mailbox warns about it and returns it
    in RV(previous_run).
seealso:
  - module: graphops.msgraph.calendar_event_info
  - name: "Microsoft Graph: event: cancel"
    description: The Graph action this module calls.
    link: https://learn.microsoft.com/graph/api/event-cancel
extends_documentation_fragment:
  - graphops.msgraph.graph
  - graphops.msgraph.attributes
attributes:
  check_mode:
    support: full
    details: Reads the events and reports exactly what a real run would cancel (and which series it would end); sends nothing.
  diff_mode:
    support: full
    details: >-
      Shows subject, start, end, type and attendee count of each event before, C(cancelled) after; for a
      series that O(match.series=end) ends, its recurrence range before and after.
  idempotent:
    support: full
"""

EXAMPLES = r"""
# Credentials: set them once for every task with module_defaults (group/graphops.msgraph.msgraph)
# or through the AZURE_* environment variables; see the common options above.

- name: Cancel one meeting of a user, with a message to the attendees
  graphops.msgraph.calendar_event_cancel:
    user: adele.vance@contoso.example
    event_id: AAMkADvlmEnFKhcQh4mZbhfE2GrV-NcA0hryR2R3_War8mblc=
    comment: The budget review moves to April; a new invitation follows.

- name: Preview which meetings Adele organizes on a closed day (check mode sends nothing)
  graphops.msgraph.calendar_event_cancel:
    user: adele.vance@contoso.example
    match:
      start: "2027-03-04T00:00:00Z"
      end: "2027-03-05T00:00:00Z"
    max_items: 50
  check_mode: true
  register: preview

- name: Cancel exactly the meetings the preview listed; any booked since are left alone and reported
  graphops.msgraph.calendar_event_cancel:
    user: adele.vance@contoso.example
    match:
      start: "2027-03-04T00:00:00Z"
      end: "2027-03-05T00:00:00Z"
    max_items: 50
    approved_ids: "{{ preview.cancelled }}"
    comment: The office is closed on Thursday; this meeting is cancelled.
  register: closed_day

- name: Report who was told
  ansible.builtin.debug:
    msg: "{{ closed_day.events | selectattr('result', 'eq', 'cancelled') | map(attribute='attendees') | flatten
             | map(attribute='address') | unique | list }}"

- name: Show the meetings Adele only attends, which were left alone
  ansible.builtin.debug:
    var: closed_day.skipped_not_organizer

- name: Cancel one occurrence of a weekly series, by its date
  graphops.msgraph.calendar_event_cancel:
    user: adele.vance@contoso.example
    occurrence:
      series_id: AAMkADV997ArQMAWwboR7UA-u1wuzn6xganOFsp2eB98_pX84=
      date: "2027-03-15"
    comment: No team sync on the 15th.

- name: Offboarding - end Adele's series before her last day, cancel her later meetings
  graphops.msgraph.calendar_event_cancel:
    user: adele.vance@contoso.example
    match:
      start: "2027-03-20"
      end: "2028-03-19"
      time_zone: Europe/Oslo
      series: end
      attendees_only: true
    comment: Adele has left Contoso; please contact her team for follow-ups.
  register: offboarded

- name: Show which series were ended, cancelled or left
  ansible.builtin.debug:
    var: offboarded.series

- name: Cancel the whole series (targeting a series master cancels every occurrence)
  graphops.msgraph.calendar_event_cancel:
    user: adele.vance@contoso.example
    event_id: AAMkADV997ArQMAWwboR7UA-u1wuzn6xganOFsp2eB98_pX84=
    comment: The weekly team sync is discontinued.

# Group calendars take a user's (delegated) token only, with Group.ReadWrite.All: here the password
# grant of a public client app (AZURE_CLIENT_ID, AZURE_USERNAME and AZURE_PASSWORD in the environment).
- name: Cancel meetings of a Microsoft 365 group calendar
  graphops.msgraph.calendar_event_cancel:
    auth_method: password
    group_id: 3d9f6a1b-2c4e-4f8a-b7d6-5e4c3b2a1f10
    event_ids:
      - AAMkADM3XjjrjKvel3AZ8aH_Cpzfrq2klvzVjSwO_uQggE8H0=
    comment: The offsite planning is postponed.

- name: Cancel a meeting in a secondary calendar of a calendar group
  graphops.msgraph.calendar_event_cancel:
    user: adele.vance@contoso.example
    calendar_group_id: AAMkAGIxly7ayF9nhrN4YDL960ZN1b8wY4v6KIXfLLNTWbSqOrU=
    calendar_id: AAMkAGIf9spA4IVuEGOqhistj76as8bTxeExTTyGnK10VeVhZI=
    event_id: AAMkAD_LgmqqOjRZ4ULhA-O2J7Br4J_WfK3RjXdialJRIndRw=

- name: Cancel every meeting Adele organizes on one local day in Oslo (any daylight-saving offset)
  graphops.msgraph.calendar_event_cancel:
    user: adele.vance@contoso.example
    match:
      start: "2027-03-03"
      end: "2027-03-03"
      time_zone: Europe/Oslo
      attendees_only: true
"""

RETURN = r"""
changed:
  description: Whether at least one event was (or, in check mode, would be) cancelled.
  returned: always
  type: bool
  sample: true
cancelled:
  description:
    - Ids of the events cancelled by this task (in check mode, that would be cancelled).
    - Ids as given in O(event_id) or O(event_ids); otherwise the immutable ids Graph returned.
  returned: always
  type: list
  elements: str
  sample: ["AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AAAAAAA=="]
already_cancelled:
  description:
    - Events that were already cancelled, including an occurrence no longer in its series.
    - An occurrence Graph does not list is reported by its occurrence id (C(OID.<series id>.<date>)).
  returned: always
  type: list
  elements: str
  sample: []
already_absent:
  description: Events that do not exist (HTTP 404), for example deleted or already cancelled and purged.
  returned: always
  type: list
  elements: str
  sample: []
ended:
  description:
    - Ids of the series masters whose recurrence was ended before the window (in check mode,
      that would be ended), with O(match.series=end).
  returned: always
  type: list
  elements: str
  sample: ["AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AAAAAAC=="]
  version_added: 0.2.0
series:
  description:
    - With O(match.series=whole) or O(match.series=end), one entry per series that has an occurrence
      in the window, saying what the task did (or in check mode would do) with it.
  returned: always
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    id:
      description: The immutable id of the series master.
      type: str
      sample: AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AAAAAAC==
    subject:
      description: The subject of the series.
      type: str
      sample: Weekly team sync
    action:
      description: V(ended), V(cancelled), V(left), or after a failed write V(failed) or V(already_absent).
      type: str
      sample: ended
    end_date:
      description: The last day of the series after it is ended (in its recurrence time zone), else null.
      type: str
      sample: "2027-03-08"
    reason:
      description: >-
        Why: V(starts_in_window) or V(no_occurrence_before_window) (cancelled rather than ended), V(already_ended),
        V(already_cancelled), V(not_organizer) or V(no_attendees); null otherwise.
      type: str
      sample: null
skipped_no_attendees:
  description: Events or series in the window left alone by O(match.attendees_only) because nobody is invited.
  returned: always
  type: list
  elements: str
  sample: []
  version_added: 0.2.0
skipped_not_organizer:
  description: Events in the O(match) window that the owner attends but does not organize; nothing was sent for them.
  returned: always
  type: list
  elements: str
  sample: ["AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AAAAAAB=="]
unapproved:
  description:
    - Selected events that were not in O(approved_ids), and so were left alone. V([]) without O(approved_ids).
  returned: always
  type: list
  elements: str
  sample: ["AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AAAAAAC=="]
permission_note:
  description: Why the token's permissions were not checked before the first request (an opaque token).
  returned: when the token is not a JWT
  type: str
  sample: The access token is not a JWT whose claims can be read, so its permissions were not checked ...
required_permissions:
  description: The permissions any one of which would let the task run, when the token carries none of them.
  returned: when the permission check fails
  type: list
  elements: str
  sample: ["Calendars.ReadWrite"]
selected:
  description: How many events the selection holds, when that is more than O(max_items).
  returned: when O(max_items) is exceeded
  type: int
  sample: 120
events:
  description: A summary of every event the task looked at, as read before any change.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The immutable event id.
      type: str
      sample: AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AAAAAAA==
    subject:
      description: The subject.
      type: str
      sample: Product review
    start:
      description: Start as Graph returns it (UTC unless the time zone says otherwise).
      type: dict
      sample: {"date_time": "2025-06-02T09:00:00.0000000", "time_zone": "UTC"}
    end:
      description: End, in the same form as RV(events[].start).
      type: dict
      sample: {"date_time": "2025-06-02T10:00:00.0000000", "time_zone": "UTC"}
    type:
      description: V(singleInstance), V(occurrence), V(exception) or V(seriesMaster).
      type: str
      sample: singleInstance
    series_master_id:
      description: The series master of an occurrence or exception, else null.
      type: str
      sample: null
    organizer:
      description: E-mail address of the organizer.
      type: str
      sample: adele.vance@contoso.example
    organizer_name:
      description: Display name of the organizer.
      type: str
      sample: Adele Vance
    attendees:
      description: The attendees, who are sent the cancellation (in check mode, would be).
      type: list
      elements: dict
      contains:
        name:
          description: Display name.
          type: str
          sample: Alex Wilber
        address:
          description: E-mail address.
          type: str
          sample: alex.wilber@contoso.example
    attendee_count:
      description: Number of attendees.
      type: int
      sample: 3
    is_organizer:
      description: Whether the owner organizes the event.
      type: bool
      sample: true
    is_cancelled:
      description: Whether the event was already cancelled when read.
      type: bool
      sample: false
    result:
      description: >-
        What the task did with the event: V(cancelled), V(already_cancelled),
        V(skipped_not_organizer), V(already_absent), V(unapproved) or V(failed); with O(match.series=end) also
        V(ended) or V(already_ended), with O(match.attendees_only) also V(skipped_no_attendees).
      type: str
      sample: cancelled
    local_start:
      description: Start in O(match.time_zone), ISO 8601 with its offset; only with O(match.time_zone).
      type: str
      sample: "2027-03-02T10:00:00+01:00"
      version_added: 0.2.0
    local_end:
      description: End in O(match.time_zone); only with O(match.time_zone).
      type: str
      sample: "2027-03-02T11:00:00+01:00"
      version_added: 0.2.0
failures:
  description:
    - Events whose cancel (or, before anything is sent, whose read) failed, with the Graph error of each.
  returned: failure
  type: list
  elements: dict
  sample: [{"id": "AAkALg...", "error": {"status": 503, "code": "ServiceUnavailable", "message": "..."}}]
previous_run:
  description:
    - The previous task on this mailbox from this controller when it did not finish (its C(ansible-playbook) was
      killed), as its lock file recorded it; a warning says the same. Its cancels were read again by this task.
  returned: when the previous task did not finish
  type: dict
  contains:
    pid:
      description: Its process id.
      type: int
      sample: 41234
    host:
      description: The controller it ran on.
      type: str
      sample: ansible-ctl-01
    started:
      description: When it took the lock (UTC, ISO 8601).
      type: str
      sample: "2026-12-07T02:30:00+00:00"
    state:
      description: V(running) (killed) or V(stopped) (it noticed its controller was gone and stopped).
      type: str
      sample: stopped
    stopped_because:
      description: Why it stopped, when it stopped by itself.
      type: str
      sample: "stopped before sending 40 more cancel(s): process 41200, which started this task, is gone"
    cancel_sent:
      description: The ids it sent (or may have sent) a cancel for, the last 100.
      type: list
      elements: str
      sample: ["AAMkADc7zF4J0AAA8v-XYZ001"]
msg:
  description:
    - What happened, in one sentence, worded as booking_appointment_cancel words it; V(Would cancel ...) in check mode.
    - Events not approved and meetings skipped because the owner does not organize them are counted when there are any.
  returned: always
  type: str
  sample: Cancelled 3 events; 1 already cancelled; 0 failed.
"""

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_module import GraphModule
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import GraphError, error_dict
from ansible_collections.graphops.msgraph.plugins.module_utils import _events as events
from ansible_collections.graphops.msgraph.plugins.module_utils import _permissions as permissions
from ansible_collections.graphops.msgraph.plugins.module_utils import _review as review
from ansible_collections.graphops.msgraph.plugins.module_utils import _series as series
from ansible_collections.graphops.msgraph.plugins.module_utils._local_time import add_local_times

ARGUMENT_SPEC = dict(
    user=dict(type="str"),
    group_id=dict(type="str"),
    calendar_id=dict(type="str"),
    calendar_group_id=dict(type="str"),
    event_id=dict(type="str"),
    event_ids=dict(type="list", elements="str"),
    occurrence=dict(type="dict", options=dict(
        series_id=dict(type="str", required=True),
        date=dict(type="str", required=True),
    )),
    match=dict(type="dict", options=dict(
        start=dict(type="str", required=True),
        end=dict(type="str", required=True),
        subject=dict(type="str"),
        subject_contains=dict(type="str"),
        series=dict(type="str", choices=list(series.SERIES_CHOICES), default=series.OCCURRENCES),
        attendees_only=dict(type="bool", default=False),
        time_zone=dict(type="str"),
    )),
    comment=dict(type="str"),
    approved_ids=dict(type="list", elements="str"),
    max_items=dict(type="int"),
)
SELECTORS = ("event_id", "event_ids", "occurrence", "match")


def id_option(params):
    """(option, value) of the ids this task sent Graph, for a 400 ErrorInvalidIdMalformed of a whole read."""
    if params["occurrence"] is not None:
        return "occurrence.series_id", params["occurrence"]["series_id"]
    if params["event_id"] is not None:
        return "event_id", params["event_id"]
    names = [n for n in ("calendar_id", "calendar_group_id") if params[n] is not None]
    return " or ".join(names) or "calendar_id", ", ".join(params[n] for n in names)


def _item_text(gm, step, key, error):
    option = "event_ids" if gm.params["event_ids"] is not None else id_option(gm.params)[0]
    if review.is_malformed(error):
        return review.malformed_text(key, option)
    return "%s event %s failed: %s" % (step, key, gm.forbidden_hint(error))


def _refuse_unsendable(gm, plan, result):
    """Fail, sending nothing, when a read failed or an event the user named is not the owner's to cancel."""
    if plan.read_failures:
        result["failures"] = [dict(id=key, error=error_dict(gm.forbidden_hint(error))) for key, error in plan.read_failures]
        gm.module.fail_json(msg="Nothing sent: " + "; ".join(_item_text(gm, "Reading", key, error)
                                                             for key, error in plan.read_failures), **result)
    if plan.not_organizer:
        gm.module.fail_json(msg="Not sent: the owner does not organize %s (only the organizer can cancel a meeting)"
                                % ", ".join(plan.not_organizer), not_organizer=plan.not_organizer, **result)


def _guard(gm, plan, approved, result):
    """max_items, then approved_ids, before anything is sent (check mode alike): what was reviewed is what runs.

    An event is approved by the id this module reports for it or by its immutable id.
    """
    text = review.too_many(len(plan.to_cancel), gm.params["max_items"], "event")
    if text:
        gm.module.fail_json(msg=text, selected=len(plan.to_cancel), max_items=gm.params["max_items"], **result)
    plan.to_cancel, left = review.split_approved(plan.to_cancel, approved, lambda item: [item[0], item[1].get("id")])
    result["unapproved"] = [reported_id for reported_id, _event in left]
    if left:
        left_alone = set(event.get("id") for _rid, event in left)
        for summary in plan.events:
            if summary["id"] in left_alone and summary.get("result") == "cancelled":
                summary["result"] = "unapproved"
        gm.module.warn(review.unapproved_warning("event", result["unapproved"]))


def _msg(gm, plan, result, cancelled, already, failed):
    return review.summary_msg(gm.check_mode, "event", cancelled, already, failed, unapproved=len(result["unapproved"]),
                              skipped=len(plan.skipped_not_organizer))


def _series_tail(gm, work, result):
    """issue 18: RV(ended) and the end of msg for the series a window ends; fails when a series update failed."""
    result["ended"] = work.wanted if gm.check_mode else work.ended
    if work.end_failures:
        result["failures"] = result.get("failures", []) + [dict(id=key, error=error_dict(error)) for key, error in work.end_failures]
        gm.module.fail_json(msg="; ".join("Ending series %s failed: %s" % (key, error) for key, error in work.end_failures)
                            + " (%d ended)" % len(work.ended), **result)
    if not result["ended"]:
        return ""
    return " %s %d series." % ("Would end" if gm.check_mode else "Ended", len(result["ended"]))


def _diff(plan, work, check_mode):
    """The events this run cancelled (plan.diff(), from the outcomes) and, issue 18, the recurrence range of each series to end."""
    diff = plan.diff(check_mode)
    extra = work.diff()
    if not check_mode:  # a series whose update failed keeps its range in "after"
        for series_id in set(extra["after"]) - set(work.ended):
            extra["after"][series_id] = extra["before"][series_id]
    diff["before"].update(extra["before"])
    diff["after"].update(extra["after"])
    return diff


def _report(gm, plan, result, work):
    """Exit (or fail, when a cancel failed) with what the plan says."""
    already = len(plan.already_cancelled) + len(plan.already_absent)
    if gm.check_mode or not plan.to_cancel:
        wanted = plan.wanted
        result.update(cancelled=wanted, msg=_msg(gm, plan, result, len(wanted), already, 0) + _series_tail(gm, work, result))
        gm.module.exit_json(**result)
    result.update(cancelled=plan.cancelled, already_absent=plan.already_absent + plan.gone_meanwhile,
                  changed=bool(plan.cancelled or work.ended))
    msg = _msg(gm, plan, result, len(plan.cancelled), already + len(plan.gone_meanwhile), len(plan.cancel_failures))
    if plan.cancel_failures:
        result["failures"] = [dict(id=key, error=error_dict(gm.forbidden_hint(error))) for key, error in plan.cancel_failures]
        gm.module.fail_json(msg="; ".join(_item_text(gm, "Cancel", key, error) for key, error in plan.cancel_failures)
                            + ". " + msg, **result)
    gm.module.exit_json(msg=msg + _series_tail(gm, work, result), **result)


def main():
    gm = GraphModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[("user", "group_id"), SELECTORS],
                     required_one_of=[SELECTORS], supports_check_mode=True)
    result = dict(changed=False, cancelled=[], already_cancelled=[], already_absent=[], skipped_not_organizer=[], events=[],
                  unapproved=[], ended=[], series=[], skipped_no_attendees=[])
    selection = gm.validated(events.cancel_selection, gm.params, **result)
    series.configure(selection, gm.params)  # issue 18: match.series, match.attendees_only
    approved = gm.validated(review.approval_list, gm.params["approved_ids"], **result)
    gm.validated(review.check_max_items, gm.params["max_items"], **result)
    gm.validated(events.check_owner, selection.address, gm.is_delegated, **result)
    is_group = gm.params["group_id"] is not None
    gm.validated(permissions.refuse_app_only_group, is_group, gm.is_delegated, "write", **result)
    note = gm.check_permissions("group_events" if is_group else "events", "write", "Reading the events failed", result)
    if note:
        result["permission_note"] = note

    client = gm.client()
    mailbox = selection.address.mailbox
    if selection.address.is_me:
        mailbox = "me/" + (gm.params.get("username") or gm.params.get("client_id") or "")
    # Outside check mode the reads that decide and the writes run under the mailbox's lock (issue 16).
    with gm.writer(mailbox, "cancelling events of %s" % mailbox, result):
        with gm.graph_step("Reading the events failed", result):
            try:
                plan, work = series.plan_cancel(client, selection)
            except GraphError as exc:
                raise review.malformed_input(exc, id_option(gm.params)[1], id_option(gm.params)[0]) or exc
        result.update(already_cancelled=plan.already_cancelled, already_absent=plan.already_absent,
                      skipped_not_organizer=plan.skipped_not_organizer, events=plan.events)
        # issue 18: what the window does to series, and times in match.time_zone.
        result.update(series=work.series, skipped_no_attendees=work.skipped_no_attendees)
        add_local_times(plan.events, (gm.params["match"] or {}).get("time_zone"))
        _refuse_unsendable(gm, plan, result)
        _guard(gm, plan, approved, result)
        # changed is computed outside the check-mode branch, so check mode predicts the real run.
        result["changed"] = bool(plan.to_cancel or work.to_end)
        if not gm.check_mode and plan.to_cancel:
            with gm.graph_step("Cancelling the events failed", result):
                events.cancel(client, plan, gm.params["comment"])
        if not gm.check_mode and work.to_end:
            with gm.graph_step("Ending the series failed", result):
                series.end_series(client, selection.address, work)
    if gm.module._diff and (plan.to_cancel or work.to_end):
        result["diff"] = _diff(plan, work, gm.check_mode)  # from the outcomes: "cancelled" only if this run did
    _report(gm, plan, result, work)


if __name__ == "__main__":
    main()
