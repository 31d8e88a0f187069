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
