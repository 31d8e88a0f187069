# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route table of the Graph layer and the matcher.

Templates are written with the parameter names of the OpenAPI subsets
(tests/emulator/contract/graph-subset-*.json) so tests/integration/emulator/test_contract.py can compare them
verbatim. Routes that are real Graph but absent from the subsets carry ``in_subset=False`` and
must be listed in that test's allow-list.
"""

from emulator import api
from emulator.graph import booking_directory, bookings, common, event_update, events

# Path parameter name in the subsets -> key handed to the handler.
PARAM_KEYS = {
    "bookingBusiness-id": "business",
    "bookingAppointment-id": "appointment",
    "user-id": "owner",
    "group-id": "owner",
    "event-id": "event",
    "calendar-id": "calendar",
    "calendarGroup-id": "calendarGroup",
}


class Route:
    def __init__(self, method, versions, template, handler, area, extra=None, in_subset=True):
        self.method = method
        self.versions = versions
        self.template = template
        self.parts = template.strip("/").split("/")
        self.handler = handler
        self.area = area  # "bookings" or "events"
        self.extra = extra or {}
        self.in_subset = in_subset
        # Body parameters the handler accepts (actions only), for the contract test.
        self.body_params = {bookings.cancel_appointment: bookings.CANCEL_PARAMS, events.cancel_event: events.CANCEL_PARAMS}.get(handler, [])

    def match(self, segments):
        """Handler arguments when segments fit the template, else None."""
        if len(segments) != len(self.parts):
            return None
        out = dict(self.extra)
        for part, seg in zip(self.parts, segments):
            if part.startswith("{"):
                if not seg:
                    return None
                out[PARAM_KEYS[part[1:-1]]] = seg
            elif not _literal_eq(part, seg):
                return None
        return out

    def prefix_len(self, segments):
        n = 0
        for part, seg in zip(self.parts, segments):
            if part.startswith("{") and seg or not part.startswith("{") and _literal_eq(part, seg):
                n += 1
            else:
                break
        return n


def _literal_eq(part, seg):
    # Graph matches segment names case-insensitively and accepts namespace-qualified actions.
    seg = seg.lower()
    return seg == part.lower() or (part == "cancel" and seg == "microsoft.graph.cancel")


def _build():
    both = ("v1.0", "beta")
    routes = []
    booking_prefixes = [("/solutions/bookingBusinesses", both), ("/bookingBusinesses", ("beta",))]
    for prefix, versions in booking_prefixes:
        base = prefix + "/{bookingBusiness-id}"
        routes += [
            Route("GET", versions, base + "/appointments", bookings.list_appointments, "bookings"),
            Route("GET", versions, base + "/appointments/{bookingAppointment-id}", bookings.get_appointment, "bookings"),
            Route("POST", versions, base + "/appointments/{bookingAppointment-id}/cancel", bookings.cancel_appointment, "bookings"),
            Route("GET", versions, base + "/calendarView", bookings.calendar_view, "bookings"),
            Route("GET", versions, base + "/calendarView/{bookingAppointment-id}", bookings.get_appointment, "bookings"),
            Route("POST", versions, base + "/calendarView/{bookingAppointment-id}/cancel", bookings.cancel_appointment, "bookings"),
        ]
    # issue 18: booking_business_info (booking_directory.py).
    routes += [
        Route("GET", both, "/solutions/bookingBusinesses", booking_directory.list_businesses, "bookings"),
        Route("GET", both, "/solutions/bookingBusinesses/{bookingBusiness-id}/staffMembers", booking_directory.list_staff_members, "bookings"),
        Route("GET", both, "/solutions/bookingBusinesses/{bookingBusiness-id}/services", booking_directory.list_services, "bookings"),
    ]
    for kind, owner in (("me", "/me"), ("users", "/users/{user-id}"), ("groups", "/groups/{group-id}")):
        in_subset = kind != "groups"  # group reads are real Graph, absent from the subsets
        ex = {"owner_kind": kind}
        routes += [
            Route("GET", both, owner + "/events", events.list_events, "events", ex, in_subset=False),
            Route("GET", both, owner + "/events/{event-id}", events.get_event, "events", ex, in_subset),
            # issue 18: ending a series is a PATCH of its master's recurrence (event_update.py).
            Route("PATCH", both, owner + "/events/{event-id}", event_update.update_event, "events", ex, in_subset),
            Route("GET", both, owner + "/calendarView", events.calendar_view, "events", ex, in_subset),
            Route("GET", both, owner + "/events/{event-id}/instances", events.instances, "events", ex, in_subset),
            Route("POST", both, owner + "/events/{event-id}/cancel", events.cancel_event, "events", dict(ex, container="events")),
            Route("POST", both, owner + "/calendar/events/{event-id}/cancel", events.cancel_event, "events", dict(ex, container="calendar")),
        ]
        if kind != "groups":
            routes += [
                Route("POST", both, owner + "/calendars/{calendar-id}/events/{event-id}/cancel", events.cancel_event, "events",
                      dict(ex, container="calendars")),
                Route("POST", both, owner + "/calendarGroups/{calendarGroup-id}/calendars/{calendar-id}/events/{event-id}/cancel",
                      events.cancel_event, "events", dict(ex, container="calendarGroups")),
            ]
    return routes


ROUTES = _build()


def resolve(req, cloud):
    """(route, handler args) or (None, error Response) for a request."""
    segments = req.segments
    if cloud == "china":
        # NOTES: Bookings is not offered by 21Vianet. The service there does not know the entity
        # set, so the OData layer answers as for any unknown segment: 400, not 404 (a 404 would
        # read as "appointment absent" to a client).
        for pos in (0, 1):
            if len(segments) > pos and segments[pos].lower() == "bookingbusinesses":
                return None, common.bad_request(req, "Resource not found for the segment '%s'." % segments[pos])
    candidates = [r for r in ROUTES if req.version in r.versions]
    allowed = []
    for route in candidates:
        args = route.match(segments)
        if args is None:
            continue
        if route.method == req.method.upper():
            return route, args
        allowed.append(route.method)
    if allowed:
        resp = api.graph_error(405, "BadRequest", "Specified HTTP method is not allowed for the request uri.", req)
        resp.headers["Allow"] = ", ".join(sorted(set(allowed)))
        return None, resp
    longest = max((r.prefix_len(segments) for r in candidates), default=0)
    bad = segments[min(longest, len(segments) - 1)] if segments else ""
    return None, common.bad_request(req, "Resource not found for the segment '%s'." % bad)
