#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: calendar_event_info
short_description: Read Outlook calendar events through Microsoft Graph
version_added: 0.1.0
description:
  - Reads one event by id, or the events of a user, a Microsoft 365 group or the signed-in user
    in a time window (recurring occurrences expanded), with the filters that
    M(graphops.msgraph.calendar_event_cancel) uses, so a play can look before it cancels.
  - Never changes anything.
author:
  - graphops.msgraph contributors (@graphops)
options:
  user:
    description:
      - The user whose events are read, as object id or userPrincipalName.
      - Without O(user) and O(group_id) the events of the signed-in user (C(/me)) are read;
        that needs a delegated (user) token. With an application token set O(user).
    type: str
  group_id:
    description:
      - The object id of a Microsoft 365 group whose calendar is read. Mutually exclusive with O(user).
    type: str
  calendar_id:
    description:
      - Read through one calendar of the owner. The special value V(default) means the owner's
        default calendar. With O(group_id) only V(default) is accepted.
    type: str
  calendar_group_id:
    description:
      - The calendar group that holds O(calendar_id). Requires O(calendar_id); not valid with O(group_id).
    type: str
  event_id:
    description:
      - The id of one event. A missing event gives RV(events=[]).
      - Mutually exclusive with O(start) and O(end).
    type: str
  start:
    description:
      - Start of the time window, an ISO 8601 date or date-time; without an offset the value is UTC.
      - Requires O(end).
    type: str
  end:
    description:
      - End of the time window, after O(start).
    type: str
  time_zone:
    description:
      - An IANA time zone name such as V(Europe/Oslo) in which O(start) and O(end) are read.
      - With it, a date alone is a whole local day (V(2027-03-02) as O(start) begins at that
        local midnight; as O(end) it ends at the next one), and a date-time without an offset is
        local wall time, correct across daylight-saving changes.
      - The results then also show start and end in that zone (C(local_start), C(local_end)).
    type: str
    version_added: 0.2.0
  subject:
    description: Only events whose subject is exactly this text (window only).
    type: str
  subject_contains:
    description: Only events whose subject contains this text, case-insensitive (window only).
    type: str
  organizer_only:
    description: Only events the owner organizes, that is the ones it could cancel (window only).
    type: bool
    default: false
notes:
  - Needs the Microsoft Graph permission C(Calendars.Read) or C(Calendars.ReadWrite), delegated or application. For a
    Microsoft 365 group's calendar (O(group_id)), Microsoft documents delegated permissions only, C(Group.Read.All).
  - Ids are returned in the immutable format (C(Prefer IdType="ImmutableId")).
seealso:
  - module: graphops.msgraph.calendar_event_cancel
  - name: "Microsoft Graph: List calendarView"
    description: How the window is read.
    link: https://learn.microsoft.com/graph/api/user-list-calendarview
  - name: "Microsoft Graph: event: cancel"
    description: The action the twin module calls.
    link: https://learn.microsoft.com/graph/api/event-cancel
extends_documentation_fragment:
  - graphops.msgraph.graph
  - graphops.msgraph.attributes
  - graphops.msgraph.attributes.info_module
"""

EXAMPLES = r"""
# Credentials: set them once for every task with module_defaults (group/graphops.msgraph.msgraph)
# or through the AZURE_* environment variables; see the common options above.

- name: List the meetings Adele organizes on Thursday
  graphops.msgraph.calendar_event_info:
    user: adele.vance@contoso.example
    start: "2027-03-04T00:00:00Z"
    end: "2027-03-05T00:00:00Z"
    organizer_only: true
  register: thursday

- name: Show their subjects
  ansible.builtin.debug:
    msg: "{{ thursday.events | map(attribute='subject') | list }}"

- name: Find the occurrences of the weekly team sync in March
  graphops.msgraph.calendar_event_info:
    user: adele.vance@contoso.example
    start: "2027-03-01T00:00:00Z"
    end: "2027-04-01T00:00:00Z"
    subject: Weekly team sync

- name: List Adele's meetings over two local days in Oslo, across the daylight-saving change
  graphops.msgraph.calendar_event_info:
    user: adele.vance@contoso.example
    start: "2027-03-28"
    end: "2027-03-29"
    time_zone: Europe/Oslo

# Group calendars take a user's (delegated) token only, with Group.Read.All: here the password
# grant of a public client app (AZURE_CLIENT_ID, AZURE_USERNAME and AZURE_PASSWORD in the environment).
- name: Read one event of a group calendar
  graphops.msgraph.calendar_event_info:
    auth_method: password
    group_id: 3d9f6a1b-2c4e-4f8a-b7d6-5e4c3b2a1f10
    event_id: AAMkADM3XjjrjKvel3AZ8aH_Cpzfrq2klvzVjSwO_uQggE8H0=
  register: offsite
"""

RETURN = r"""
msg:
  description: How many events were found.
  returned: always
  type: str
  sample: Found 3 events.
permission_note:
  description: Why the token's permissions were not checked before the first request (an opaque token).
  returned: when the token is not a JWT
  type: str
  sample: The access token is not a JWT whose claims can be read, so its permissions were not checked ...
events:
  description: The events found, ordered as Graph returned them; V([]) when none.
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
      sample: occurrence
    series_master_id:
      description: The series master of an occurrence or exception, else null.
      type: str
      sample: AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AAAAAAC==
    organizer:
      description: E-mail address of the organizer.
      type: str
      sample: adele.vance@contoso.example
    organizer_name:
      description: Display name of the organizer.
      type: str
      sample: Adele Vance
    attendees:
      description: The attendees, each with C(name) and C(address) (e-mail).
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
      sample: 2
    is_organizer:
      description: Whether the owner organizes the event.
      type: bool
      sample: true
    is_cancelled:
      description: Whether the event is cancelled.
      type: bool
      sample: false
    local_start:
      description: Start in the requested time zone, ISO 8601 with its offset; only with a time zone.
      type: str
      sample: "2027-03-02T01:00:00-08:00"
      version_added: 0.2.0
    local_end:
      description: End in the requested time zone; only with a time zone.
      type: str
      sample: "2027-03-02T01:30:00-08:00"
      version_added: 0.2.0
"""

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_module import GraphModule
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import GraphError
from ansible_collections.graphops.msgraph.plugins.module_utils import _events as events
from ansible_collections.graphops.msgraph.plugins.module_utils import _permissions as permissions
from ansible_collections.graphops.msgraph.plugins.module_utils import _review as review
from ansible_collections.graphops.msgraph.plugins.module_utils._local_time import add_local_times

ARGUMENT_SPEC = dict(
    user=dict(type="str"),
    group_id=dict(type="str"),
    calendar_id=dict(type="str"),
    calendar_group_id=dict(type="str"),
    event_id=dict(type="str"),
    start=dict(type="str"),
    end=dict(type="str"),
    subject=dict(type="str"),
    subject_contains=dict(type="str"),
    organizer_only=dict(type="bool", default=False),
    time_zone=dict(type="str"),
)


def main():
    gm = GraphModule(argument_spec=ARGUMENT_SPEC,
                     mutually_exclusive=[("user", "group_id"), ("event_id", "start"), ("event_id", "end")],
                     required_one_of=[("event_id", "start")], required_together=[("start", "end")],
                     supports_check_mode=True)
    result = dict(changed=False, events=[])
    selection = gm.validated(events.info_selection, gm.params, **result)
    gm.validated(events.check_owner, selection.address, gm.is_delegated, **result)
    is_group = gm.params["group_id"] is not None
    gm.validated(permissions.refuse_app_only_group, is_group, gm.is_delegated, "read", **result)
    note = gm.check_permissions("group_events" if is_group else "events", "read", "Reading the events failed", result)
    if note:
        result["permission_note"] = note

    client = gm.client()
    with gm.graph_step("Reading the events failed", result):
        try:
            result["events"] = [events.summarize(e) for e in events.find_events(client, selection)]
        except GraphError as exc:
            option, value = _id_option(gm.params)
            raise review.malformed_input(exc, value, option) or exc
    add_local_times(result["events"], gm.params["time_zone"])  # issue 18
    gm.module.exit_json(msg=review.found_msg(len(result["events"]), "event"), **result)


def _id_option(params):
    """(option, value) of the ids this task sent Graph, for a 400 ErrorInvalidIdMalformed."""
    if params["event_id"] is not None:
        return "event_id", params["event_id"]
    names = [n for n in ("calendar_id", "calendar_group_id") if params[n] is not None]
    return " or ".join(names) or "calendar_id", ", ".join(params[n] for n in names)


if __name__ == "__main__":
    main()
