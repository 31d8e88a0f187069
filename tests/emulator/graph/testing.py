# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-process helpers for testing the Graph layer without the HTTPS server: a minimal runtime
(no faults, no throttling unless asked) and a request builder."""

import json
import os
import threading
import time
from urllib.parse import parse_qsl, quote, unquote

from emulator import api

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "tenant.json")


def load_fixture(path=FIXTURE):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class FakeRuntime:
    """Stands in for runtime.py: records operations and notifications, optionally holds each
    operation for `service_s` and answers scripted responses for chosen batch items/paths."""

    def __init__(self, cloud="global", service_s=0.0, mailbox_limit=None):
        self.cloud = cloud
        self.service_s = service_s
        self.mailbox_limit = mailbox_limit
        self.operations = []
        self.notifications = []
        self.scripted = {}  # path -> Response answered instead of running the handler
        self.active = {}
        self.peak = {}
        self._lock = threading.Lock()

    def run_operation(self, request, mailbox, handler):
        with self._lock:
            self.operations.append((request.method, request.path, mailbox, request.in_batch))
            busy = self.active.get(mailbox, 0)
            if self.mailbox_limit is not None and busy >= self.mailbox_limit:
                return api.graph_error(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.",
                                       request, {"Retry-After": "1"})
            self.active[mailbox] = busy + 1
            self.peak[mailbox] = max(self.peak.get(mailbox, 0), busy + 1)
        try:
            if self.service_s:
                time.sleep(self.service_s)
            if request.path in self.scripted:
                return self.scripted[request.path]
            return handler()
        finally:
            with self._lock:
                self.active[mailbox] -= 1

    def notify(self, kind, item_id, container, recipient, role, message):
        with self._lock:
            self.notifications.append({"kind": kind, "item_id": item_id, "container": container,
                                       "recipient": recipient, "role": role, "message": message})


def make_request(method, url, principal, body=None, headers=None, version="v1.0"):
    """A Request as server.py would build it; url is the path after the version, encoded."""
    path, _sep, query = url.partition("?")
    hdrs = {"host": "graph.test:8443"}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    return api.Request(method=method, version=version, path=path,
                       segments=[unquote(s) for s in path.lstrip("/").split("/")],
                       query=dict(parse_qsl(query, keep_blank_values=True)), headers=hdrs, body=body,
                       principal=principal, client_request_id="crid-test")


def seg(value):
    """Percent-encode an id as exactly one path segment."""
    return quote(value, safe="")


# Key ids of fixtures/tenant.json (see fixtures/README.md).
BUSINESS = "contosoclinic@contoso.example"
ADELE_ID, ADELE = "5f1a2c3e-7b4d-4e2a-9c61-0d8e3f4a5b01", "adele.vance@contoso.example"
ALEX_ID, ALEX = "8c2d4e6f-1a3b-4c5d-8e7f-9a0b1c2d3e02", "alex.wilber@contoso.example"
MEGAN_ID, MEGAN = "b7e9c1d3-5f2a-4b6c-8d0e-2f4a6c8e0a03", "megan.bowen@contoso.example"
GROUP_ID = "3d9f6a1b-2c4e-4f8a-b7d6-5e4c3b2a1f10"
APP_ALL = ["Bookings.ReadWrite.All", "Calendars.ReadWrite"]
USER_ALL = ["BookingsAppointment.ReadWrite.All", "Calendars.ReadWrite", "Group.ReadWrite.All"]


def app_principal(roles=None):
    return api.Principal("app", "tenant", "client", roles=list(APP_ALL if roles is None else roles))


def user_principal(upn=ADELE, scopes=None):
    user_id = {ADELE: ADELE_ID, ALEX: ALEX_ID, MEGAN: MEGAN_ID}[upn]
    return api.Principal("user", "tenant", "public", scopes=list(USER_ALL if scopes is None else scopes), user_id=user_id, upn=upn)


def fixture_event(subject, owner=ADELE_ID):
    """The seeded event (raw fixture dict) of a mailbox by subject."""
    for mbx in load_fixture()["mailboxes"]:
        if mbx["owner"] == owner:
            return next(e for e in mbx["events"] if e["subject"] == subject)
    raise KeyError(owner)


def fixture_calendar(name, owner=ADELE_ID):
    mbx = next(m for m in load_fixture()["mailboxes"] if m["owner"] == owner)
    return next(c for c in mbx["calendars"] if c["name"] == name)


def fixture_calendar_group(name, owner=ADELE_ID):
    mbx = next(m for m in load_fixture()["mailboxes"] if m["owner"] == owner)
    return next(c for c in mbx["calendarGroups"] if c["name"] == name)


def follow(service, first, principal):
    """All items of a paged collection, following @odata.nextLink with the same principal."""
    items, resp = [], first
    pages = 0
    while True:
        assert resp.status == 200, resp.body
        items.extend(resp.body["value"])
        pages += 1
        link = resp.body.get("@odata.nextLink")
        if not link:
            return items, pages
        assert link.startswith("https://graph.test:8443/v1.0/") or link.startswith("https://graph.test:8443/beta/"), link
        rest = link.split("/", 3)[3]
        version, _sep, url = rest.partition("/")
        resp = service.handle(make_request("GET", "/" + url, principal, version=version))
