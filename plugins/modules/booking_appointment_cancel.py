#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: booking_appointment_cancel
short_description: Cancel Microsoft Bookings appointments
version_added: 0.1.0
description:
  - Cancels one, many or every matching appointment of a Microsoft Bookings business through Microsoft Graph.
  - Graph sends the cancellation message to the customers and staff members of each appointment
    cancelled and removes the appointment.
  - Each appointment is read before it is cancelled. An appointment that does not exist (HTTP 404) is
    reported as already absent and does not make the task changed, so the task is idempotent.
  - Several appointments are read and cancelled through JSON batching, at most 20 per batch.
  - A cancellation whose answer is lost (timeout, connection reset, 5xx) is not sent again blindly;
    the appointment is read again first, so no customer is notified twice.
options:
  business_id:
    description:
      - The id of the booking business, often its email address, for example V(contosoclinic@contoso.com).
    type: str
    required: true
  appointment_id:
    description:
      - The id of one appointment to cancel.
      - Exactly one of O(appointment_id), O(appointment_ids) and O(match) is required.
    type: str
  appointment_ids:
    description:
      - The ids of the appointments to cancel.
      - A repeated id is cancelled once.
      - At most 5,000 different ids in one task; an empty list is refused.
      - Exactly one of O(appointment_id), O(appointment_ids) and O(match) is required.
    type: list
    elements: str
  match:
    description:
      - Cancel every appointment of the business in a time window that meets every filter given.
      - The window is read with the business C(calendarView); the filters are applied by the module,
        because Graph does not document C($filter) on Bookings appointments as reliable.
      - Exactly one of O(appointment_id), O(appointment_ids) and O(match) is required.
    type: dict
    suboptions:
      start:
        description:
          - Start of the window, an ISO 8601 date and time such as V(2026-03-02T00:00:00Z).
          - A value without a UTC offset is taken as UTC.
        type: str
        required: true
      end:
        description:
          - End of the window, an ISO 8601 date and time after O(match.start).
          - A value without a UTC offset is taken as UTC.
        type: str
        required: true
      customer_email:
        description:
          - Only appointments with a customer of this email address (compared case-insensitively).
        type: str
      service_id:
        description:
          - Only appointments of this booking service id.
        type: str
      staff_member_id:
        description:
          - Only appointments assigned to this staff member id.
        type: str
      staff_email:
        description:
          - Only appointments assigned to the staff member with this e-mail address, resolved to
            its id through the business' staff members before anything is cancelled.
          - An address no staff member has, or a blank one, fails naming it, and nothing is cancelled.
          - Mutually exclusive with O(match.staff_member_id).
        type: str
        version_added: 0.2.0
      service_name:
        description:
          - Only appointments of the service with this name (case-insensitive), resolved to its id
            before anything is cancelled; an unknown, ambiguous or blank name fails naming it, and nothing is cancelled.
          - Mutually exclusive with O(match.service_id).
        type: str
        version_added: 0.2.0
      time_zone:
        description:
          - An IANA time zone name such as V(America/Los_Angeles) in which O(match.start) and
            O(match.end) are read.
          - With it, a date alone is a whole local day (V(2027-03-02) as O(match.start) begins
            at that local midnight; as O(match.end) it ends at the next one), and a date-time
            without an offset is local wall time, correct across daylight-saving changes.
          - RV(appointments[].local_start) and RV(appointments[].local_end) show the times in that zone.
        type: str
        version_added: 0.2.0
  cancellation_message:
    description:
      - The message Graph sends to the customers with the cancellation.
    type: str
  approved_ids:
    description:
      - The ids a reviewer approved, usually RV(cancelled) of a check mode run of the same task.
      - Only selected appointments whose id is in this list are cancelled. Selected appointments outside
        it (for example booked into the window after the review) are returned in RV(unapproved), left
        alone (nothing is sent for them) and named in a warning; the task does not fail for them.
      - An empty list approves nothing. Omitted, every selected appointment may be cancelled.
    type: list
    elements: str
  max_items:
    description:
      - The most appointments this task may cancel. When the selection holds more, the task fails
        before anything is sent, naming both numbers; check mode fails the same way.
      - Counted before O(approved_ids) is applied. Set it on every O(match) window, so a window that
        suddenly holds far more appointments than expected stops instead of notifying every customer.
    type: int
extends_documentation_fragment:
  - graphops.msgraph.graph
  - graphops.msgraph.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the appointments and reports exactly what a real run would cancel, and sends nothing.
  diff_mode:
    support: full
    details:
      - Shows, per appointment, its time, service and customers before and V(absent) after.
  idempotent:
    support: full
    details:
      - An appointment that is already gone is reported in RV(already_absent) and does not make the task changed.
notes:
  - Needs the application permission C(Bookings.ReadWrite.All) or C(Bookings.Manage.All), or with a user token
    the delegated permission C(BookingsAppointment.ReadWrite.All), C(Bookings.ReadWrite.All) or C(Bookings.Manage.All).
    Personal Microsoft accounts are not supported.
  - The permissions are read from the token (its C(roles) or C(scp), without checking its signature) before the first
    request to Graph; when none of them is there, the task fails before sending anything, in check mode too, and names
    the permissions that would do. An opaque token (not a JWT) is not checked; RV(permission_note) says so. A 403 from
    Graph names the same permissions.
  - An id Graph calls malformed (HTTP 400 C(ErrorInvalidIdMalformed)) fails that appointment naming the id and its
    option; it is never reported as already absent.
  - A user token also needs the user to be a member of the booking business; otherwise Graph answers
    C(ErrorFolderNotFound).
  - Microsoft Bookings is not offered in the C(china) (21Vianet) cloud; the module fails there before sending any request.
  - When some appointments of a bulk task fail, the task fails naming each failed id and its Graph error, and
    still returns what was cancelled, so running it again finishes the rest without notifying anyone twice.
  - One task at a time cancels in a booking business on a controller. Outside check mode the task takes an exclusive lock on
    the booking business (a file in C(~/.cache/graphops.msgraph/locks), or below E(XDG_CACHE_HOME)) before it reads what it
    will cancel, so forks of one playbook (C(hosts) set to C(all) with C(delegate_to) set to C(localhost)), two playbooks at once and
    a task left running by a killed C(ansible-playbook) take turns, and the later one reports the items already
    absent. A task that cannot take the lock within O(max_wait) seconds fails, sending nothing, naming the
    booking business and the process holding it. Check mode takes no lock (it sends nothing).
  - The lock is local to one machine. Two controllers cancelling in the same booking business at the same time are not
    kept apart, and could notify customers twice; give each booking business one controller.
  - When the C(ansible-playbook) process that started the task is gone (killed), the task stops before its next
    cancel and records what it sent in the lock file; the next task on that booking business warns about it and returns it
    in RV(previous_run).
seealso:
  - module: graphops.msgraph.booking_appointment_info
    description: List the appointments of a booking business, for example to see what a window would cancel.
  - name: "bookingAppointment: cancel (Microsoft Graph)"
    description: The Graph action this module calls.
    link: https://learn.microsoft.com/graph/api/bookingappointment-cancel
author:
  - graphops.msgraph contributors (@graphops)
"""

EXAMPLES = r"""
# The credentials come from the AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET
# environment variables here; any option of the connection layer can be set instead.
- name: Cancel one appointment
  graphops.msgraph.booking_appointment_cancel:
    business_id: contosoclinic@contoso.example
    appointment_id: AAMkAD5gD_eusNSOjbVuS1xDH0q0vkNJ9Cej-UrzqXIM_HueE==
    cancellation_message: Dr. Siciliani is unwell today; we will call you to find a new time.

- name: Cancel several appointments, connection options set once for every module of the collection
  module_defaults:
    group/graphops.msgraph.msgraph:
      tenant_id: "{{ lookup('ansible.builtin.env', 'AZURE_TENANT_ID') }}"
      client_id: "{{ lookup('ansible.builtin.env', 'AZURE_CLIENT_ID') }}"
      client_secret: "{{ lookup('ansible.builtin.env', 'AZURE_CLIENT_SECRET') }}"
  graphops.msgraph.booking_appointment_cancel:
    business_id: contosoclinic@contoso.example
    appointment_ids:
      - AAMkADyac4z8XXtH0XIMmxcY-O2H4EsQSE-doX8bqJwhB_p3w==
      - AAMkAD7xIo9yQcnInNChA8NMZidpZTSheQsUJjYiGF8x6gAaI==
    cancellation_message: The clinic is closed for maintenance.

- name: Show what cancelling the flu vaccinations of a day would do, without cancelling anything
  graphops.msgraph.booking_appointment_cancel:
    business_id: contosoclinic@contoso.example
    match:
      start: "2027-03-02T00:00:00Z"
      end: "2027-03-03T00:00:00Z"
      service_id: e1f3a5c7-9b2d-4f6a-8e1c-4d6f8a0c2e63
    max_items: 40
  check_mode: true
  diff: true
  register: would_cancel

- name: Cancel exactly what was reviewed; appointments booked since are left alone and reported
  graphops.msgraph.booking_appointment_cancel:
    business_id: contosoclinic@contoso.example
    match:
      start: "2027-03-02T00:00:00Z"
      end: "2027-03-03T00:00:00Z"
      service_id: e1f3a5c7-9b2d-4f6a-8e1c-4d6f8a0c2e63
    max_items: 40
    approved_ids: "{{ would_cancel.cancelled }}"
    cancellation_message: The flu clinic moves to next week; please book a new time online.

- name: Cancel every appointment of one staff member on a day
  graphops.msgraph.booking_appointment_cancel:
    business_id: contosoclinic@contoso.example
    match:
      start: "2027-03-02T00:00:00Z"
      end: "2027-03-03T00:00:00Z"
      staff_member_id: 9e2f4a6c-8d0b-4c2e-a4f6-1b3d5f7a9c22
    max_items: 40
    cancellation_message: Your appointment is cancelled; please book another time online.
  register: cancelled

- name: Preview the flu vaccinations given by Isaiah on one clinic day, by name and in Seattle time
  graphops.msgraph.booking_appointment_cancel:
    business_id: contosoclinic@contoso.example
    match:
      start: "2027-03-04"
      end: "2027-03-04"
      time_zone: America/Los_Angeles
      staff_email: isaiah.langer@contoso.example
      service_name: Flu vaccination
  check_mode: true

- name: Report who was told
  ansible.builtin.debug:
    msg: "{{ cancelled.appointments | map(attribute='customers') | flatten | map(attribute='email_address') | list }}"
"""

RETURN = r"""
cancelled:
  description:
    - Ids of the appointments cancelled by this task, or that would be cancelled in check mode.
  returned: always
  type: list
  elements: str
  sample: ["AAMkADc7zF4J0AAA8v-XYZ001"]
already_absent:
  description:
    - Ids of the appointments that did not exist (HTTP 404) and so needed nothing.
  returned: always
  type: list
  elements: str
  sample: ["AAMkADc7zF4J0AAA8v-XYZ009"]
unapproved:
  description:
    - Selected appointments that were not in O(approved_ids), and so were left alone. V([]) without O(approved_ids).
  returned: always
  type: list
  elements: str
  sample: ["AAMkADc7zF4J0AAA8v-XYZ011"]
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
  sample: ["BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All"]
selected:
  description: How many appointments the selection holds, when that is more than O(max_items).
  returned: when O(max_items) is exceeded
  type: int
  sample: 3000
appointments:
  description:
    - A summary of each appointment cancelled, or that would be cancelled in check mode.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The appointment id.
      type: str
      sample: AAMkADc7zF4J0AAA8v-XYZ001
    start:
      description: When the appointment started, in UTC.
      type: str
      sample: "2026-03-02T09:00:00Z"
    end:
      description: When the appointment ended, in UTC.
      type: str
      sample: "2026-03-02T09:30:00Z"
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
    service_id:
      description: The id of the booking service.
      type: str
      sample: 57da6774-a087-4d69-b0e6-6fb82c339976
    service_name:
      description: The name of the booking service.
      type: str
      sample: Flu shot
    staff_member_ids:
      description: The ids of the staff members assigned.
      type: list
      elements: str
      sample: ["8ee1c803-a1fa-4d8a-a8c5-2a4b2f0ba7c6"]
    customers:
      description: The customers of the appointment, who were sent the cancellation.
      type: list
      elements: dict
      contains:
        name:
          description: The customer's name.
          type: str
          sample: Jordan Miller
        email_address:
          description: The customer's email address.
          type: str
          sample: jordan@example.com
failures:
  description:
    - The appointments that could not be read or cancelled, each with the Graph error.
    - Returned only when the task fails for some of the appointments.
    - Named C(failures) because Ansible reserves the C(failed) key of a result.
  returned: failed
  type: list
  elements: dict
  contains:
    id:
      description: The appointment id.
      type: str
      sample: AAMkADc7zF4J0AAA8v-XYZ004
    error:
      description: The Graph error with C(status), C(code), C(message), C(request_id) and C(client_request_id).
      type: dict
      sample:
        status: 500
        code: UnknownError
        message: ""
        request_id: 0c5b0b54-4c2e-4b8a-9d0d-64f5a0c2f111
        client_request_id: 5f6b2f44-1b8c-4b0a-a1a7-8e1f9d6c3a22
previous_run:
  description:
    - The previous task on this booking business from this controller when it did not finish (its C(ansible-playbook) was
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
    - A one-line account of what was done, worded as calendar_event_cancel words it; V(Would cancel ...) in check mode.
    - C(already cancelled) counts the appointments already gone (RV(already_absent)); appointments not approved are
      counted when there are any.
  returned: always
  type: str
  sample: Cancelled 3 appointments; 1 already cancelled; 0 failed.
"""

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_module import GraphModule
from ansible_collections.graphops.msgraph.plugins.module_utils._local_time import add_local_times
from ansible_collections.graphops.msgraph.plugins.module_utils._businesses import resolve_names
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import error_dict
from ansible_collections.graphops.msgraph.plugins.module_utils import _bookings as bookings
from ansible_collections.graphops.msgraph.plugins.module_utils import _review as review

ARGUMENT_SPEC = dict(
    business_id=dict(type="str", required=True),
    appointment_id=dict(type="str"),
    appointment_ids=dict(type="list", elements="str"),
    match=dict(
        type="dict",
        options=dict(
            start=dict(type="str", required=True),
            end=dict(type="str", required=True),
            customer_email=dict(type="str"),
            service_id=dict(type="str"),
            staff_member_id=dict(type="str"),
            time_zone=dict(type="str"),
            staff_email=dict(type="str"),
            service_name=dict(type="str"),
        ),
        mutually_exclusive=[("staff_member_id", "staff_email"), ("service_id", "service_name")],
    ),
    cancellation_message=dict(type="str"),
    approved_ids=dict(type="list", elements="str"),
    max_items=dict(type="int"),
)
SELECTORS = ("appointment_id", "appointment_ids", "match")


def _failure_text(gm, appointment_id, error, step):
    """One failed appointment: a malformed id names its option; a 403 names the permissions needed."""
    option = "appointment_ids" if gm.params["appointment_ids"] is not None else "appointment_id"
    if review.is_malformed(error):
        return review.malformed_text(appointment_id, option)
    return "%s appointment %s failed: %s" % (step, appointment_id, gm.forbidden_hint(error))


def _report(gm, plan, result):
    """Exit (or fail, when an appointment failed) with what the plan says; the same keys in check mode."""
    module = gm.module
    for appointment_id in plan.uncertain:
        module.warn("Graph did not confirm the cancel of appointment %s (no answer, or an error) and the appointment "
                    "is gone now: it was cancelled by this task, or was already absent before it. The cancel was not "
                    "sent again." % appointment_id)
    done = plan.to_cancel if gm.check_mode else plan.cancelled
    # changed is computed the same way in check mode and for real, so check mode predicts the real run.
    result.update(changed=bool(done), cancelled=done, already_absent=plan.already_absent,
                  appointments=[plan.summaries[i] for i in done],
                  msg=review.summary_msg(gm.check_mode, "appointment", len(done), len(plan.already_absent),
                                         len(plan.failures), unapproved=len(result["unapproved"])))
    if module._diff:
        result["diff"] = plan.diff(done)
    if plan.failures:
        result["failures"] = [dict(id=appointment_id, error=error_dict(gm.forbidden_hint(error)))
                              for appointment_id, error, dummy in plan.failures]
        failed = "; ".join(_failure_text(gm, appointment_id, error, step) for appointment_id, error, step in plan.failures)
        module.fail_json(**dict(result, msg="%s %s" % (failed, result["msg"])))
    module.exit_json(**result)


def _guard(gm, plan, approved, result):
    """max_items, then approved_ids, before anything is sent (check mode alike): what was reviewed is what runs."""
    text = review.too_many(len(plan.to_cancel), gm.params["max_items"], "appointment")
    if text:
        gm.module.fail_json(msg=text, selected=len(plan.to_cancel), max_items=gm.params["max_items"], **result)
    plan.to_cancel, result["unapproved"] = review.split_approved(plan.to_cancel, approved, lambda i: [i])
    if result["unapproved"]:
        gm.module.warn(review.unapproved_warning("appointment", result["unapproved"]))


def main():
    gm = GraphModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[SELECTORS], required_one_of=[SELECTORS],
                     supports_check_mode=True)
    selection = gm.validated(bookings.cancel_selection, gm.params)
    approved = gm.validated(review.approval_list, gm.params["approved_ids"])
    gm.validated(review.check_max_items, gm.params["max_items"])
    gm.validated(bookings.check_cloud, gm.cloud)
    message = gm.params["cancellation_message"]

    result = dict(changed=False, cancelled=[], already_absent=[], appointments=[], unapproved=[])
    reading = "Reading the appointments of %s failed" % selection.business_id
    note = gm.check_permissions("bookings", "write", reading, result)
    if note:
        result["permission_note"] = note
    client = gm.client()
    with gm.graph_step("Resolving match.staff_email and match.service_name failed", result):
        resolve_names(client, selection, gm.params["match"], "match.", "nothing was cancelled")  # issue 18: names -> ids, before any write
    # One appointment is read and cancelled in one round trip, unless approved_ids must be consulted first.
    read_only = gm.check_mode or (approved is not None and not (selection.ids and set(selection.ids) <= approved))
    # Outside check mode the reads that decide and the cancels run under the business's lock (issue 16).
    with gm.writer("bookingBusinesses/" + selection.business_id, "cancelling appointments", result):
        with gm.graph_step(reading, result):
            plan = bookings.plan_cancel(client, selection, message, read_only)
        result["already_absent"] = plan.already_absent
        add_local_times(list(plan.summaries.values()), (gm.params["match"] or {}).get("time_zone"))  # issue 18
        _guard(gm, plan, approved, result)
        if not gm.check_mode and plan.to_cancel:
            with gm.graph_step("Cancelling the appointments of %s failed" % selection.business_id, result):
                bookings.cancel(client, plan, message)
    _report(gm, plan, result)


if __name__ == "__main__":
    main()
