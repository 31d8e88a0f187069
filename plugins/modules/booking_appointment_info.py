#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: booking_appointment_info
short_description: List Microsoft Bookings appointments
version_added: 0.1.0
description:
  - Returns one appointment of a Microsoft Bookings business, or every appointment in a time window that
    meets the filters given, as a list of snake_case summaries.
  - Never changes anything.
options:
  business_id:
    description:
      - The id of the booking business, often its email address, for example V(contosoclinic@contoso.com).
    type: str
    required: true
  appointment_id:
    description:
      - The id of one appointment. A missing appointment gives an empty list.
      - Exactly one of O(appointment_id) and the O(start)/O(end) window is required.
    type: str
  start:
    description:
      - Start of the window, an ISO 8601 date and time such as V(2026-03-02T00:00:00Z).
      - A value without a UTC offset is taken as UTC.
      - The window is read with the business C(calendarView).
    type: str
  end:
    description:
      - End of the window, an ISO 8601 date and time after O(start).
      - A value without a UTC offset is taken as UTC.
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
      - Only appointments assigned to the staff member with this e-mail address (compared
        case-insensitively), resolved to its id through the business' staff members before any
        appointment is read.
      - An address no staff member has, or a blank one, fails naming it, and no appointment is read.
      - Mutually exclusive with O(staff_member_id).
    type: str
    version_added: 0.2.0
  service_name:
    description:
      - Only appointments of the service with this name (case-insensitive), resolved to its id
        before any appointment is read; an unknown, ambiguous or blank name fails naming it, and no appointment is read.
      - Mutually exclusive with O(service_id).
    type: str
    version_added: 0.2.0
extends_documentation_fragment:
  - graphops.msgraph.graph
  - graphops.msgraph.attributes
  - graphops.msgraph.attributes.info_module
notes:
  - Needs the application permission C(Bookings.Read.All) (or C(Bookings.ReadWrite.All), C(Bookings.Manage.All)), or
    with a user token the delegated permission C(BookingsAppointment.ReadWrite.All), C(Bookings.Read.All) or higher.
    They are read from the token (C(roles) or C(scp)) before the first request; without one of them the task fails
    before sending anything. A 403 from Graph names them too.
  - O(staff_email) and O(service_name) cost one more request each (the business' staff members, its services).
  - An O(appointment_id) Graph calls malformed (HTTP 400 C(ErrorInvalidIdMalformed)) fails the task naming it.
  - The filters are applied by the module, because Graph does not document C($filter) on Bookings appointments as reliable.
  - Microsoft Bookings is not offered in the C(china) (21Vianet) cloud; the module fails there before sending any request.
seealso:
  - module: graphops.msgraph.booking_appointment_cancel
    description: Cancel the appointments this module lists.
  - name: "List calendarView of a bookingBusiness (Microsoft Graph)"
    description: The Graph call used to read a window.
    link: https://learn.microsoft.com/graph/api/bookingbusiness-list-calendarview
  - name: "Get bookingAppointment (Microsoft Graph)"
    description: The Graph call used to read one appointment.
    link: https://learn.microsoft.com/graph/api/bookingappointment-get
  - module: graphops.msgraph.booking_business_info
    description: The staff members and services of a business, with the e-mail addresses and names O(staff_email) and O(service_name) take.
author:
  - graphops.msgraph contributors (@graphops)
"""

EXAMPLES = r"""
# The credentials come from the AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET
# environment variables here; any option of the connection layer can be set instead.
- name: Read one appointment
  graphops.msgraph.booking_appointment_info:
    business_id: contosoclinic@contoso.example
    appointment_id: AAMkADl2mK2uhzoux_NbrZLZ_QY56zii2H2NZyRSuI7eW96eU==
  register: one

- name: List the appointments of one staff member on a day
  graphops.msgraph.booking_appointment_info:
    business_id: contosoclinic@contoso.example
    start: "2027-03-02T00:00:00Z"
    end: "2027-03-03T00:00:00Z"
    staff_member_id: a1b3c5d7-e9f1-4a3b-8c5d-2e4f6a8b0c33
  register: day

- name: Show who has an appointment with that staff member that day
  ansible.builtin.debug:
    msg: "{{ day.appointments | map(attribute='customers') | flatten | map(attribute='name') | list }}"

- name: List a week's flu vaccinations by one staff member, both given by name instead of id
  graphops.msgraph.booking_appointment_info:
    business_id: contosoclinic@contoso.example
    start: "2027-03-01"
    end: "2027-03-07"
    time_zone: Europe/London
    staff_email: isaiah.langer@contoso.example
    service_name: Flu vaccination
  register: flu
"""

RETURN = r"""
msg:
  description: How many appointments were found.
  returned: always
  type: str
  sample: Found 2 appointments.
permission_note:
  description: Why the token's permissions were not checked before the first request (an opaque token).
  returned: when the token is not a JWT
  type: str
  sample: The access token is not a JWT whose claims can be read, so its permissions were not checked ...
appointments:
  description:
    - A summary of each appointment found, in the order Graph returned them; V([]) when nothing matches.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The appointment id.
      type: str
      sample: AAMkADc7zF4J0AAA8v-XYZ001
    start:
      description: When the appointment starts, in UTC.
      type: str
      sample: "2026-03-02T09:00:00Z"
    end:
      description: When the appointment ends, in UTC.
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
      description: The customers of the appointment.
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
"""

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_module import GraphModule
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import GraphError
from ansible_collections.graphops.msgraph.plugins.module_utils._local_time import add_local_times
from ansible_collections.graphops.msgraph.plugins.module_utils._businesses import resolve_names
from ansible_collections.graphops.msgraph.plugins.module_utils import _bookings as bookings
from ansible_collections.graphops.msgraph.plugins.module_utils import _review as review

ARGUMENT_SPEC = dict(
    business_id=dict(type="str", required=True),
    appointment_id=dict(type="str"),
    start=dict(type="str"),
    end=dict(type="str"),
    customer_email=dict(type="str"),
    service_id=dict(type="str"),
    staff_member_id=dict(type="str"),
    staff_email=dict(type="str"),
    service_name=dict(type="str"),
    time_zone=dict(type="str"),
)
MUTUALLY_EXCLUSIVE = [("appointment_id", "start"), ("appointment_id", "end"),
                      ("staff_member_id", "staff_email"), ("service_id", "service_name")]


def main():
    gm = GraphModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE,
                     required_one_of=[("appointment_id", "start")], required_together=[("start", "end")],
                     supports_check_mode=True)
    selection = gm.validated(bookings.info_selection, gm.params)
    gm.validated(bookings.check_cloud, gm.cloud)

    result = dict(changed=False, appointments=[])
    reading = "Reading the appointments of %s failed" % selection.business_id
    note = gm.check_permissions("bookings", "read", reading, result)
    if note:
        result["permission_note"] = note
    client = gm.client()
    with gm.graph_step("Resolving staff_email and service_name failed", result):
        resolve_names(client, selection, gm.params, "", "no appointment was read")  # issue 18: names -> ids first
    with gm.graph_step(reading, result):
        try:
            found = bookings.find_appointments(client, selection)
        except GraphError as exc:
            raise review.malformed_input(exc, gm.params["appointment_id"], "appointment_id") or exc
    result["appointments"] = [bookings.appointment_summary(a) for a in found]
    add_local_times(result["appointments"], gm.params["time_zone"])  # issue 18
    gm.module.exit_json(msg=review.found_msg(len(found), "appointment"), **result)


if __name__ == "__main__":
    main()
