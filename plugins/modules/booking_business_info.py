#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: booking_business_info
short_description: List Microsoft Bookings businesses, and the staff members and services of one
version_added: 0.2.0
description:
  - Without O(business_id), lists the booking businesses the credentials can see (id and name).
  - With O(business_id), lists that business' staff members (id, name, e-mail address, role) and
    services (id, name), so a play can find the ids that M(graphops.msgraph.booking_appointment_cancel)
    and M(graphops.msgraph.booking_appointment_info) filter on, or give them by name with
    C(staff_email) and C(service_name).
  - Never changes anything.
author:
  - graphops.msgraph contributors (@graphops)
options:
  business_id:
    description:
      - The id of one booking business, often its e-mail address, for example V(contosoclinic@contoso.com).
    type: str
extends_documentation_fragment:
  - graphops.msgraph.graph
  - graphops.msgraph.attributes
  - graphops.msgraph.attributes.info_module
notes:
  - Needs the application permission C(Bookings.Read.All) (or C(Bookings.ReadWrite.All), C(Bookings.Manage.All)), or
    with a user token the delegated permission C(Bookings.Read.All) or higher.
  - Graph lists businesses with their id and name only.
seealso:
  - module: graphops.msgraph.booking_appointment_info
  - module: graphops.msgraph.booking_appointment_cancel
  - name: "Microsoft Graph: List bookingBusinesses"
    description: The Graph request that lists the businesses.
    link: https://learn.microsoft.com/graph/api/solutions-list-bookingbusinesses
  - name: "Microsoft Graph: List staffMembers"
    description: The Graph request that lists the staff members of a business.
    link: https://learn.microsoft.com/graph/api/bookingbusiness-list-staffmembers
  - name: "Microsoft Graph: List services"
    description: The Graph request that lists the services of a business.
    link: https://learn.microsoft.com/graph/api/bookingbusiness-list-services
"""

EXAMPLES = r"""
# Credentials: set them once for every task with module_defaults (group/graphops.msgraph.msgraph)
# or through the AZURE_* environment variables; see the common options above.

- name: List the booking businesses
  graphops.msgraph.booking_business_info:
  register: found

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ found.businesses | map(attribute='name') | list }}"

- name: List the staff members and services of the clinic
  graphops.msgraph.booking_business_info:
    business_id: contosoclinic@contoso.example
  register: clinic

- name: Find the id of a staff member by e-mail address
  ansible.builtin.debug:
    msg: "{{ (clinic.staff_members | selectattr('email_address', 'equalto', 'lynne.robbins@contoso.example') | first).id }}"
"""

RETURN = r"""
businesses:
  description: The booking businesses (without O(business_id)); V([]) with O(business_id).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The business id (often its e-mail address).
      type: str
      sample: contosoclinic@contoso.example
    name:
      description: The business' display name.
      type: str
      sample: Contoso Clinic
staff_members:
  description: The staff members of O(business_id); V([]) without it.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The staff member id, as in the C(staff_member_id) option of the appointment modules.
      type: str
      sample: a1b3c5d7-e9f1-4a3b-8c5d-2e4f6a8b0c33
    name:
      description: The name shown to customers.
      type: str
      sample: Lynne Robbins
    email_address:
      description: The staff member's e-mail address.
      type: str
      sample: lynne.robbins@contoso.example
    role:
      description: The role in the business, for example V(administrator) or V(member).
      type: str
      sample: member
services:
  description: The services of O(business_id); V([]) without it.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The service id, as in C(service_id).
      type: str
      sample: e1f3a5c7-9b2d-4f6a-8e1c-4d6f8a0c2e63
    name:
      description: The service name.
      type: str
      sample: Flu vaccination
"""

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_module import GraphModule
from ansible_collections.graphops.msgraph.plugins.module_utils import _bookings as bookings
from ansible_collections.graphops.msgraph.plugins.module_utils import _businesses as businesses
from ansible_collections.graphops.msgraph.plugins.module_utils._ids import validate_id

ARGUMENT_SPEC = dict(
    business_id=dict(type="str"),
)


def main():
    gm = GraphModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = dict(changed=False, businesses=[], staff_members=[], services=[])
    business_id = gm.params["business_id"]
    if business_id is not None:
        gm.validated(validate_id, business_id, "business_id", **result)
    gm.validated(bookings.check_cloud, gm.cloud, **result)

    client = gm.client()
    if business_id is None:
        with gm.graph_step("Listing the booking businesses failed", result):
            result["businesses"] = businesses.list_businesses(client)
    else:
        with gm.graph_step("Reading the staff members and services of %s failed" % business_id, result):
            result["staff_members"] = businesses.list_staff_members(client, business_id)
            result["services"] = businesses.list_services(client, business_id)
    gm.module.exit_json(**result)


if __name__ == "__main__":
    main()
