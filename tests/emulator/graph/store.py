# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-memory tenant state of the Graph emulator, and the seed fixture format.

Fixture format (``tests/emulator/fixtures/*.json``; also the body of ``POST /_emulator/seed``).
Every top-level key is optional; loading merges into the current state (same id = replace)::

    {
      "users":  [{"id": "<guid>", "userPrincipalName": "...", "displayName": "...",
                  "mail": "...", "password": "...",
                  "role": "organizer" | "attendee" (optional: names the user in the connection file)}],
      "groups": [{"id": "<guid>", "displayName": "...", "mail": "...", "members": ["<user id>"]}],
      "bookingBusinesses": [{
          "id": "name@domain", "displayName": "...",
          "services": [{"id", "displayName"}],
          "staffMembers": [{"id", "displayName", "emailAddress", "role"}],
          "customers": [{"id", "displayName", "emailAddress"}],
          "appointments": [<bookingAppointment in the v1.0 shape: startDateTime/endDateTime>]}],
      "mailboxes": [{
          "owner": "<user id, UPN or group id>",
          "calendarGroups": [{"id", "name"}],
          "calendars": [{"id", "name", "isDefaultCalendar": bool, "calendarGroupId": "..."}],
          "events": [<event as Graph returns it, in UTC, plus the emulator-only keys
                      "calendarId" (default: the default calendar), "immutableId" (default:
                      derived from id) and "parentFolder" (default "calendar")>]}]
    }

A series master carries ``type: "seriesMaster"`` and a ``recurrence`` (pattern daily/weekly,
range endDate/numbered/noEnd); its occurrences are never stored, they are expanded on demand
(see recurrence.py). Appointments are kept in the v1.0 shape and rendered as beta on the way out.
Outlook items have two ids (NOTES "Outlook ids change when an item moves"): the default id, which
is re-minted when the item moves to Deleted Items, and the immutable id, which never changes.
"""

import base64
import hashlib
import threading
import uuid

from emulator import api


def _b64(raw):
    return base64.urlsafe_b64encode(raw).decode("ascii")


def mint_default_id(seed=None):
    """A default (movable) Outlook id: opaque base64, like Exchange's 'AAMk...' ids."""
    raw = (seed or str(uuid.uuid4())).encode("utf-8")
    return "AAMkAD" + _b64(hashlib.sha256(b"default:" + raw).digest()[:30])


def derive_immutable_id(default_id):
    """The immutable id of a seeded item, derived so fixtures need not list it ('AAkALg...')."""
    return "AAkALg" + _b64(hashlib.sha256(b"immutable:" + default_id.encode("utf-8")).digest()[:30])


class Business:
    def __init__(self, data):
        self.id = data["id"]
        self.display_name = data.get("displayName", self.id)
        self.services = {s["id"]: dict(s) for s in data.get("services", [])}
        self.staff = {s["id"]: dict(s) for s in data.get("staffMembers", [])}
        self.customers = {c["id"]: dict(c) for c in data.get("customers", [])}
        self.appointments = {}  # id -> v1.0-shaped dict, insertion ordered

    def merge(self, data):
        self.display_name = data.get("displayName", self.display_name)
        self.services.update({s["id"]: dict(s) for s in data.get("services", [])})
        self.staff.update({s["id"]: dict(s) for s in data.get("staffMembers", [])})
        self.customers.update({c["id"]: dict(c) for c in data.get("customers", [])})
        for appt in data.get("appointments", []):
            self.appointments[appt["id"]] = api.clone(appt)

    def has_member(self, upn, mail=None):
        """A delegated caller must be a staff member of the business (NOTES: ErrorFolderNotFound)."""
        names = {(upn or "").lower(), (mail or "").lower()} - {""}
        return any((s.get("emailAddress") or "").lower() in names for s in self.staff.values())


class EventRecord:
    """One stored Outlook event (single instance or series master) in one mailbox."""

    def __init__(self, data, default_calendar_id):
        data = api.clone(data)
        self.default_id = data.pop("id")
        self.immutable_id = data.pop("immutableId", None) or derive_immutable_id(self.default_id)
        self.calendar_id = data.pop("calendarId", None) or default_calendar_id
        self.folder = data.pop("parentFolder", "calendar")
        data.setdefault("isCancelled", False)
        # Dates (YYYY-MM-DD) of cancelled occurrences; rendered as Graph's cancelledOccurrences.
        data["_cancelledDates"] = list(data.pop("_cancelledDates", []))
        data.pop("cancelledOccurrences", None)
        data.setdefault("seriesMasterId", None)
        data.setdefault("type", "singleInstance")
        self.data = data


class Mailbox:
    def __init__(self, owner_id, owner_kind):
        self.owner_id = owner_id
        self.owner_kind = owner_kind  # "user" or "group"
        self.calendar_groups = {}  # id -> {"id", "name"}
        self.calendars = {}  # id -> {"id", "name", "isDefaultCalendar", "calendarGroupId"}
        self.events = {}  # immutable id -> EventRecord
        self.by_default_id = {}  # current default id -> immutable id

    @property
    def default_calendar_id(self):
        for cal in self.calendars.values():
            if cal.get("isDefaultCalendar"):
                return cal["id"]
        # Every mailbox has a default calendar; make one when the seed names none.
        cal_id = mint_default_id("calendar:" + self.owner_id)
        self.calendars[cal_id] = {"id": cal_id, "name": "Calendar", "isDefaultCalendar": True}
        return cal_id

    def merge(self, data):
        for grp in data.get("calendarGroups", []):
            self.calendar_groups[grp["id"]] = dict(grp)
        for cal in data.get("calendars", []):
            self.calendars[cal["id"]] = dict(cal)
        default_cal = self.default_calendar_id
        for raw in data.get("events", []):
            self.add_event(EventRecord(raw, default_cal))

    def add_event(self, rec):
        old = self.events.get(rec.immutable_id)
        if old is not None:
            self.by_default_id.pop(old.default_id, None)
        self.events[rec.immutable_id] = rec
        self.by_default_id[rec.default_id] = rec.immutable_id

    def find(self, any_id):
        """Graph accepts either id format on input (NOTES)."""
        rec = self.events.get(any_id)
        if rec is None and any_id in self.by_default_id:
            rec = self.events.get(self.by_default_id[any_id])
        return rec

    def move_to_deleted_items(self, rec):
        """Cancel moves the organizer's copy to Deleted Items: a new default id, same immutable id."""
        self.by_default_id.pop(rec.default_id, None)
        rec.default_id = mint_default_id()
        rec.folder = "deleteditems"
        self.by_default_id[rec.default_id] = rec.immutable_id


class Store:
    """All tenant state. One re-entrant lock guards every read-modify-write (batch items run in threads)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.users = {}  # id -> dict
        self.groups = {}  # id -> dict
        self.businesses = {}  # lower-cased id -> Business
        self.mailboxes = {}  # owner id -> Mailbox

    def load(self, fixture):
        with self.lock:
            for user in fixture.get("users", []):
                self.users[user["id"]] = dict(user)
            for group in fixture.get("groups", []):
                self.groups[group["id"]] = dict(group)
            for data in fixture.get("bookingBusinesses", []):
                key = data["id"].lower()
                if key not in self.businesses:
                    self.businesses[key] = Business(data)
                self.businesses[key].merge(data)
            for data in fixture.get("mailboxes", []):
                kind, owner = self.resolve_owner(data["owner"])
                if owner is None:
                    raise ValueError("fixture mailbox owner %r is neither a seeded user nor group" % data["owner"])
                if owner["id"] not in self.mailboxes:
                    self.mailboxes[owner["id"]] = Mailbox(owner["id"], kind)
                self.mailboxes[owner["id"]].merge(data)

    def resolve_user(self, id_or_upn):
        if id_or_upn in self.users:
            return self.users[id_or_upn]
        wanted = (id_or_upn or "").lower()
        for user in self.users.values():
            if user["id"].lower() == wanted or user.get("userPrincipalName", "").lower() == wanted:
                return user
        return None

    def resolve_group(self, group_id):
        wanted = (group_id or "").lower()
        for group in self.groups.values():
            if group["id"].lower() == wanted:
                return group
        return None

    def resolve_owner(self, ref):
        user = self.resolve_user(ref)
        if user is not None:
            return "user", user
        group = self.resolve_group(ref)
        if group is not None:
            return "group", group
        return None, None

    def mailbox(self, owner_id, kind="user"):
        with self.lock:
            if owner_id not in self.mailboxes:
                self.mailboxes[owner_id] = Mailbox(owner_id, kind)
            return self.mailboxes[owner_id]

    def business(self, business_id):
        return self.businesses.get((business_id or "").lower())

    def directory(self):
        with self.lock:
            return {
                # "role" (organizer/attendee) lets the connection file name the seeded users.
                "users": [{k: u[k] for k in ("id", "userPrincipalName", "displayName", "password", "role") if k in u}
                          for u in self.users.values()],
                "groups": [{k: g.get(k) for k in ("id", "displayName", "mail")} for g in self.groups.values()],
                "businesses": [{"id": b.id, "displayName": b.display_name} for b in self.businesses.values()],
            }
