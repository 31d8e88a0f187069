# -*- coding: utf-8 -*-
# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the graphops.msgraph collection. It may change without notice.

"""Microsoft Bookings: the domain logic of booking_appointment_cancel and booking_appointment_info.

What the user asked for (a Selection), the reads, the plan of a cancel (what to cancel, what is
already absent, which reads failed) and the cancel operations, plus the summaries and diffs both
modules return. Nothing here talks HTTP itself (every request goes through the GraphClient) and
nothing here imports Ansible, so the logic can be reused and tested without a module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOp, WriteOp, sort_write_outcomes
from ansible_collections.graphops.msgraph.plugins.module_utils._clouds import CLOUDS
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import GraphNotFound, InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._ids import build_path, validate_id, validate_id_list
from ansible_collections.graphops.msgraph.plugins.module_utils._times import format_utc, parse_datetime
# issue 18: match.time_zone / time_zone (local dates and times in an IANA zone).
from ansible_collections.graphops.msgraph.plugins.module_utils._local_time import parse_zoned_window


APPOINTMENT_PATH = "/solutions/bookingBusinesses/{business_id}/appointments/{appointment_id}"
# https://learn.microsoft.com/graph/api/bookingappointment-cancel
CANCEL_PATH = APPOINTMENT_PATH + "/cancel"
# https://learn.microsoft.com/graph/api/bookingbusiness-list-calendarview
CALENDAR_VIEW_PATH = "/solutions/bookingBusinesses/{business_id}/calendarView"

# Exchange answers 404 ErrorFolderNotFound when the caller is not a member of the business (or can
# not see it at all): that 404 is a failure, not an absent appointment, so branch on the code.
NOT_A_MEMBER_CODE = "ErrorFolderNotFound"

FILTER_KEYS = ("customer_email", "service_id", "staff_member_id")

# Only the properties the summaries, filters and diffs use: an appointment is ~40 properties and
# a bulk read moves thousands of them (NOTES: $select is safe). v1.0 names the times
# startDateTime/endDateTime, beta start/end.
_COMMON_FIELDS = "id,serviceId,serviceName,staffMemberIds,customers,customerEmailAddress,customerName"
APPOINTMENT_FIELDS = {
    "v1.0": _COMMON_FIELDS + ",startDateTime,endDateTime",
    "beta": _COMMON_FIELDS + ",start,end",
}


def select_params(client):
    """The $select for appointment reads in the client's API version (all properties if unknown)."""
    fields = APPOINTMENT_FIELDS.get(getattr(client, "api_version", None))
    return {"$select": fields} if fields else None


_UTC_NAMES = ("", "utc", "etc/utc", "gmt", "z", "coordinated universal time")


def check_cloud(cloud):
    """Refuse a cloud without Bookings (China, 21Vianet) before any request."""
    if CLOUDS.get(cloud, {}).get("bookings", True):
        return
    operator = " (21Vianet)" if cloud == "china" else ""
    raise InvalidInputError("Microsoft Bookings is not available in the %s%s cloud" % (cloud, operator), option="cloud")


def is_missing_appointment(status, error=None, body=None):
    """True for the 404 of a missing appointment; False for ErrorFolderNotFound (not a member)."""
    if status != 404:
        return False
    code = getattr(error, "code", None)
    if code is None and isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
    return code != NOT_A_MEMBER_CODE


# ---------------------------------------------------------------------------------------------
# What the user asked for


class Selection:
    """The appointments a task is about, validated: ids, or a window with filters."""

    def __init__(self, business_id, ids=None, window=None, filters=None):
        self.business_id = business_id
        self.ids = ids
        self.window = window
        self.filters = filters or {}


def _filters(source, prefix):
    """The filters of FILTER_KEYS given in source, the ids among them validate_id()'d (option prefix + key)."""
    for key in ("service_id", "staff_member_id"):
        if source.get(key) is not None:
            validate_id(source[key], prefix + key)
    return dict((key, source.get(key)) for key in FILTER_KEYS)


def cancel_selection(params):
    """booking_appointment_cancel's options, checked before any request. Raises InvalidInputError."""
    business_id = validate_id(params["business_id"], "business_id")
    match = params["match"]
    if match is not None:
        window = parse_zoned_window(match["start"], match["end"], match.get("time_zone"), "match.start", "match.end", "match.time_zone")
        return Selection(business_id, window=window, filters=_filters(match, "match."))
    if params["appointment_ids"] is not None:
        return Selection(business_id, ids=validate_id_list(params["appointment_ids"], "appointment_ids"))
    return Selection(business_id, ids=[validate_id(params["appointment_id"], "appointment_id")])


def info_selection(params):
    """booking_appointment_info's options, checked before any request. Raises InvalidInputError."""
    business_id = validate_id(params["business_id"], "business_id")
    if params["appointment_id"] is not None:
        return Selection(business_id, ids=[validate_id(params["appointment_id"], "appointment_id")],
                         filters=_filters(params, ""))
    return Selection(business_id, window=parse_zoned_window(params["start"], params["end"], params.get("time_zone")),
                     filters=_filters(params, ""))


# ---------------------------------------------------------------------------------------------
# Summaries and filters


def _appointment_time(appointment, which):
    """The dateTimeTimeZone of an appointment: v1.0 names it startDateTime/endDateTime, beta start/end."""
    value = appointment.get(which + "DateTime")
    if value is None:
        value = appointment.get(which)
    return value if isinstance(value, dict) else {}


def _time_moment(dtz):
    """A dateTimeTimeZone as an aware UTC datetime, or None when it is not in UTC or unreadable."""
    zone = (dtz.get("timeZone") or "").strip().lower()
    if zone not in _UTC_NAMES or not dtz.get("dateTime"):
        return None
    try:
        return parse_datetime(dtz["dateTime"], "dateTime")
    except InvalidInputError:
        return None


def _time_text(dtz):
    moment = _time_moment(dtz)
    if moment is not None:
        return format_utc(moment)
    if dtz.get("dateTime"):
        # Bookings documents UTC; keep anything else readable rather than guess a conversion.
        return ("%s %s" % (dtz.get("dateTime"), dtz.get("timeZone") or "")).strip()
    return None


def appointment_customers(appointment):
    """[{name, email_address}] from customers[], or from the older single-customer fields."""
    customers = []
    for customer in appointment.get("customers") or []:
        if isinstance(customer, dict):
            customers.append({"name": customer.get("name"), "email_address": customer.get("emailAddress")})
    if not customers and (appointment.get("customerEmailAddress") or appointment.get("customerName")):
        customers.append({"name": appointment.get("customerName"), "email_address": appointment.get("customerEmailAddress")})
    return customers


def appointment_summary(appointment):
    """The snake_case summary the modules return for one appointment."""
    return {
        "id": appointment.get("id"),
        "start": _time_text(_appointment_time(appointment, "start")),
        "end": _time_text(_appointment_time(appointment, "end")),
        "service_id": appointment.get("serviceId"),
        "service_name": appointment.get("serviceName"),
        "staff_member_ids": list(appointment.get("staffMemberIds") or []),
        "customers": appointment_customers(appointment),
    }


def diff_before(summary):
    """What --diff shows for an appointment before it is cancelled."""
    return {
        "start": summary["start"],
        "end": summary["end"],
        "service": summary["service_name"] or summary["service_id"],
        "customers": [
            ("%s <%s>" % (c["name"], c["email_address"]) if c["name"] and c["email_address"] else c["name"] or c["email_address"])
            for c in summary["customers"]
        ],
    }


def build_diff(summaries):
    """before/after dicts keyed by appointment id: what it was, and that it is gone afterwards."""
    return {
        "before": dict((s["id"], diff_before(s)) for s in summaries),
        "after": dict((s["id"], "absent") for s in summaries),
    }


def matches_filters(appointment, filters):
    """True when the appointment meets every filter given (customer_email, service_id, staff_member_id).

    Graph does not document $filter on Bookings appointments as reliable, so filtering is done here.
    """
    email = filters.get("customer_email")
    if email:
        addresses = set((c.get("email_address") or "").lower() for c in appointment_customers(appointment))
        if email.strip().lower() not in addresses:
            return False
    service_id = filters.get("service_id")
    if service_id and appointment.get("serviceId") != service_id:
        return False
    staff_member_id = filters.get("staff_member_id")
    if staff_member_id and staff_member_id not in (appointment.get("staffMemberIds") or []):
        return False
    return True


def _overlaps(appointment, start_at, end_at):
    """Guard against an answer outside the window asked for; unreadable times are left to Graph."""
    begins = _time_moment(_appointment_time(appointment, "start"))
    ends = _time_moment(_appointment_time(appointment, "end"))
    if begins is None or ends is None:
        return True
    return begins < end_at and ends > start_at


# ---------------------------------------------------------------------------------------------
# Reads


def appointment_path(business_id, appointment_id):
    return build_path(APPOINTMENT_PATH, business_id=business_id, appointment_id=appointment_id)


def read_appointment(client, business_id, appointment_id):
    """The appointment (raw Graph shape), or None when Graph says 404. Other errors propagate."""
    try:
        return client.get(appointment_path(business_id, appointment_id))
    except GraphNotFound as exc:
        if is_missing_appointment(404, exc):
            return None
        raise


def _read_op(client, business_id, appointment_id):
    return ReadOp(key=appointment_id, path=appointment_path(business_id, appointment_id), params=select_params(client),
                  mailbox=business_id, outlook=False)


def _sort_reads(outcomes):
    """ReadOutcomes as (present, absent, failed); see read_appointments()."""
    present, absent, failed = [], [], []
    for outcome in outcomes:
        if is_missing_appointment(outcome.status, outcome.error, outcome.body):
            absent.append(outcome.key)
        elif outcome.error is None and outcome.status is not None and 200 <= outcome.status < 300:
            body = outcome.body if isinstance(outcome.body, dict) else {}
            body.setdefault("id", outcome.key)
            present.append(body)
        else:
            failed.append((outcome.key, outcome.error))
    return present, absent, failed


def read_appointments(client, business_id, appointment_ids):
    """Read many appointments in bulk (the client batches them).

    Returns (present, absent, failed): present is [appointment] in input order, absent is [id],
    failed is [(id, error)] for reads that failed with anything other than a 404.
    """
    return _sort_reads(client.read_many([_read_op(client, business_id, i) for i in appointment_ids]))


def read_window(client, business_id, start_at, end_at, filters):
    """Every appointment of the business in the window that meets every filter, in Graph's order."""
    path = build_path(CALENDAR_VIEW_PATH, business_id=business_id)
    # v1.0 requires both parameters; beta accepts them too.
    params = {"start": format_utc(start_at), "end": format_utc(end_at)}
    params.update(select_params(client) or {})
    found = client.get_all(path, params=params)
    result = []
    seen = set()
    for appointment in found:
        if not isinstance(appointment, dict) or appointment.get("id") in seen:
            continue
        if _overlaps(appointment, start_at, end_at) and matches_filters(appointment, filters):
            seen.add(appointment.get("id"))
            result.append(appointment)
    return result


def find_appointments(client, selection):
    """booking_appointment_info: the selected appointments that meet the filters (raw Graph shape)."""
    if selection.ids:
        found = read_appointment(client, selection.business_id, selection.ids[0])
        return [found] if found is not None and matches_filters(found, selection.filters) else []
    return read_window(client, selection.business_id, selection.window[0], selection.window[1], selection.filters)


# ---------------------------------------------------------------------------------------------
# The plan of a cancel


class Plan:
    """What a cancel does: the appointments to cancel, those already absent, what failed.

    Filled by plan_cancel() (reads; the same in check mode and for real), then by cancel().
    """

    def __init__(self, business_id):
        self.business_id = business_id
        self.to_cancel = []  # ids of the appointments found
        self.summaries = {}  # id -> appointment_summary(), as read before any change
        self.already_absent = []
        self.failures = []  # (id, error, step): step "Read" (never cancelled) or "Cancel"
        self.uncertain = []  # ids whose cancel Graph did not confirm, gone afterwards (see read_and_cancel)
        self.cancelled = []  # set by cancel()
        self.sent = None  # the cancel's [WriteOutcome] when plan_cancel() sent it with the read

    def diff(self, ids):
        return build_diff([self.summaries[i] for i in ids])


def plan_cancel(client, selection, cancellation_message, check_mode):
    """Read what the selection names: a Plan. Raises GraphError when a window can not be read.

    What exists decides what is cancelled, in check mode and for real alike. Outside check mode one
    appointment is read and cancelled in one round trip (Graph runs the cancel only if the read
    found it); cancel() then reports that cancel's outcome instead of sending another.
    """
    plan = Plan(selection.business_id)
    absent, unread = [], []
    if selection.window is not None:
        present = read_window(client, selection.business_id, selection.window[0], selection.window[1], selection.filters)
    elif len(selection.ids) == 1 and not check_mode:
        present, absent, unread, plan.sent, plan.uncertain = read_and_cancel(
            client, selection.business_id, selection.ids[0], cancellation_message)
    else:
        present, absent, unread = read_appointments(client, selection.business_id, selection.ids)
    plan.to_cancel = [a.get("id") for a in present]
    plan.summaries = dict((a.get("id"), appointment_summary(a)) for a in present)
    plan.already_absent = list(absent)
    # Not cancelled: without a successful read nobody knows whether it still exists.
    plan.failures = [(appointment_id, error, "Read") for appointment_id, error in unread]
    return plan


# ---------------------------------------------------------------------------------------------
# The cancel


def _cancelled_already(status, body):
    """Probe after an ambiguous cancel: Bookings deletes a cancelled appointment, so 404 means done."""
    return is_missing_appointment(status, body=body)


def _cancel_op(business_id, appointment_id, cancellation_message):
    return WriteOp(key=appointment_id,
                   path=build_path(CANCEL_PATH, business_id=business_id, appointment_id=appointment_id),
                   body={"cancellationMessage": cancellation_message}, mailbox=business_id, outlook=False,
                   probe_path=appointment_path(business_id, appointment_id), probe_done=_cancelled_already)


def cancel_appointments(client, business_id, appointment_ids, cancellation_message):
    """Cancel each appointment at most once (the client batches and probes); returns WriteOutcomes."""
    return client.write_at_most_once([_cancel_op(business_id, i, cancellation_message) for i in appointment_ids])


def read_and_cancel(client, business_id, appointment_id, cancellation_message):
    """One appointment read and cancelled in one round trip: a $batch whose cancel dependsOn the read.

    Every appointment found is cancelled, so Graph itself can decide: it runs the cancel only
    after the read answered 200. Returns (present, absent, failed, outcomes, uncertain) with
    present, absent and failed as read_appointments() gives them, outcomes the cancel's
    [WriteOutcome] ([] when nothing was cancelled), and uncertain [id] when Graph did not confirm
    the cancel (no answer, or an error that may come after the work) and the appointment was gone
    afterwards: cancelled by this request, or already before it. Such an id is reported
    cancelled, and a cancel that may have taken effect is reported as the cancel's failure, never
    as a read's.
    """
    read, write = client.read_then_write(_read_op(client, business_id, appointment_id),
                                         _cancel_op(business_id, appointment_id, cancellation_message))
    present, absent, failed = _sort_reads([read])
    if write is None:
        return present, absent, failed, [], []
    if present:
        return present, absent, failed, [write], []
    # The cancel ran (or may have) but the read gave nothing usable (malformed, or its batch went
    # unanswered and the read made again no longer finds the appointment): the cancel's own
    # outcome tells the story. Done only by a probe means nobody can tell who cancelled it.
    uncertain = [appointment_id] if write.result == "done" and write.probed else []
    return [{"id": appointment_id}], [], [], [write], uncertain


def sort_cancel_outcomes(outcomes):
    """Split WriteOutcomes into (done ids, absent ids, [(id, error)] failed). Absent only when the 404 is
    the appointment's own: gone between our read and the cancel, someone else cancelled it meanwhile."""
    return sort_write_outcomes(outcomes, lambda outcome: is_missing_appointment(404, outcome.error))


def cancel(client, plan, cancellation_message):
    """Cancel plan.to_cancel (unless plan_cancel() already did); fills plan.cancelled, already_absent and failures."""
    outcomes = plan.sent
    if outcomes is None:
        outcomes = cancel_appointments(client, plan.business_id, plan.to_cancel, cancellation_message)
    plan.cancelled, gone_meanwhile, failed = sort_cancel_outcomes(outcomes)
    plan.already_absent.extend(gone_meanwhile)
    plan.failures.extend((appointment_id, error, "Cancel") for appointment_id, error in failed)
