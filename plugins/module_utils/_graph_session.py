# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The one HTTP stack: a requests.Session that carries both MSAL's and Graph's requests.

TLS and proxies are requests' own (REQUESTS_CA_BUNDLE, NO_PROXY with CIDRs, https and socks
proxies, keep-alive, decoding). What this file adds, and why:

* no retries and no redirects below the client (HTTPAdapter(max_retries=0), allow_redirects=False):
  only the Graph client knows which request is safe to send again;
* ca_path or validate_certs=false, when given, win over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, which
  requests would otherwise let override Session.verify (NOTES, "requests pitfall");
* a total deadline: requests' timeout bounds each socket read (urllib3's Timeout is per operation),
  so an answer that trickles in a byte at a time would never time out; `timeout` here bounds the
  whole exchange;
* one narrow shim for MSAL's password grant (see _restore_realm_port);
* transport_failure() sorts requests' exceptions into "may the request have reached the server?",
  which decides whether a write is ambiguous.
"""

from __future__ import annotations

import threading
import traceback

from urllib.parse import urlsplit, urlunsplit

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import ConfigurationError

try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.exceptions import ConnectTimeout, ConnectionError as RequestsConnectionError, ProxyError, SSLError
    from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None


class TransportFailure:
    """No HTTP answer. kind: tls_error, proxy_error, connect_timeout, timeout, connection_error, request_error.

    sent says whether the request may have reached the server: a write that may have is ambiguous.
    """

    def __init__(self, kind, message, sent):
        self.kind = kind
        self.message = message
        self.sent = sent


def _not_connected(exc):
    """True when requests says the connection itself could not be made (nothing was sent)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, NameResolutionError))


def transport_failure(exc):
    """A TransportFailure for an exception requests raised while sending, or None for anything else."""
    if not HAS_REQUESTS or not isinstance(exc, requests.RequestException):
        return None
    text = "{0}: {1}".format(type(exc).__name__, exc)
    if isinstance(exc, SSLError):
        return TransportFailure("tls_error", text, False)
    if isinstance(exc, ProxyError):
        return TransportFailure("proxy_error", text, False)
    if isinstance(exc, ConnectTimeout):
        return TransportFailure("connect_timeout", text, False)
    if isinstance(exc, requests.Timeout):
        return TransportFailure("timeout", text, True)
    if isinstance(exc, RequestsConnectionError) and _not_connected(exc):
        return TransportFailure("connection_error", text, False)
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader,
                        requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return TransportFailure("request_error", text, False)
    # Reset, closed without an answer, an answer cut short or undecodable: it may have arrived.
    return TransportFailure("connection_error", text, True)


if HAS_REQUESTS:
    class DeadlineExceeded(requests.exceptions.ReadTimeout):
        """The whole answer did not arrive within the deadline (a ReadTimeout to MSAL and to us)."""

    class GraphSession(requests.Session):
        """requests.Session with pinned TLS verification, no retries or redirects, and a total deadline."""

        def __init__(self, verify=True, timeout=None, user_agent=None, authority_host=None):
            super().__init__()
            self.verify = verify
            self.pinned_verify = verify
            self.deadline = timeout
            self.authority_host = authority_host
            if user_agent:
                self.headers["User-Agent"] = user_agent
            adapter = HTTPAdapter(max_retries=0)
            self.mount("https://", adapter)
            self.mount("http://", adapter)

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if self.pinned_verify is not True:
                # ca_path or validate_certs=false: the user's explicit choice beats the environment.
                settings["verify"] = self.pinned_verify
            return settings

        def request(self, method, url, *args, **kwargs):  # pylint: disable=arguments-differ
            kwargs["allow_redirects"] = False
            if kwargs.get("timeout") is None and self.deadline:
                kwargs["timeout"] = self.deadline
            return super().request(method, self._restore_realm_port(method, url), *args, **kwargs)

        def _restore_realm_port(self, method, url):
            """MSAL's password grant first asks https://<authority host WITHOUT its port>/common/userrealm/<user>
            (msal.authority.Authority.user_realm_discovery builds the URL from the host name only), so
            against an authority that carries an explicit port (a sovereign proxy, a local emulator) it
            would reach port 443 of that host instead. For exactly that URL, put the authority's port back.
            """
            if self.authority_host is None or method.upper() != "GET" or "/common/userrealm/" not in url:
                return url
            authority, target = urlsplit(self.authority_host), urlsplit(url)
            if authority.port is None or target.port is not None or target.hostname != authority.hostname:
                return url
            return urlunsplit((target.scheme, target.netloc + ":%d" % authority.port, target.path, target.query,
                               target.fragment))

        def send(self, request, **kwargs):  # pylint: disable=arguments-differ
            """Send within the deadline: the exchange runs in a daemon thread that is abandoned (and its
            connection with it) when the deadline passes, so a trickling answer can not hold the task."""
            if not self.deadline or kwargs.get("stream"):
                return super().send(request, **kwargs)
            outcome = {}

            def exchange():
                try:
                    outcome["response"] = super(GraphSession, self).send(request, **kwargs)
                except BaseException as exc:  # pylint: disable=broad-exception-caught  # re-raised below
                    outcome["error"] = exc

            worker = threading.Thread(target=exchange, name="graphops-http", daemon=True)
            worker.start()
            worker.join(self.deadline)
            if worker.is_alive():
                raise DeadlineExceeded("no complete answer within {0} s (timeout)".format(self.deadline), request=request)
            if "error" in outcome:
                raise outcome["error"]
            return outcome["response"]


def new_session(verify=True, timeout=None, user_agent=None, authority_host=None):
    """The session for one module run: MSAL gets it as http_client, the Graph client sends through it."""
    if not HAS_REQUESTS:
        raise ConfigurationError("the Python library 'requests' is required")
    return GraphSession(verify=verify, timeout=timeout, user_agent=user_agent, authority_host=authority_host)
