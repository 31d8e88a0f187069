# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Booking businesses, their staff members and services: the reads behind booking_business_info (issue 18).

https://learn.microsoft.com/graph/api/bookingbusiness-list: the list "does not return the full
set of properties, only id and displayName", so that is all it renders here (pessimistic: a
client must not expect more from it). https://learn.microsoft.com/graph/api/bookingbusiness-list-staffmembers
answers bookingStaffMember items (the navigation property is typed bookingStaffMemberBase, so each
item names its type in @odata.type); bookingbusiness-list-services answers bookingService items.
A delegated caller sees only the businesses it is a staff member of, like every other Bookings
read of the emulator (bookings._business).
"""

from emulator.graph import bookings, common
from emulator.graph.permissions import has_permission

DEFAULT_PAGE = 100
STAFF_FIELDS = ("id", "displayName", "emailAddress", "role")
SERVICE_FIELDS = ("id", "displayName")


def list_businesses(svc, req, match):  # pylint: disable=unused-argument
    principal = req.principal
    if not has_permission(principal, "bookings", "read"):
        return common.access_denied(req)
    with svc.store.lock:
        visible = []
        for business in svc.store.businesses.values():
            if principal.kind == "user":
                user = svc.store.resolve_user(principal.user_id or principal.upn or "") or {}
                if not business.has_member(principal.upn or user.get("userPrincipalName"), user.get("mail")):
                    continue
            visible.append({"id": business.id, "displayName": business.display_name})
    body, err = common.page(req, svc.runtime, visible, DEFAULT_PAGE)
    return err or common.ok(body)


def _items(svc, req, match, attribute, fields, odata_type=None):
    business, err = bookings._business(svc, req, match["business"], "read")  # pylint: disable=protected-access
    if err:
        return err
    with svc.store.lock:
        items = []
        for item in getattr(business, attribute).values():
            out = dict((k, common.clone(item[k])) for k in fields if k in item)
            if odata_type:
                out["@odata.type"] = odata_type
            items.append(out)
    body, err = common.page(req, svc.runtime, items, DEFAULT_PAGE)
    return err or common.ok(body)


def list_staff_members(svc, req, match):
    return _items(svc, req, match, "staff", STAFF_FIELDS, "#microsoft.graph.bookingStaffMember")


def list_services(svc, req, match):
    return _items(svc, req, match, "services", SERVICE_FIELDS)
