# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scripted HTTP for the client and authenticator tests: a requests transport adapter, mounted on
the one session MSAL and the Graph client share, answers from a handler, and every request is
recorded exactly as it would have gone on the wire (method, URL, headers, body). No emulator."""

import json
import threading

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import GraphClient
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import new_session
from ansible_collections.graphops.msgraph.plugins.module_utils._version import USER_AGENT

ENDPOINT = "https://graph.test"


def make_response(request, status, body=None, headers=None, text=None):
    resp = requests.Response()
    resp.status_code = status
    resp.headers = CaseInsensitiveDict(headers or {})
    if text is not None:
        resp._content = text.encode("utf-8")
    elif body is not None:
        resp._content = json.dumps(body).encode("utf-8")
        resp.headers.setdefault("Content-Type", "application/json")
    else:
        resp._content = b""
    resp.request = request
    resp.url = request.url
    resp.encoding = "utf-8"
    return resp


class Recorded:
    def __init__(self, method, url, headers, raw):
        self.method = method
        self.url = url
        self.headers = dict(headers)
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        self.raw_body = raw
        try:
            self.body = json.loads(raw) if raw else None
        except ValueError:
            self.body = raw

    def __repr__(self):
        return "<%s %s>" % (self.method, self.url)


class ScriptedAdapter(BaseAdapter):
    """handler(recorded) -> (status, body, headers) | requests.Response | raises an exception."""

    def __init__(self, handler):
        super().__init__()
        self.handler = handler
        self.requests = []
        self.lock = threading.Lock()

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        rec = Recorded(request.method, request.url, request.headers, request.body)
        rec.verify = kwargs.get("verify")
        with self.lock:
            self.requests.append(rec)
        out = self.handler(rec)
        if isinstance(out, requests.Response):
            return out
        status, body, headers = (tuple(out) + (None, None))[:3]
        # Graph answers every request with a request-id; a script leaves it out only on purpose (None).
        headers = dict({"request-id": "req-%d" % len(self.requests)}, **(headers or {}))
        headers = dict((k, v) for k, v in headers.items() if v is not None)
        if isinstance(body, str):
            return make_response(request, status, text=body, headers=headers)
        return make_response(request, status, body, headers)

    def close(self):
        pass


def transport_error(kind, message, sent):
    """The exception requests raises for a request that got no answer, as a handler raises it:
    kind timeout (sent), connection_error (sent: reset or cut short; not sent: refused), tls_error."""
    if kind == "timeout":
        return requests.exceptions.ReadTimeout(message)
    if kind == "tls_error":
        return requests.exceptions.SSLError(message)
    if kind == "connection_error" and not sent:
        return requests.exceptions.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, message)))
    if kind == "connection_error":
        return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", message))
    raise ValueError(kind)


def scripted_session(adapter, timeout=5):
    """The module run's session (_graph_session.new_session) with the scripted adapter mounted."""
    session = new_session(True, timeout, USER_AGENT)
    session.mount("https://", adapter)
    return session


class SequenceHandler:
    """Answers in order from a list; an Exception entry is raised."""

    def __init__(self, answers):
        self.answers = list(answers)

    def __call__(self, rec):
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(rec)
        return answer


class FakeTokens:
    def __init__(self):
        self.issued = 0
        self.invalidated = []

    def get_token(self):
        if not hasattr(self, "current"):
            self.issued += 1
            self.current = "tok-%d" % self.issued
        return self.current

    def invalidate(self, token):
        self.invalidated.append(token)
        if getattr(self, "current", None) == token:
            del self.current


class Sleeper:
    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


@pytest.fixture
def tokens():
    return FakeTokens()


@pytest.fixture
def sleeper():
    return Sleeper()


@pytest.fixture
def make_client(tokens, sleeper):
    """make_client(handler, **overrides) -> (client, adapter); sleeps are recorded, not slept, unless real_sleep."""

    def factory(handler, real_sleep=False, **overrides):
        kwargs = dict(endpoint=ENDPOINT, api_version="v1.0", token_provider=tokens, verify=True, timeout=5, retries=3,
                      max_wait=60, user_agent=USER_AGENT, rand=lambda: 0.5)
        if not real_sleep:
            kwargs["sleep"] = sleeper
            # A clock that moves with the fake sleeps, so "due" times are reached at once.
            clock = {"t": 1000.0}

            def fake_sleep(seconds):
                sleeper(seconds)
                clock["t"] += seconds
            kwargs["sleep"] = fake_sleep
            kwargs["clock"] = lambda: clock["t"]
        kwargs.update(overrides)
        adapter = ScriptedAdapter(handler if callable(handler) else SequenceHandler(handler))
        client = GraphClient(session=scripted_session(adapter, kwargs["timeout"]), **kwargs)
        return client, adapter

    return factory


class BatchServer:
    """Plays Graph's $batch: item(rec_item) -> (status, body, headers) per item; direct calls go to item() too."""

    def __init__(self, item):
        self.item = item
        self.batches = []
        self.direct = []
        self.lock = threading.Lock()

    def __call__(self, rec):
        if rec.url.endswith("/$batch"):
            with self.lock:
                self.batches.append(rec)
            reqs = rec.body["requests"]
            if len(reqs) > 20:
                return 400, {"error": {"code": "BadRequest", "message": "too many"}}
            responses, statuses = [], {}
            for sub in reqs:  # a dependsOn names an earlier item (the client only chains forward)
                failed_dependency = [d for d in sub.get("dependsOn") or [] if not 200 <= statuses[d] < 300]
                if failed_dependency:
                    # Graph does not run a dependant of a failed item: 424, the item handler never sees it.
                    status, body, headers = 424, {"error": {"code": "FailedDependency", "message": "dep"}}, None
                else:
                    status, body, headers = (tuple(self.item(sub)) + (None, None))[:3]
                statuses[sub["id"]] = status
                entry = {"id": sub["id"], "status": status, "headers": headers or {}}
                if body is not None:
                    entry["body"] = body
                responses.append(entry)
            return 200, {"responses": list(reversed(responses))}  # completion order, not request order
        with self.lock:
            self.direct.append(rec)
        sub = {"id": None, "method": rec.method, "url": rec.url[len(ENDPOINT + "/v1.0"):], "body": rec.body,
               "headers": rec.headers}
        return self.item(sub)


@pytest.fixture
def batch_server():
    return BatchServer
