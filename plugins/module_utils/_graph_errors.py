# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Every failure of the connection layer, mapped once.

Graph answers errors as {"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}} (https://learn.microsoft.com/en-us/graph/errors). Modules branch on the
exception class and on .code, never on .message; one formatter (GraphModule.fail_graph) reports
the rest. Nothing here ever holds a secret or a token: messages come from Graph or MSAL, and
redact() strips anything that looks like a bearer token or a JWT before it is stored.
"""

from __future__ import annotations

import re

# A JWT (three base64url parts) or an "Authorization: Bearer ..." value: never echoed back.
_SECRET_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)(bearer\s+)[^\s,;\"']+"),
    re.compile(r"(?i)((?:client_secret|password|access_token|refresh_token|client_assertion)[\"']?\s*[=:]\s*[\"']?)[^\s&,;\"']+"),
)
REDACTED = "********"
_registered_secrets = set()


def register_secret(value):
    """Remember a secret value (client secret, password, token) so redact() removes it anywhere."""
    if isinstance(value, str) and len(value) >= 4:
        _registered_secrets.add(value)


def redact(text):
    """Return text with every registered secret and anything token-like replaced by ********."""
    if text is None:
        return None
    text = str(text)
    for secret in sorted(_registered_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _SECRET_PATTERNS[0].sub(REDACTED, text)
    text = _SECRET_PATTERNS[1].sub(lambda m: m.group(1) + REDACTED, text)
    text = _SECRET_PATTERNS[2].sub(lambda m: m.group(1) + REDACTED, text)
    return text


class GraphLayerError(Exception):
    """Base of everything the connection layer raises on purpose."""

    def to_dict(self):
        return {"type": type(self).__name__, "message": str(self)}


class ConfigurationError(GraphLayerError):
    """Options that can not work; raised before any request is sent. option names the culprit."""

    def __init__(self, message, option=None):
        self.message = redact(message)
        self.option = option
        super().__init__(self.message)

    def __repr__(self):
        return "{0}({1!r}, option={2!r})".format(type(self).__name__, self.message, self.option)

    def to_dict(self):
        return {"type": type(self).__name__, "message": self.message, "option": self.option}


class InvalidInputError(ConfigurationError):
    """A value the user gave that the task refuses: an id (see _ids.py), a date, a window, an owner.

    option names the option at fault ("event_ids", "match.start", "occurrence.date") and the
    message always names it: a message that does not is prefixed with it. Raised before any
    request wherever the value alone shows it (a few only once Graph answered, such as a day on
    which a series has no occurrence). Modules report it through GraphModule.fail_input().
    """

    def __init__(self, message, option):
        if option and option not in message:
            message = "{0}: {1}".format(option, message)
        super().__init__(message, option=option)


class AuthenticationError(GraphLayerError):
    """MSAL (or the managed identity endpoint) refused to give a token.

    MSAL returns errors as dicts, it does not raise: see from_msal().
    """

    def __init__(self, error, error_description=None, correlation_id=None, method=None, status=None):
        self.error = redact(error) or "authentication_failed"
        self.error_description = redact(error_description)
        self.correlation_id = correlation_id
        self.method = method
        self.status = status
        super().__init__(self._text())

    @classmethod
    def from_msal(cls, result, method=None):
        result = result or {}
        return cls(result.get("error") or "no_token", result.get("error_description"),
                   result.get("correlation_id"), method=method, status=result.get("status"))

    def _text(self):
        text = "Authentication failed"
        if self.method:
            text += " ({0})".format(self.method)
        text += ": " + self.error
        if self.error_description:
            # MSAL descriptions run over several lines (trace ids, timestamps): keep the first.
            text += ": " + self.error_description.strip().splitlines()[0]
        if self.correlation_id:
            text += " (correlation-id {0})".format(self.correlation_id)
        return text

    def __str__(self):
        return self._text()

    def __repr__(self):
        return "AuthenticationError(error={0!r}, correlation_id={1!r})".format(self.error, self.correlation_id)

    def to_dict(self):
        return {"type": "AuthenticationError", "error": self.error, "error_description": self.error_description,
                "correlation_id": self.correlation_id, "auth_method": self.method, "message": str(self)}


class GraphError(GraphLayerError):
    """An HTTP exchange with Graph that did not give what was asked for."""

    def __init__(self, status, code=None, message=None, request_id=None, client_request_id=None,
                 date=None, method=None, url=None, attempts=None, retry_after=None, note=None):
        self.status = status
        self.code = code
        self.message = redact(message)
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.date = date
        self.method = method
        self.url = redact(url)
        self.attempts = attempts
        self.retry_after = retry_after
        self.note = note
        super().__init__(self.__str__())

    def __str__(self):
        head = "HTTP {0}".format(self.status) if self.status is not None else "Request failed"
        if self.code:
            head += " " + self.code
        text = head + ": " + (self.message or "(no message)")
        ids = []
        if self.request_id:
            ids.append("request-id " + self.request_id)
        if self.client_request_id:
            ids.append("client-request-id " + self.client_request_id)
        if ids:
            text += " (" + ", ".join(ids) + ")"
        if self.attempts and self.attempts > 1:
            text += "; gave up after {0} attempts".format(self.attempts)
        if self.note:
            text += "; " + self.note
        return text

    def __repr__(self):
        return "{0}(status={1!r}, code={2!r}, request_id={3!r}, client_request_id={4!r})".format(
            type(self).__name__, self.status, self.code, self.request_id, self.client_request_id)

    def to_dict(self):
        return {
            "type": type(self).__name__,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
            "client_request_id": self.client_request_id,
            "date": self.date,
            "method": self.method,
            "url": self.url,
            "attempts": self.attempts,
            "note": self.note,
        }


class GraphBadRequest(GraphError):
    """400."""


class GraphUnauthorized(GraphError):
    """401 (after one token refresh)."""


class GraphForbidden(GraphError):
    """403: the app or user lacks the permission (or, for Bookings, membership)."""


class GraphNotFound(GraphError):
    """404."""


class GraphFailedDependency(GraphError):
    """424: a $batch item whose dependency failed."""


class GraphThrottled(GraphError):
    """429 that outlasted retries or max_wait."""


class GraphServerError(GraphError):
    """5xx."""


class GraphTransportError(GraphError):
    """No HTTP answer: connection refused or reset, TLS failure, timeout. status is None."""

    def __init__(self, message, method=None, url=None, client_request_id=None, attempts=None, kind=None):
        self.kind = kind
        super().__init__(None, code=kind, message=message, client_request_id=client_request_id,
                         method=method, url=url, attempts=attempts)


_BY_STATUS = {400: GraphBadRequest, 401: GraphUnauthorized, 403: GraphForbidden, 404: GraphNotFound,
              424: GraphFailedDependency, 429: GraphThrottled}


def error_class_for(status):
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status is not None and status >= 500:
        return GraphServerError
    return GraphError


def parse_error_body(body):
    """Return (code, message, inner) from a Graph error body (dict, or anything else)."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        inner = err.get("innerError") or err.get("innererror") or {}
        if not isinstance(inner, dict):
            inner = {}
        return err.get("code"), err.get("message"), inner
    return None, None, {}


def graph_error_from(status, body, headers=None, method=None, url=None, client_request_id=None, attempts=None):
    """Build the right GraphError subclass from a status, a decoded body and the response headers."""
    headers = headers or {}
    code, message, inner = parse_error_body(body)
    if message is None and isinstance(body, str) and body.strip():
        message = body.strip()[:300]
    return error_class_for(status)(
        status, code=code, message=message,
        request_id=headers.get("request-id") or inner.get("request-id"),
        client_request_id=headers.get("client-request-id") or inner.get("client-request-id") or client_request_id,
        date=headers.get("Date") or inner.get("date"),
        method=method, url=url, attempts=attempts,
        retry_after=headers.get("Retry-After"))


def error_dict(error):
    """The structured error of one item's failure (result["failures"][].error): to_dict(), or a plain message."""
    if hasattr(error, "to_dict"):
        return error.to_dict()
    return {"status": None, "code": None, "message": str(error) if error is not None else "unknown error"}
