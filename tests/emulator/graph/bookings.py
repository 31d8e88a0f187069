# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft Bookings appointments: list, calendarView, get, cancel (v1.0 and beta shapes)."""

from emulator import api
from emulator.graph import common, ids
from emulator.graph.permissions import has_permission

# Bookings pages appointments; the page size is not documented. 100 keeps benchmark listings
# multi-page so clients must follow @odata.nextLink.
DEFAULT_PAGE = 100
# Parameters of the cancel action (OpenAPI requestBody; checked by test_contract.py).
CANCEL_PARAMS = ["cancellationMessage"]


def render(appt, version):
    """v1.0 keeps startDateTime/endDateTime; beta calls them start/end (see the subsets)."""
    out = common.clone(appt)
    start = common.bookings_dtz(common.dtz_to_utc(out.pop("startDateTime")))
    end = common.bookings_dtz(common.dtz_to_utc(out.pop("endDateTime")))
    if version == "beta":
        out["start"], out["end"] = start, end
    else:
        out["startDateTime"], out["endDateTime"] = start, end
    return out


def _business(svc, req, business_id, access):
    """The business the caller may use, or an error Response."""
    principal = req.principal
    if not has_permission(principal, "bookings", access):
        return None, common.access_denied(req)
    business = svc.store.business(business_id)
    member = business is not None
    if member and principal.kind == "user":
        user = svc.store.resolve_user(principal.user_id or principal.upn or "") or {}
        member = business.has_member(principal.upn or user.get("userPrincipalName"), user.get("mail"))
    if not member:
        # A business is a mailbox; Exchange answers ErrorFolderNotFound both for a caller that is
        # not a staff member (NOTES) and for a business it cannot see at all. Sent with 404: the
        # pessimistic reading, since a client that treats every 404 as "appointment absent"
        # would then report success wrongly; clients must branch on the code (NOTES).
        return None, common.not_found(req, "ErrorFolderNotFound", "The specified folder could not be found in the store.")
    return business, None


def _missing(req):
    # NOTES: documented 404 for a missing appointment. Bookings is served by Exchange, whose
    # item-not-found code is ErrorItemNotFound; clients must branch on the status (404) anyway.
    return common.not_found(req, "ErrorItemNotFound", "The specified object was not found in the store.")


def list_appointments(svc, req, match):
    business, err = _business(svc, req, match["business"], "read")
    if err:
        return err
    with svc.store.lock:
        items = [render(a, req.version) for a in business.appointments.values()]
    body, err = common.page(req, svc.runtime, items, DEFAULT_PAGE)
    return err or common.ok(body)


def calendar_view(svc, req, match):
    business, err = _business(svc, req, match["business"], "read")
    if err:
        return err
    # v1.0 declares start and end required; the beta subset lists neither, but the beta docs show
    # them too: the pessimistic reading requires them on both versions.
    for name in ("start", "end"):
        if not req.query.get(name):
            return common.bad_request(req, "The query parameter '%s' is required for calendarView." % name)
    win_start, win_end = common.parse_time(req.query["start"]), common.parse_time(req.query["end"])
    if win_start is None or win_end is None:
        return common.bad_request(req, "The query parameters 'start' and 'end' must be ISO 8601 date-times.")
    with svc.store.lock:
        hits = [a for a in business.appointments.values()
                if common.overlaps(common.dtz_to_utc(a["startDateTime"]), common.dtz_to_utc(a["endDateTime"]), win_start, win_end)]
        hits.sort(key=lambda a: common.dtz_to_utc(a["startDateTime"]))
        items = [render(a, req.version) for a in hits]
    body, err = common.page(req, svc.runtime, items, DEFAULT_PAGE)
    return err or common.ok(body)


def get_appointment(svc, req, match):
    business, err = _business(svc, req, match["business"], "read")
    if err:
        return err
    if not ids.well_formed(match["appointment"]):
        return ids.malformed(req)
    with svc.store.lock:
        appt = business.appointments.get(match["appointment"])  # Exchange ids are case-sensitive
        if appt is None:
            return _missing(req)
        return common.ok(common.select(render(appt, req.version), req))


def cancel_appointment(svc, req, match):
    business, err = _business(svc, req, match["business"], "write")
    if err:
        return err
    if not ids.well_formed(match["appointment"]):
        return ids.malformed(req)
    params, err = common.action_body(req, CANCEL_PARAMS)
    if err:
        return err
    message = params.get("cancellationMessage")
    with svc.store.lock:
        appt = business.appointments.pop(match["appointment"], None)
        if appt is None:
            return _missing(req)
    # No cancelled flag exists on bookingAppointment: the appointment is simply gone (NOTES,
    # "inferred"). Each customer and each staff member gets the message once.
    customers = [c.get("emailAddress") for c in appt.get("customers") or []]
    if not customers and appt.get("customerEmailAddress"):
        customers = [appt["customerEmailAddress"]]  # older single-customer appointments
    for address in dict.fromkeys(a for a in customers if a):
        svc.runtime.notify("booking_cancelled", appt["id"], business.id, address, "customer", message)
    for staff_id in appt.get("staffMemberIds", []):
        staff = business.staff.get(staff_id)
        if staff and staff.get("emailAddress"):
            svc.runtime.notify("booking_cancelled", appt["id"], business.id, staff["emailAddress"], "staff", message)
    return api.Response(status=204)
