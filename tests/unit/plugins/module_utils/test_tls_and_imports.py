# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real TLS (ca_path beats REQUESTS_CA_BUNDLE) and imports (no Ansible, no msal for access_token)."""

import json
import os
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import GraphClient
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_requests import new_session
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import GraphTransportError


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = json.dumps({"id": "me", "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
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
    # MSAL's requests go through a PinnedSession: same rule there.
    assert new_session(verify=https_server["good"], timeout=5).get(https_server["url"] + "/x").status_code == 200


def test_untrusted_certificate_is_a_clear_tls_error(https_server, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    client = GraphClient(https_server["url"], "v1.0", lambda: "t", verify=https_server["bad"], timeout=5, retries=2,
                         max_wait=10)
    with pytest.raises(GraphTransportError) as err:
        client.get("/me")
    assert err.value.code == "tls_error" and "TLS verification failed" in str(err.value)
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
    assert client.verify is True and client.transport.verify is True and new_session().pinned_verify is True


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
        "from ansible_collections.graphops.msgraph.plugins.module_utils import _graph_client, _graph_auth, _graph_requests\n"
        "print(_graph_requests.HAS_REQUESTS)\n", blocked=("requests", "msal"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_graph_requests_never_import_requests(https_server):
    """A Graph request with a token at hand (access_token, or a warm cache) imports neither requests
    nor urllib3 nor msal: that import alone would cost a single cancel more than its round trip."""
    proc = _run(
        "from ansible_collections.graphops.msgraph.plugins.module_utils import _graph_client, _graph_auth\n"
        "cred = _graph_auth.build_credential({'access_token': 'abc.def.ghi', 'token_cache_path': ''})\n"
        "client = _graph_client.GraphClient(%r, 'v1.0', cred, verify=%r, timeout=5, retries=0, max_wait=0)\n"
        "assert client.get('/me')['path'] == '/v1.0/me'\n"
        "print(sorted(m for m in ('requests', 'urllib3', 'msal') if m in sys.modules))\n" % (https_server["url"], https_server["good"]),
        blocked=("requests", "urllib3", "msal"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
