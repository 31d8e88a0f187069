# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which token may do what: the "Who may" row of NOTES.md and the Microsoft permission tables."""

# (area, access) -> (delegated scopes, application roles); any one of them suffices.
_RULES = {
    ("bookings", "read"): (
        {"Bookings.Read.All", "BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All"},
        {"Bookings.Read.All", "Bookings.ReadWrite.All", "Bookings.Manage.All"},
    ),
    ("bookings", "write"): (
        {"BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All"},
        {"Bookings.ReadWrite.All", "Bookings.Manage.All"},
    ),
    ("events", "read"): ({"Calendars.Read", "Calendars.ReadWrite"}, {"Calendars.Read", "Calendars.ReadWrite"}),
    ("events", "write"): ({"Calendars.ReadWrite"}, {"Calendars.ReadWrite"}),
}


def has_permission(principal, area, access):
    if principal is None:
        return False
    delegated, application = _RULES[(area, access)]
    if principal.kind == "user":
        return bool(delegated & set(principal.scopes or []))
    return bool(application & set(principal.roles or []))


def may_touch_mailbox(principal, store, kind, owner):
    """Application permissions reach every mailbox; a delegated token only the signed-in user's own
    mailbox and the groups that user belongs to (shared/delegate access is not modelled)."""
    if principal.kind != "user":
        return True
    if kind == "user":
        return (owner["id"] or "").lower() == (principal.user_id or "").lower()
    user = store.resolve_user(principal.user_id or principal.upn or "")
    return user is not None and user["id"] in owner.get("members", [])
