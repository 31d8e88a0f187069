# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real MSAL against the Graph emulator: every auth method gets a token and a Graph call succeeds;
ids arrive as one segment; at-most-once cancels; Retry-After; the token cache across "tasks"."""

import os
import stat
import time

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_auth import build_credential
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import GraphClient, WriteOp
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import AuthenticationError, ConfigurationError
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import new_session
from ansible_collections.graphops.msgraph.plugins.module_utils._ids import build_path
from ansible_collections.graphops.msgraph.plugins.module_utils._version import USER_AGENT


def _params(emu, cache, **kw):
    conn = emu.conn if hasattr(emu, "conn") else emu
    base = dict(auth_method="auto", tenant_id=conn["tenant_id"], client_id=None, client_secret=None,
                client_certificate_path=None, client_certificate_password=None, federated_token_file=None,
                username=None, password=None, access_token=None, cloud=conn.get("cloud", "global"),
                graph_endpoint=conn["graph_endpoint"], authority_host=conn["authority_host"], token_cache_path=cache)
    base.update(kw)
    return base


def _conn(emu):
    return emu.conn if hasattr(emu, "conn") else emu["conn"] if "conn" in emu else emu


def _client(conn, params, **kw):
    """A credential and a client sharing one session, as a module run builds them."""
    session = new_session(conn["ca_path"], 10, USER_AGENT, conn["authority_host"])
    cred = build_credential(params, verify=conn["ca_path"], timeout=10, user_agent=USER_AGENT, session=session)
    client = GraphClient(conn["graph_endpoint"], "v1.0", cred, verify=conn["ca_path"], timeout=10, retries=3, max_wait=30,
                         user_agent=USER_AGENT, session=session, **kw)
    return cred, client


def _token_requests(emu):
    return emu.token_requests()


@pytest.fixture
def conn(emu):
    return emu.conn


def _methods(conn, tmp_path):
    apps = conn["apps"]
    organizer = conn["users"]["organizer"]
    return {
        "client_secret": dict(client_id=apps["secret"]["client_id"], client_secret=apps["secret"]["client_secret"]),
        "certificate_pem": dict(client_id=apps["certificate"]["client_id"],
                                client_certificate_path=apps["certificate"]["pem_path"]),
        "certificate_pfx": dict(client_id=apps["certificate"]["client_id"],
                                client_certificate_path=apps["certificate"]["pfx_path"],
                                client_certificate_password=apps["certificate"]["pfx_password"]),
        "federated": dict(client_id=apps["federated"]["client_id"], federated_token_file=apps["federated"]["token_file"]),
        "password": dict(client_id=apps["public"]["client_id"], username=organizer["upn"], password=organizer["password"]),
        "managed_identity_system": dict(auth_method="managed_identity"),
        "managed_identity_user": dict(auth_method="managed_identity",
                                      client_id=conn["managed_identity"]["user_assigned_client_id"]),
    }


METHODS = ["client_secret", "certificate_pem", "certificate_pfx", "federated", "password", "managed_identity_system",
           "managed_identity_user"]


@pytest.mark.parametrize("method", METHODS)
def test_every_auth_method_gets_a_token_and_calls_graph(emu, conn, tmp_path, monkeypatch, method):
    monkeypatch.setenv("IDENTITY_ENDPOINT", conn["managed_identity"]["endpoint"])
    monkeypatch.setenv("IDENTITY_HEADER", conn["managed_identity"]["header"])
    params = _params(conn, str(tmp_path / "cache"), **_methods(conn, tmp_path)[method])
    cred, client = _client(conn, params)
    organizer = conn["users"]["organizer"]
    path = "/me/events" if method == "password" else build_path("/users/{user}/events", user=organizer["upn"])
    assert isinstance(client.get(path, params={"$top": "1"}, outlook=True).get("value"), list)
    assert cred.is_delegated() is (method == "password")
    before = len(_token_requests(emu))
    assert before >= 1
    # A second "task" with the same cache asks nobody for a token.
    cred2, client2 = _client(conn, params)
    client2.get(path, params={"$top": "1"}, outlook=True)
    assert len(_token_requests(emu)) == before
    folder = tmp_path / "cache"
    files = os.listdir(folder)
    assert len(files) == 1 and stat.S_IMODE(os.stat(folder / files[0]).st_mode) == 0o600
    content = (folder / files[0]).read_text()
    for secret_key in ("client_secret", "password", "client_certificate_password"):
        if params.get(secret_key):
            assert params[secret_key] not in content


def test_access_token_makes_no_token_request(emu, conn, tmp_path):
    apps = conn["apps"]
    cred, _client_ = _client(conn, _params(conn, "", client_id=apps["secret"]["client_id"],
                                           client_secret=apps["secret"]["client_secret"]))
    token = cred.get_token()
    before = len(_token_requests(emu))
    _cred, client = _client(conn, _params(conn, "", access_token=token))
    client.get(build_path("/users/{user}/events", user=conn["users"]["organizer"]["upn"]), params={"$top": "1"})
    assert len(_token_requests(emu)) == before
    recorded = emu.requests()[-1]
    assert token not in str(recorded)


def test_wrong_pfx_password_fails_clearly(emu, conn):
    apps = conn["apps"]
    with pytest.raises(ConfigurationError) as err:
        _client(conn, _params(conn, "", client_id=apps["certificate"]["client_id"],
                              client_certificate_path=apps["certificate"]["pfx_path"], client_certificate_password="wrong"))
    assert err.value.option == "client_certificate_password"
    assert len(_token_requests(emu)) == 0


def test_a_wrong_secret_fails_even_with_a_warm_cache(emu, conn, tmp_path):
    """The cache is keyed by the credential: a typo in a rotated secret fails as Entra fails it."""
    cache = str(tmp_path / "cache")
    good = _params(conn, cache, client_id=conn["apps"]["secret"]["client_id"], client_secret=conn["apps"]["secret"]["client_secret"])
    _cred, client = _client(conn, good)
    path = build_path("/users/{user}/events", user=conn["users"]["organizer"]["upn"])
    client.get(path, params={"$top": "1"}, outlook=True)
    wrong = dict(good, client_secret="freshly-rotated-typo")
    _cred, client = _client(conn, wrong)
    graph_before = len(emu.requests())
    with pytest.raises(AuthenticationError) as err:
        client.get(path, params={"$top": "1"}, outlook=True)
    assert "AADSTS7000215" in str(err.value) and "freshly-rotated-typo" not in str(err.value)
    assert len(emu.requests()) == graph_before  # nothing reached Graph
    assert [r["status"] for r in emu.token_requests()][-1] == 401


def test_wrong_secret_is_an_authentication_error(emu, conn):
    _cred, client = _client(conn, _params(conn, "", client_id=conn["apps"]["secret"]["client_id"],
                                          client_secret="not-the-secret"))
    with pytest.raises(AuthenticationError) as err:
        client.get("/users/x/events")
    assert err.value.error and "not-the-secret" not in str(err.value)


def _secret_client(conn, cache="", **kw):
    apps = conn["apps"]
    return _client(conn, _params(conn, cache, client_id=apps["secret"]["client_id"],
                                 client_secret=apps["secret"]["client_secret"]), **kw)


@pytest.mark.parametrize("value", ["a/b", "...", "a?b=c", "x#frag", "AA%2FBB", "with space", "naïve-日本"])
def test_ids_reach_graph_as_one_segment(emu, conn, value):
    _cred, client = _secret_client(conn)
    path = build_path("/users/{user}/events/{event_id}", user=conn["users"]["organizer"]["upn"], event_id=value)
    with pytest.raises(Exception):
        client.get(path, outlook=True)  # no such event: 404 (or 400), but it must arrive intact
    last = emu.requests()[-1]
    assert last["segments"][-1] == value
    assert len(last["segments"]) == 4


def test_token_expired_reacquires_once(emu, conn):
    _cred, client = _secret_client(conn)
    path = build_path("/users/{user}/events", user=conn["users"]["organizer"]["upn"])
    client.get(path)
    emu.expire_tokens()
    before = len(_token_requests(emu))
    client.get(path)
    assert len(_token_requests(emu)) == before + 1


def test_retry_after_one_second(emu, conn):
    _cred, client = _secret_client(conn)
    path = build_path("/users/{user}/events", user=conn["users"]["organizer"]["upn"])
    client.get(path)
    emu.add_fault("status_429", method="GET", path_regex=".*/events$", times=1, retry_after="1")
    start = time.monotonic()
    client.get(path)
    assert 0.9 <= time.monotonic() - start < 5


def _an_appointment(emu, conn):
    business = conn["bookings"]["business_id"]
    appointments = emu.appointments_state(business)
    appointments = appointments.get("value", appointments) if isinstance(appointments, dict) else appointments
    return business, appointments[0]["id"]


@pytest.mark.parametrize("kind", ["applied_then_504", "applied_then_reset", "status_504", "reset"])
def test_cancel_is_sent_at_most_once(emu, conn, kind):
    business, appointment = _an_appointment(emu, conn)
    _cred, client = _secret_client(conn)
    emu.add_fault(kind, method="POST", path_regex=".*/cancel$", times=1)
    op = WriteOp(key=appointment,
                 path=build_path("/solutions/bookingBusinesses/{b}/appointments/{a}/cancel", b=business, a=appointment),
                 body={"cancellationMessage": "sorry"}, mailbox=business, outlook=False,
                 probe_path=build_path("/solutions/bookingBusinesses/{b}/appointments/{a}", b=business, a=appointment),
                 probe_done=lambda status, body: status == 404)
    [outcome] = client.write_at_most_once([op])
    assert outcome.result == "done", outcome
    assert outcome.probed is True
    notified = [n for n in emu.notifications() if n["item_id"] == appointment and n["role"] == "customer"]
    customers = len({n["recipient"] for n in notified})
    assert customers >= 1 and len(notified) == customers  # each customer told exactly once
