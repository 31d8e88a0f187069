# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What really happened: every Graph operation, notification and token request, in order.

Records are what tests assert on, so they must never hold a credential: Authorization and
anything shaped like a secret is dropped before a record is kept.
"""

import threading
import time

from emulator.api import clone

_SECRET_HEADER_WORDS = ("authorization", "cookie", "secret", "token", "password", "identity-header", "assertion")


def safe_headers(headers):
    return {k: v for k, v in (headers or {}).items() if not any(word in k.lower() for word in _SECRET_HEADER_WORDS)}


class Recorder:
    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self):
        with self._lock:
            self._seq = 0
            self._requests = []
            self._notifications = []
            self._token_requests = []
            self._http = []

    def _next(self):
        self._seq += 1
        return self._seq

    def request(self, req, status=None, mailbox=None):
        """Record one Graph operation; returns its seq (top-level ones are finished later)."""
        record = {
            "ts": time.time(), "method": req.method, "version": req.version, "path": req.path,
            "segments": list(req.segments), "query": dict(req.query), "headers": safe_headers(req.headers),
            "body": clone(req.body), "status": status, "in_batch": req.in_batch,
            "batch_request_seq": req.batch_request_seq, "mailbox": mailbox, "client_request_id": req.client_request_id,
        }
        with self._lock:
            record["seq"] = self._next()
            self._requests.append(record)
        return record["seq"]

    def update(self, seq, **fields):
        with self._lock:
            for record in self._requests:
                if record["seq"] == seq:
                    record.update(fields)
                    return

    def notification(self, kind, item_id, container, recipient, role, message):
        with self._lock:
            self._notifications.append({"seq": self._next(), "ts": time.time(), "kind": kind, "item_id": item_id, "container": container,
                                        "recipient": recipient, "role": role, "message": message})

    def token_request(self, grant_type, client_id, status, error):
        # Only these four facts are kept: the form (secrets, assertions, passwords) never is.
        with self._lock:
            self._token_requests.append({"seq": self._next(), "ts": time.time(), "grant_type": grant_type, "client_id": client_id,
                                         "status": status, "error": error})

    def http(self, method, path):
        """Record one HTTP request of any kind but the control API's (Graph, identity, discovery, anything
        unknown): only its method and path, never its query, headers or body."""
        with self._lock:
            self._http.append({"seq": self._next(), "ts": time.time(), "method": method, "path": path})

    def http_requests(self):
        with self._lock:
            return clone(self._http)

    def requests(self):
        with self._lock:
            return clone(self._requests)

    def notifications(self):
        with self._lock:
            return clone(self._notifications)

    def token_requests(self):
        with self._lock:
            return clone(self._token_requests)
