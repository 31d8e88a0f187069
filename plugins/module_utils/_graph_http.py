# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""HTTPS for the Graph client on the standard library only (http.client and ssl).

A module run imports this instead of requests: requests and urllib3 take about 70 ms to import,
more than a Graph round trip, and a single cancel should cost little more than the round trip.
MSAL still talks through requests (_graph_requests.PinnedSession), but only when the token cache
can not answer.

The rules are the ones the requests session followed before (architecture.md, "Transport"):

* TLS: ca_path (a file or a folder) or validate_certs=false is the user's choice and always wins.
  Without one, REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE applies when set, else certifi's bundle when
  installed (what requests and so MSAL use), else the system's store.
* Proxies come from the environment (https_proxy, all_proxy, no_proxy, upper case too) and are
  used through a CONNECT tunnel; user:password in the proxy URL becomes Proxy-Authorization.
* No automatic retries and no redirects: the client decides what is safe to send again.
* The URL is sent exactly as built: an encoded id stays encoded.
* A failure says whether the request may have reached the server (`sent`): refused, unresolved,
  a TLS failure or a connect timeout did not; a reset, a timeout or a close after sending may have.
* Connections are kept alive and reused (one per thread at a time). One the server closed while
  it sat idle is noticed before use and replaced, so a stale socket never turns a request into an
  ambiguous one.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import select
import socket
import ssl
import threading
import zlib

from urllib.parse import unquote, urlsplit

PROXY_VARIABLES = ("https_proxy", "all_proxy")
# What http.client refuses in a request target (its own check, made before anything is sent).
_UNSENDABLE = re.compile(r"[\x00-\x20\x7f]")


class TransportError(Exception):
    """No HTTP answer. kind: tls_error, connect_timeout, timeout, connection_error, proxy_error."""

    def __init__(self, kind, message, sent):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.sent = sent


class Headers(dict):
    """Response headers with case-insensitive get() and `in` (names are stored in lower case)."""

    def __init__(self, items=()):
        super().__init__()
        pairs = items.items() if isinstance(items, dict) else items
        for name, value in pairs:
            key = name.lower()
            # A repeated header is one comma-separated value (RFC 9110, 5.3).
            self[key] = value if key not in self else "{0}, {1}".format(self[key], value)

    def get(self, name, default=None):
        return super().get(name.lower(), default)

    def __contains__(self, name):
        return super().__contains__(name.lower())

    def __getitem__(self, name):
        return super().__getitem__(name.lower())


class Response:
    """One HTTP answer: status, Headers, and the body as text."""

    __slots__ = ("status", "headers", "text")

    def __init__(self, status, headers, text):
        self.status = status
        self.headers = headers
        self.text = text


def _certifi_bundle():
    try:
        import certifi  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return certifi.where()


def build_ssl_context(verify):
    """The SSLContext for verify: True (environment bundle, certifi, system), False, or a CA file or folder."""
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True or verify is None:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or _certifi_bundle()
    if not verify:
        return ssl.create_default_context()
    try:
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as exc:
        raise TransportError("tls_error", "can not load the CA certificates from {0}: {1}".format(
            verify, getattr(exc, "strerror", None) or exc), False)


def environment_proxy(host):
    """The proxy URL the environment sets for https://host, or None (no_proxy and friends honoured)."""
    if not any(name in os.environ or name.upper() in os.environ for name in PROXY_VARIABLES):
        return None  # the common case: no urllib.request import at all
    import urllib.request  # pylint: disable=import-outside-toplevel
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get("https") or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxy


def _proxy_parts(proxy):
    """(host, port, Proxy-Authorization headers) of an http:// proxy URL."""
    if "://" not in proxy:
        proxy = "http://" + proxy
    parts = urlsplit(proxy)
    if parts.scheme != "http" or not parts.hostname:
        raise TransportError("proxy_error", "proxy {0!r}: only http:// proxies are supported (a CONNECT tunnel)".format(
            "{0}://{1}".format(parts.scheme, parts.hostname or "")), False)
    headers = {}
    if parts.username is not None:
        credentials = "{0}:{1}".format(unquote(parts.username), unquote(parts.password or ""))
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
    return parts.hostname, parts.port or 80, headers


def _dropped(sock):
    """True when an idle connection has anything to read: the server closed it (or sent junk)."""
    if sock is None:
        return True
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _decode_body(data, headers):
    encoding = (headers.get("content-encoding") or "").strip().lower()
    if not data:
        return ""  # a 204 may still name an encoding: there is nothing to decompress
    if encoding == "gzip":
        data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        try:
            data = zlib.decompress(data)
        except zlib.error:
            data = zlib.decompress(data, -zlib.MAX_WBITS)
    charset = "utf-8"
    for param in (headers.get("content-type") or "").split(";")[1:]:
        name, _sep, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


class HttpsTransport:
    """Sends one request and returns a Response, or raises TransportError. Thread-safe."""

    def __init__(self, verify=True, timeout=None):
        self.verify = verify
        self.timeout = timeout
        self._context = None
        self._idle = {}
        self._lock = threading.Lock()

    def _ssl_context(self):
        with self._lock:
            if self._context is None:
                self._context = build_ssl_context(self.verify)
            return self._context

    def _take(self, key):
        with self._lock:
            idle = self._idle.get(key) or []
            while idle:
                conn = idle.pop()
                if not _dropped(conn.sock):
                    return conn
                conn.close()
        return None

    def _give_back(self, key, conn):
        with self._lock:
            self._idle.setdefault(key, []).append(conn)

    def close(self):
        with self._lock:
            for conns in self._idle.values():
                for conn in conns:
                    conn.close()
            self._idle = {}

    def _connect(self, host, port):
        where = "{0}:{1}".format(host, port)
        proxy = environment_proxy(host)
        if proxy:
            proxy_host, proxy_port, proxy_headers = _proxy_parts(proxy)
            conn = http.client.HTTPSConnection(proxy_host, proxy_port, timeout=self.timeout, context=self._ssl_context())
            conn.set_tunnel(host, port, headers=proxy_headers)
            where += " through proxy {0}:{1}".format(proxy_host, proxy_port)
        else:
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._ssl_context())
        try:
            conn.connect()
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            raise TransportError("tls_error", "TLS verification failed for {0}: {1}".format(where, exc), False)
        except ssl.SSLError as exc:
            conn.close()
            raise TransportError("tls_error", "TLS handshake with {0} failed: {1}".format(where, exc), False)
        except socket.timeout as exc:
            conn.close()
            raise TransportError("connect_timeout", "connection to {0} timed out: {1}".format(where, exc), False)
        except OSError as exc:
            # Refused, unresolvable, unreachable, or a proxy that refused the tunnel: nothing was sent.
            conn.close()
            raise TransportError("connection_error", "connection to {0} failed: {1}".format(where, exc), False)
        return conn

    def request(self, method, url, headers, body=None):
        """Send method url with headers (a dict) and body (bytes or None); return a Response."""
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise TransportError("request_error", "only https:// URLs are sent, not {0!r}".format(url.split("?")[0]), False)
        host, port = parts.hostname, parts.port or 443
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        if _UNSENDABLE.search(target) or not target.isascii():
            # http.client would refuse it only once connected; say so before, as not sent.
            raise TransportError("request_error", "the URL holds a space, a control or a non-ASCII character: {0!r}".format(
                target.split("?")[0]), False)
        key = (host, port)
        conn = self._take(key) or self._connect(host, port)
        try:
            conn.request(method, target, body=body, headers=dict(headers, **{"Accept-Encoding": "gzip, deflate"}))
            answer = conn.getresponse()
            data = answer.read()
        except socket.timeout as exc:
            conn.close()
            raise TransportError("timeout", "no answer within {0} s: {1}".format(self.timeout, exc), True)
        except (OSError, http.client.HTTPException) as exc:
            # Reset, closed without an answer, an answer cut short: Graph may have received the request.
            conn.close()
            raise TransportError("connection_error", "connection to {0}:{1} failed: {2}: {3}".format(
                host, port, type(exc).__name__, exc), True)
        response_headers = Headers(answer.getheaders())
        try:
            text = _decode_body(data, response_headers)
        except zlib.error as exc:
            conn.close()
            raise TransportError("connection_error", "the answer from {0}:{1} could not be decompressed: {2}".format(
                host, port, exc), True)
        if answer.will_close:
            conn.close()
        else:
            self._give_back(key, conn)
        return Response(answer.status, response_headers, text)
