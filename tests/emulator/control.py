# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control and inspection API under /_emulator (Graph never uses that prefix), and a small
client for it that tests use."""

import json
from urllib.parse import urlsplit, urlunsplit

from emulator.faults import FaultRuleError


def _error(status, message):
    return status, {"error": message}


def handle(app, method, segments, query, raw):
    """(status, JSON body) for one control call; `segments` come after "_emulator"."""
    try:
        body = json.loads(raw.decode("utf-8")) if raw else {}
    except ValueError:
        return _error(400, "body is not JSON")
    route = (method, "/".join(segments))
    if route == ("GET", "requests"):
        return 200, app.recorder.requests()
    if route == ("GET", "notifications"):
        return 200, app.recorder.notifications()
    if route == ("GET", "token_requests"):
        return 200, app.recorder.token_requests()
    if route == ("GET", "http_requests"):
        return 200, app.recorder.http_requests()
    if route == ("GET", "connection"):
        return 200, app.connection()
    if route == ("GET", "state/appointments"):
        return 200, app.graph.appointments_state(query.get("business_id"))
    if route == ("GET", "state/events"):
        return 200, app.graph.events_state(query.get("owner"))
    if route == ("POST", "reset"):
        app.reset()
        return 200, {"reset": True}
    if route == ("POST", "seed"):
        app.seed(body)
        return 200, {"seeded": True}
    if route[1] == "config" and method in ("GET", "POST"):
        unknown = set(body) - {"rtt_ms", "service_ms", "mailbox_concurrency"}
        if unknown:
            return _error(400, "unknown knobs: %s" % ", ".join(sorted(unknown)))
        app.runtime.configure(**body)
        return 200, app.runtime.config()
    if route[1] == "faults":
        return _faults(app, method, body)
    if route == ("POST", "tokens/expire"):
        app.tokens.expire_all()
        return 200, {"expired": True}
    if route == ("POST", "apps/revoke"):
        # The app's secret is deleted in Entra (or the app disabled): its tokens stop working and no
        # new one is issued for the secret, until /_emulator/reset.
        target = app.registry.apps.get(body.get("client_id"))
        if target is None:
            return _error(400, "unknown client_id")
        target.revoked = True
        app.tokens.expire_client(target.client_id)
        return 200, {"revoked": target.client_id}
    if route == ("POST", "federated-token"):
        if body.get("client_id") not in app.registry.apps:
            return _error(400, "unknown client_id")
        return 200, {"assertion": app.registry.federated_assertion(body["client_id"], int(body.get("lifetime", 3600)))}
    return _error(404, "no such control call: %s /_emulator/%s" % route)


def _faults(app, method, body):
    if method == "GET":
        return 200, app.faults.list()
    if method == "DELETE":
        app.faults.clear()
        return 200, []
    if method == "POST":
        try:
            return 200, app.faults.add(body)
        except FaultRuleError as exc:
            return _error(400, str(exc))
    return _error(405, "method not allowed")


def restore_userrealm_port(url, port):
    """MSAL's password grant sends its user realm discovery to ``https://<authority host without its
    port>/common/userrealm/<user>`` (NOTES, "MSAL (Python) against a local https server"). The
    emulator serves that route on its own port only, so a client must put the authority's port
    back on that one URL, as the collection's credential layer does; other URLs are unchanged."""
    parts = urlsplit(url)
    if port and parts.port is None and parts.path.startswith("/common/userrealm/"):
        return urlunsplit(parts._replace(netloc="%s:%d" % (parts.hostname, port)))
    return url


def ca_session(ca_path, userrealm_port=None):
    """A requests.Session that verifies against ca_path even when REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE
    is set (requests lets those override Session.verify); hand it to MSAL as http_client. With
    userrealm_port (the emulator's port), MSAL's user realm discovery reaches the emulator."""
    import requests  # pylint: disable=import-outside-toplevel

    class _Session(requests.Session):
        def request(self, method, url, *args, **kwargs):  # pylint: disable=arguments-differ
            return super().request(method, restore_userrealm_port(url, userrealm_port), *args, **kwargs)

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            settings["verify"] = ca_path
            return settings

    return _Session()


class EmulatorControl:
    """Client for the control API; `conn` is the parsed connection file."""

    def __init__(self, conn, session=None):
        self.conn = conn
        self.url = conn["control_url"]
        self.ca_path = conn["ca_path"]
        self.session = session or ca_session(self.ca_path)

    def __getitem__(self, key):
        return self.conn[key]

    def _call(self, method, path, payload=None, params=None):
        # verify= on every call, so REQUESTS_CA_BUNDLE in the environment can not override it.
        resp = self.session.request(method, "%s/%s" % (self.url, path), json=payload, params=params, verify=self.ca_path, timeout=30)
        if resp.status_code >= 400:
            raise RuntimeError("control call %s %s failed: %s %s" % (method, path, resp.status_code, resp.text))
        return resp.json()

    def requests(self):
        """Recorded Graph operations, oldest first."""
        return self._call("GET", "requests")

    def notifications(self):
        return self._call("GET", "notifications")

    def token_requests(self):
        return self._call("GET", "token_requests")

    def http_requests(self):
        """Every HTTP request that reached the emulator outside /_emulator: {seq, ts, method, path}."""
        return self._call("GET", "http_requests")

    def reset(self):
        return self._call("POST", "reset")

    def seed(self, fixture):
        return self._call("POST", "seed", fixture)

    def config(self, **knobs):
        return self._call("POST", "config", knobs)

    def add_fault(self, kind, method=None, path_regex=None, in_batch=None, times=1, retry_after=None, delay_s=None):
        rule = {"match": {"method": method, "path_regex": path_regex, "in_batch": in_batch}, "kind": kind,
                "times": times, "retry_after": retry_after}
        if delay_s is not None:
            rule["delay_s"] = delay_s
        return self._call("POST", "faults", rule)

    def faults(self):
        return self._call("GET", "faults")

    def clear_faults(self):
        return self._call("DELETE", "faults")

    def expire_tokens(self):
        return self._call("POST", "tokens/expire")

    def revoke_app(self, client_id=None):
        """Delete the app's secret: its tokens are refused from now on and no new one is issued (until reset)."""
        return self._call("POST", "apps/revoke", {"client_id": client_id or self.conn["apps"]["secret"]["client_id"]})

    def federated_token(self, client_id=None, lifetime=3600):
        client_id = client_id or self.conn["apps"]["federated"]["client_id"]
        return self._call("POST", "federated-token", {"client_id": client_id, "lifetime": lifetime})["assertion"]

    def appointments_state(self, business_id=None):
        return self._call("GET", "state/appointments", params={"business_id": business_id or self.conn["bookings"]["business_id"]})

    def events_state(self, owner=None):
        return self._call("GET", "state/events", params={"owner": owner or self.conn["users"]["organizer"]["upn"]})

    state_appointments = appointments_state
    state_events = events_state
