# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the graphops.msgraph collection. It may change without notice.

"""Booking businesses, staff members and services by name (issue 18): booking_business_info, and
the Bookings staff_email / service_name (booking_appointment_cancel's match.staff_email /
match.service_name, booking_appointment_info's staff_email / service_name) resolved to ids before
any appointment is read or cancelled.

https://learn.microsoft.com/graph/api/solutions-list-bookingbusinesses (only id and displayName
come back), bookingbusiness-list-staffmembers, bookingbusiness-list-services. A name that matches
nothing, or more than one item, fails naming its option: the task then sends nothing.
Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._ids import build_path

BUSINESSES_PATH = "/solutions/bookingBusinesses"
STAFF_PATH = "/solutions/bookingBusinesses/{business_id}/staffMembers"
SERVICES_PATH = "/solutions/bookingBusinesses/{business_id}/services"


def list_businesses(client):
    """[{id, name}] of the booking businesses the credentials can see."""
    return [{"id": b.get("id"), "name": b.get("displayName")} for b in client.get_all(BUSINESSES_PATH)]


def list_staff_members(client, business_id):
    """[{id, name, email_address, role}] of one business."""
    found = client.get_all(build_path(STAFF_PATH, business_id=business_id))
    return [{"id": s.get("id"), "name": s.get("displayName"), "email_address": s.get("emailAddress"), "role": s.get("role")}
            for s in found]


def list_services(client, business_id):
    """[{id, name}] of one business."""
    return [{"id": s.get("id"), "name": s.get("displayName")}
            for s in client.get_all(build_path(SERVICES_PATH, business_id=business_id))]


def _one(items, key, wanted, option, what, business_id, outcome):
    hits = [i for i in items if (i.get(key) or "").strip().lower() == wanted.strip().lower()]
    if len(hits) == 1:
        return hits[0]["id"]
    known = ", ".join(sorted(repr(i.get(key)) for i in items if i.get(key))) or "none"
    if not hits:
        raise InvalidInputError("%s: booking business %s has no %s %r (it has: %s); %s"
                                % (option, business_id, what, wanted, known, outcome), option=option)
    raise InvalidInputError("%s: booking business %s has %d %ss named %r (ids %s); give the id instead; %s"
                            % (option, business_id, len(hits), what, wanted, ", ".join(h["id"] for h in hits), outcome),
                            option=option)


def resolve_names(client, selection, source, prefix, outcome):
    """Set selection.filters' staff_member_id / service_id from source's staff_email / service_name.

    Reads only what is named; raises InvalidInputError naming prefix + option for a blank name
    (before any request) and for a name that resolves to no item or to several, its message ending with outcome (what the task therefore
    did not do: "nothing was cancelled", "no appointment was read").
    """
    if not source:
        return selection
    for key in ("staff_email", "service_name"):
        # A blank name is refused rather than ignored: ignored, it would widen the selection to every
        # appointment in the window (all of them cancelled), where a blank id is refused by validate_id.
        if source.get(key) is not None and not source[key].strip():
            raise InvalidInputError("%s%s: a blank value names no %s; %s"
                                    % (prefix, key, "staff member" if key == "staff_email" else "service", outcome),
                                    option=prefix + key)
    if source.get("staff_email"):
        staff = list_staff_members(client, selection.business_id)
        selection.filters["staff_member_id"] = _one(staff, "email_address", source["staff_email"], prefix + "staff_email",
                                                    "staff member with e-mail", selection.business_id, outcome)
    if source.get("service_name"):
        services = list_services(client, selection.business_id)
        selection.filters["service_id"] = _one(services, "name", source["service_name"], prefix + "service_name", "service",
                                               selection.business_id, outcome)
    return selection
