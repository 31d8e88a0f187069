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
  cancellation_message:
    description:
      - The message Graph sends to the customers with the cancellation.
    type: str
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
  check_mode: true
  diff: true
  register: would_cancel

- name: Cancel every appointment of one staff member on a day
  graphops.msgraph.booking_appointment_cancel:
    business_id: contosoclinic@contoso.example
    match:
      start: "2027-03-02T00:00:00Z"
      end: "2027-03-03T00:00:00Z"
      staff_member_id: 9e2f4a6c-8d0b-4c2e-a4f6-1b3d5f7a9c22
    cancellation_message: Your appointment is cancelled; please book another time online.
  register: cancelled

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
  description: A one-line account of what was done.
  returned: always
  type: str
  sample: Cancelled 2 appointment(s); 1 already absent.
"""

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_module import GraphModule
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import error_dict
from ansible_collections.graphops.msgraph.plugins.module_utils import _bookings as bookings

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
        ),
    ),
    cancellation_message=dict(type="str"),
)
SELECTORS = ("appointment_id", "appointment_ids", "match")


def _result_msg(check_mode, cancelled, absent, failed):
    verb = "Would cancel" if check_mode else "Cancelled"
    parts = ["%s %d appointment(s)" % (verb, len(cancelled)), "%d already absent" % len(absent)]
    if failed:
        parts.append("%d failed" % len(failed))
    return "; ".join(parts) + "."


def _report(gm, plan, previous_run=None):
    """Exit (or fail, when an appointment failed) with what the plan says; the same keys in check mode."""
    module = gm.module
    for appointment_id in plan.uncertain:
        module.warn("Graph did not confirm the cancel of appointment %s (no answer, or an error) and the appointment "
                    "is gone now: it was cancelled by this task, or was already absent before it. The cancel was not "
                    "sent again." % appointment_id)
    done = plan.to_cancel if gm.check_mode else plan.cancelled
    # changed is computed the same way in check mode and for real, so check mode predicts the real run.
    result = dict(changed=bool(done), cancelled=done, already_absent=plan.already_absent,
                  appointments=[plan.summaries[i] for i in done],
                  msg=_result_msg(gm.check_mode, done, plan.already_absent, plan.failures))
    if previous_run:
        result["previous_run"] = previous_run
    if module._diff:
        result["diff"] = plan.diff(done)
    if plan.failures:
        result["failures"] = [dict(id=appointment_id, error=error_dict(error)) for appointment_id, error, dummy in plan.failures]
        failed = "; ".join("%s appointment %s failed: %s" % (step, appointment_id, error)
                           for appointment_id, error, step in plan.failures)
        module.fail_json(**dict(result, msg="%s %s" % (failed, result["msg"])))
    module.exit_json(**result)


def main():
    gm = GraphModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[SELECTORS], required_one_of=[SELECTORS],
                     supports_check_mode=True)
    selection = gm.validated(bookings.cancel_selection, gm.params)
    gm.validated(bookings.check_cloud, gm.cloud)
    message = gm.params["cancellation_message"]

    client = gm.client()
    result = dict(changed=False, cancelled=[], already_absent=[], appointments=[])
    # Outside check mode the reads that decide and the cancels run under the business's lock (issue 16).
    with gm.writer("bookingBusinesses/" + selection.business_id, "cancelling appointments", result):
        with gm.graph_step("Reading the appointments of %s failed" % selection.business_id, result):
            plan = bookings.plan_cancel(client, selection, message, gm.check_mode)
        result["already_absent"] = plan.already_absent
        if not gm.check_mode and plan.to_cancel:
            with gm.graph_step("Cancelling the appointments of %s failed" % selection.business_id, result):
                bookings.cancel(client, plan, message)
    _report(gm, plan, result.get("previous_run"))


if __name__ == "__main__":
    main()
