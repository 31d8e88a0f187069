# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one requests session on real sockets (no emulator): TLS (ca_path beats REQUESTS_CA_BUNDLE),
proxies as requests reads them, the total deadline, answers cut short; and imports (no Ansible,
no msal for access_token)."""

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import GraphClient, WriteOp
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import new_session
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import GraphTransportError


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = json.dumps({"id": "me", "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("request-id", "r-1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    other_ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    good, bad = str(folder / "good.pem"), str(folder / "other.pem")
    ca.cert_pem.write_to_path(good)
    other_ca.cert_pem.write_to_path(bad)
    yield {"url": "https://127.0.0.1:%d" % server.server_address[1], "good": good, "bad": bad}
    server.shutdown()


def test_ca_path_wins_over_requests_ca_bundle(https_server, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", https_server["bad"])
    monkeypatch.setenv("CURL_CA_BUNDLE", https_server["bad"])
    client = GraphClient(https_server["url"], "v1.0", lambda: "t", verify=https_server["good"], timeout=5, retries=0,
                         max_wait=0)
    assert client.get("/me")["path"] == "/v1.0/me"
    # MSAL is given the same kind of session: same rule there.
    assert new_session(verify=https_server["good"], timeout=5).get(https_server["url"] + "/x").status_code == 200


def test_untrusted_certificate_is_a_clear_tls_error(https_server, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    client = GraphClient(https_server["url"], "v1.0", lambda: "t", verify=https_server["bad"], timeout=5, retries=2,
                         max_wait=10)
    with pytest.raises(GraphTransportError) as err:
        client.get("/me")
    assert err.value.code == "tls_error" and "CERTIFICATE_VERIFY_FAILED" in str(err.value)
    assert client.request_count == 1


def test_without_ca_path_the_environment_bundle_applies(https_server, monkeypatch):
    # No explicit choice: requests' usual rule, so a REQUESTS_CA_BUNDLE holding a corporate or
    # test CA is honoured (the client and MSAL's session alike)...
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", https_server["good"])
    client = GraphClient(https_server["url"], "v1.0", lambda: "t", timeout=5, retries=0, max_wait=0)
    assert client.get("/me")["path"] == "/v1.0/me"
    assert new_session(timeout=5).get(https_server["url"] + "/x").status_code == 200


def test_without_ca_path_an_untrusting_environment_bundle_still_fails(https_server, monkeypatch):
    # ...and verification stays on: a bundle that does not hold the server's CA is refused.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", https_server["bad"])
    client = GraphClient(https_server["url"], "v1.0", lambda: "t", timeout=5, retries=0, max_wait=0)
    with pytest.raises(GraphTransportError) as err:
        client.get("/me")
    assert err.value.code == "tls_error"


def test_default_verification_is_on():
    client = GraphClient("https://graph.test", "v1.0", lambda: "t")
    assert client.verify is True and client.session.pinned_verify is True and new_session().pinned_verify is True


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
_BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "ansible" or name.startswith("ansible.") or name in %(blocked)r:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
"""


def _run(code, blocked=()):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    script = _BLOCKER % {"blocked": list(blocked)} + code
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_client_and_auth_import_and_run_without_ansible():
    proc = _run(
        "from ansible_collections.graphops.msgraph.plugins.module_utils import _graph_client, _graph_auth\n"
        "c = _graph_client.GraphClient('https://graph.test', 'v1.0', lambda: 't')\n"
        "cred = _graph_auth.build_credential({'access_token': 'abc.def.ghi', 'token_cache_path': ''})\n"
        "assert cred.get_token() == 'abc.def.ghi'\n"
        "assert not any(m == 'ansible' or m.startswith('ansible.') for m in sys.modules)\n"
        "print('ok')\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_access_token_never_imports_msal():
    proc = _run(
        "from ansible_collections.graphops.msgraph.plugins.module_utils import _graph_client, _graph_auth\n"
        "cred = _graph_auth.build_credential({'access_token': 'abc.def.ghi', 'token_cache_path': None})\n"
        "cred.get_token(); cred.is_delegated()\n"
        "print('msal' in sys.modules)\n", blocked=("msal",))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_module_utils_import_without_requests_and_msal():
    """What ansible-test's import sanity test does: the guarded imports must not explode."""
    proc = _run(
        "from ansible_collections.graphops.msgraph.plugins.module_utils import _graph_client, _graph_auth, _graph_session\n"
        "print(_graph_session.HAS_REQUESTS)\n", blocked=("requests", "urllib3", "msal"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


# ---------------------------------------------------------------------------------- raw servers

class RawServer:
    """A TLS listener on 127.0.0.1 that plays answer(conn) for every connection (bytes as they go on the wire)."""

    def __init__(self, answer, cert):
        self.answer = answer
        self.requests = []
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.ctx)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = "https://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                raw, _addr = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(raw,), daemon=True).start()

    def _one(self, raw):
        try:
            conn = self.ctx.wrap_socket(raw, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.requests.append(data.split(b"\r\n", 1)[0].decode())
            self.answer(conn)
            conn.close()
        except OSError:
            pass

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    ca = trustme.CA()
    path = str(tmp_path_factory.mktemp("raw") / "ca.pem")
    ca.cert_pem.write_to_path(path)
    return ca.issue_cert("127.0.0.1"), path


def _cancel_op():
    return WriteOp(key="A1", path="/me/events/A1/cancel", body={"Comment": "x"}, mailbox="me", outlook=True,
                   probe_path="/me/events/A1", probe_done=lambda status, body: status == 404)


def test_a_trickling_answer_meets_the_deadline(tls):
    """requests' timeout bounds each read; the session's deadline bounds the whole answer."""
    def trickle(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n")
        for _n in range(400):
            conn.sendall(b" ")
            time.sleep(0.05)  # 20 s in all, each byte well inside a 2 s read timeout

    server = RawServer(trickle, tls[0])
    try:
        client = GraphClient(server.url, "v1.0", lambda: "t", verify=tls[1], timeout=2, retries=0, max_wait=0)
        started = time.monotonic()
        with pytest.raises(GraphTransportError) as err:
            client.get("/me")
        assert time.monotonic() - started < 4
        assert err.value.code == "timeout" and "no complete answer within 2 s" in str(err.value)
    finally:
        server.close()


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 202 Accepted\r\nContent-Le",                                             # cut inside the header block
    b"HTTP/1.1 202 Accepted\r\nrequest-id: r-1\r\nContent-Length: 4\r\n\r\n",           # cut inside the body
    b"HTTP/1.1 202 Accepted\r\nrequest-id: r-1\r\nContent-Length: 50\r\n\r\n{\"partial",    # body shorter than announced
    b"HTTP/1.1 202 Accepted\r\nrequest-id: r-1\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\n"
    b"<html>proxy!</html>",                                                                     # not a Graph answer
])
def test_a_cancel_answered_badly_is_never_reported_done(tls, answer):
    """An answer that is not a well-formed Graph answer is ambiguous: the item is read back before
    anything else, and never reported as cancelled on the strength of that answer."""
    seen = []

    def reply(conn):
        if len(seen) == 0:
            seen.append("cancel")
            conn.sendall(answer)
        else:
            seen.append("probe")
            body = json.dumps({"id": "A1", "isCancelled": False}).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nrequest-id: r-2\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))

    server = RawServer(reply, tls[0])
    try:
        client = GraphClient(server.url, "v1.0", lambda: "t", verify=tls[1], timeout=5, retries=0, max_wait=0)
        [outcome] = client.write_at_most_once([_cancel_op()])
        assert outcome.result == "failed" and outcome.probed is True  # read back, found not cancelled, not re-sent (retries=0)
        assert seen[:2] == ["cancel", "probe"] and seen.count("cancel") == 1
        assert server.requests[0].startswith("POST /v1.0/me/events/A1/cancel ")
        assert server.requests[1].startswith("GET /v1.0/me/events/A1 ")
    finally:
        server.close()


def test_proxies_follow_requests_rules_for_graph_and_msal(https_server, monkeypatch):
    """One stack: NO_PROXY with a CIDR bypasses the proxy for Graph's requests as for MSAL's."""
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:%d" % dead.getsockname()[1])  # nothing listens there
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    client = GraphClient(https_server["url"], "v1.0", lambda: "t", verify=https_server["good"], timeout=5, retries=0,
                         max_wait=0)
    with pytest.raises(GraphTransportError) as err:
        client.get("/me")
    assert err.value.code == "proxy_error"
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8,127.0.0.0/8")
    assert client.get("/me")["path"] == "/v1.0/me"
    assert new_session(verify=https_server["good"], timeout=5).get(https_server["url"] + "/x").status_code == 200
    dead.close()


def test_no_redirect_is_followed(tls):
    def redirect(conn):
        conn.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: https://elsewhere.invalid/v1.0/me\r\n"
                     b"Content-Length: 0\r\n\r\n")

    server = RawServer(redirect, tls[0])
    try:
        client = GraphClient(server.url, "v1.0", lambda: "t", verify=tls[1], timeout=5, retries=0, max_wait=0)
        with pytest.raises(Exception):
            client.get("/me")
        assert len(server.requests) == 1
    finally:
        server.close()


def test_realm_discovery_goes_to_the_authority_port():
    """MSAL asks https://<host without port>/common/userrealm/...: the session puts the authority's port back,
    for that one URL only."""
    session = new_session(authority_host="https://127.0.0.1:8443")
    restore = session._restore_realm_port  # pylint: disable=protected-access
    assert restore("GET", "https://127.0.0.1/common/userrealm/a@b.example?api-version=1.0") == \
        "https://127.0.0.1:8443/common/userrealm/a@b.example?api-version=1.0"
    assert restore("GET", "https://127.0.0.1/v1.0/me") == "https://127.0.0.1/v1.0/me"
    assert restore("GET", "https://other.example/common/userrealm/a") == "https://other.example/common/userrealm/a"
    assert new_session(authority_host="https://login.microsoftonline.com")._restore_realm_port(  # pylint: disable=protected-access
        "GET", "https://login.microsoftonline.com/common/userrealm/a") == "https://login.microsoftonline.com/common/userrealm/a"
