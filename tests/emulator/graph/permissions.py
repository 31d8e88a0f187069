# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which token may do what: the one permission table of the emulator.

Sources (tests/emulator/contract/RULES.md repeats this table with the pages it comes from, and
tests/integration/emulator/test_rules.py checks that both say the same):
https://learn.microsoft.com/graph/api/bookingappointment-get, bookingappointment-cancel,
bookingbusiness-list-calendarview, event-get, event-cancel, user-list-calendarview,
event-list-instances, group-get-event, group-list-calendarview.
"""

# (area, access) -> (delegated scopes, application roles); any one of them suffices. An empty
# application set means Microsoft documents application permissions as "not supported": an
# app-only token gets 403 ErrorAccessDenied whatever roles it carries.
RULES = {
    ("bookings", "read"): (
        frozenset({"Bookings.Read.All", "BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All"}),
        frozenset({"Bookings.Read.All", "Bookings.ReadWrite.All", "Bookings.Manage.All"}),
    ),
    ("bookings", "write"): (
        frozenset({"BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All"}),
        frozenset({"Bookings.ReadWrite.All", "Bookings.Manage.All"}),
    ),
    ("events", "read"): (
        frozenset({"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"}),
        frozenset({"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"}),
    ),
    ("events", "write"): (frozenset({"Calendars.ReadWrite"}), frozenset({"Calendars.ReadWrite"})),
    # Group calendars: delegated only (NOTES, "Group calendars are delegated only").
    ("group_events", "read"): (frozenset({"Group.Read.All", "Group.ReadWrite.All"}), frozenset()),
    ("group_events", "write"): (frozenset({"Group.ReadWrite.All"}), frozenset()),
}

# Every Graph permission name the emulator's Entra knows, for named delegated scopes
# (<graph endpoint>/<name>): a name outside this set is an invalid scope (AADSTS70011).
KNOWN_SCOPES = frozenset(set().union(*(d | a for d, a in RULES.values())) | {"User.Read"})


def has_permission(principal, area, access):
    if principal is None:
        return False
    delegated, application = RULES[(area, access)]
    if principal.kind == "user":
        return bool(delegated & set(principal.scopes or []))
    return bool(application & set(principal.roles or []))


def may_touch_mailbox(principal, store, kind, owner):
    """Application permissions reach every user mailbox; a delegated token only the signed-in
    user's own mailbox and the groups that user belongs to (shared/delegate access is not modelled)."""
    if principal.kind != "user":
        return kind == "user"
    if kind == "user":
        return (owner["id"] or "").lower() == (principal.user_id or "").lower()
    user = store.resolve_user(principal.user_id or principal.upn or "")
    return user is not None and user["id"] in owner.get("members", [])
