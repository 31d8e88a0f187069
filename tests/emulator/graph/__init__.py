# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's Graph domain layer: tenant state, Bookings, Outlook events, $batch, routing.

The transport layer (server.py) hands every Graph request to ``GraphService.handle`` once the
token is valid; see docs/dev/architecture.md, "Inside the emulator".
"""

from emulator.graph import routing
from emulator.graph.batch import handle_batch
from emulator.graph.bookings import render as render_appointment
from emulator.graph.common import bad_request
from emulator.graph.store import Store

__all__ = ["GraphService"]

VERSIONS = ("v1.0", "beta")


class GraphService:
    def __init__(self, runtime, cloud="global"):
        self.runtime = runtime
        self.cloud = cloud
        self.store = Store()

    def load(self, fixture):
        """Merge a seed fixture (format: see store.py)."""
        self.store.load(fixture)

    def handle(self, request):
        """Answer one top-level Graph request (a $batch included)."""
        if request.version not in VERSIONS:
            return bad_request(request, "Invalid version: %s" % request.version)
        if [s.lower() for s in request.segments] == ["$batch"]:
            if request.method.upper() != "POST":
                return bad_request(request, "Only POST is supported for $batch.")
            return handle_batch(self, request)
        return self.dispatch(request)

    def dispatch(self, request):
        """One Graph operation (top-level or batch item), always through runtime.run_operation."""
        if [s.lower() for s in request.segments] == ["$batch"]:
            return self._run(request, None, lambda: bad_request(request, "Nested batch requests are not supported."))
        route, args = routing.resolve(request, self.cloud)
        if route is None:
            error = args
            return self._run(request, None, lambda: error)
        return self._run(request, self._mailbox(request, route, args), lambda: route.handler(self, request, args))

    def _run(self, request, mailbox, handler):
        return self.runtime.run_operation(request, mailbox, lambda *_a, **_k: handler())

    def _mailbox(self, request, route, args):
        """The mailbox whose concurrency slot the operation takes (NOTES: a Bookings business is a
        mailbox too): lower-cased business id, or the resolved user / group id."""
        if route.area == "bookings":
            return args.get("business", "").lower() or None  # the list of businesses is no one mailbox
        kind = args["owner_kind"]
        if kind == "me":
            principal = request.principal
            return principal.user_id if principal is not None and principal.kind == "user" else None
        if kind == "users":
            user = self.store.resolve_user(args["owner"])
            return user["id"] if user else args["owner"].lower()
        group = self.store.resolve_group(args["owner"])
        return group["id"] if group else args["owner"].lower()

    def appointments_state(self, business_id):
        """Current appointments of a business in the v1.0 shape ([] for an unknown business)."""
        with self.store.lock:
            business = self.store.business(business_id)
            return [render_appointment(a, "v1.0") for a in business.appointments.values()] if business else []

    def events_state(self, owner):
        """Stored events (singles and series masters) of a user (id or UPN) or group mailbox, with
        both ids, the folder and the cancelled occurrence dates."""
        with self.store.lock:
            _kind, who = self.store.resolve_owner(owner)
            mbx = self.store.mailboxes.get(who["id"]) if who else None
            if mbx is None:
                return []
            out = []
            for rec in mbx.events.values():
                item = {k: v for k, v in rec.data.items() if not k.startswith("_")}
                item.update({"id": rec.default_id, "immutableId": rec.immutable_id, "parentFolder": rec.folder,
                             "calendarId": rec.calendar_id, "cancelledOccurrenceDates": list(rec.data["_cancelledDates"])})
                out.append(item)
            return out

    def directory(self):
        return self.store.directory()
