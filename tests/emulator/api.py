# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Types shared by the emulator's transport layer (server.py) and its Graph layer (graph/).

See docs/dev/architecture.md, "Inside the emulator".
"""

import datetime
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Principal:
    """Who a validated access token speaks for."""

    kind: str  # "app" (client credentials, managed identity) or "user" (delegated)
    tenant_id: str
    client_id: str
    roles: List[str] = field(default_factory=list)  # app permissions
    scopes: List[str] = field(default_factory=list)  # delegated permissions (scp)
    user_id: Optional[str] = None
    upn: Optional[str] = None


@dataclass
class Request:
    """One Graph operation: a top-level HTTP request or one item of a $batch."""

    method: str
    version: str  # "v1.0" or "beta"
    path: str  # as received, still percent-encoded, without version and query
    segments: List[str]  # path segments after the version, percent-decoded exactly once
    query: Dict[str, str]
    headers: Dict[str, str]  # lower-cased names; never holds Authorization once recorded
    body: Any = None  # parsed JSON or None
    principal: Optional[Principal] = None
    client_request_id: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    in_batch: bool = False
    batch_item_id: Optional[str] = None
    batch_request_seq: Optional[int] = None
    # The record seq the transport layer gave a top-level request; batch items set
    # batch_request_seq to their $batch request's seq instead.
    seq: Optional[int] = None

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def wants_immutable_ids(self):
        prefer = self.header("prefer", "") or ""
        return 'idtype="immutableid"' in prefer.replace(" ", "").lower()


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list (sent as JSON), bytes (sent raw) or None (no body)
    headers: Dict[str, str] = field(default_factory=dict)
    # Set by the fault engine for the transport layer: "reset" (close without answering) or
    # "slow:<seconds>"; only honoured on top-level requests.
    transport_fault: Optional[str] = None
    # Set by the fault engine for the $batch layer (the operation ran): "batch_repeat_429" (its answer
    # then a copy saying 429), "batch_missing" (no answer for it), "batch_unknown_id" (answered under an
    # id never sent). Ignored outside a $batch.
    batch_fault: Optional[str] = None

    def json_bytes(self):
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode("utf-8")


def http_date(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%a, %d %b %Y %H:%M:%S GMT")


def graph_error(status, code, message, request, headers=None):
    """The error body Microsoft Graph sends, with innerError ids for support."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": now,
                "request-id": request.request_id if request else str(uuid.uuid4()),
                # Graph always answers one: the client's, or one it made up (RULES.md, "Request ids").
                "client-request-id": (request.client_request_id if request else "") or str(uuid.uuid4()),
            },
        }
    }
    resp_headers = {"Content-Type": "application/json"}
    resp_headers.update(headers or {})
    return Response(status=status, body=body, headers=resp_headers)


def clone(value):
    """A deep copy of JSON-shaped data (dicts, lists, scalars): several times faster than
    copy.deepcopy, which matters when a benchmark reads thousands of items per second."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value
