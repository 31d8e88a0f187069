# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's transport: token validation on Graph routes, records, path decoding, keep-alive."""

import http.client
import json
import ssl
import time
import uuid
from urllib.parse import urlsplit

import jwt
import pytest

from emulator import tokens
from emulator.control import restore_userrealm_port
from emulator.server import split_path

ORGANIZER_ID = "6e7b768e-07e2-4810-8459-485f84f8f204"
EVENTS = "/v1.0/users/%s/events" % ORGANIZER_ID


def assert_invalid_token(resp):
    assert resp.status_code == 401
    error = resp.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_reaches_graph(seeded, graph):
    resp = graph("GET", EVENTS)
    assert resp.status_code == 200, resp.text
    assert resp.headers["request-id"] and resp.headers["client-request-id"]


def test_every_http_request_is_recorded_without_query_or_secrets(seeded, graph, emulator, token):
    seeded.reset()  # forget the token requests made while the fixtures were set up
    graph("GET", EVENTS + "?$top=1")
    graph("GET", "/v1.0/no/such/route")
    seeded.token_requests()  # control calls are never recorded
    http = seeded.http_requests()
    assert [(r["method"], r["path"]) for r in http] == [("GET", EVENTS), ("GET", "/v1.0/no/such/route")]
    assert all(isinstance(r["ts"], float) for r in http)
    assert token not in json.dumps(http)


def test_missing_token(seeded, graph):
    assert_invalid_token(graph("GET", EVENTS, auth=False))


@pytest.mark.parametrize("value", ["Bearer not-a-jwt", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_malformed_token(seeded, graph, value):
    assert_invalid_token(graph("GET", EVENTS, headers={"Authorization": value}))


def test_expired_token(seeded, graph):
    assert graph("GET", EVENTS).status_code == 200
    seeded.expire_tokens()
    resp = graph("GET", EVENTS)
    assert_invalid_token(resp)
    assert "expired" in resp.json()["error"]["message"]


def test_wrongly_signed_token(seeded, graph, token):
    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    forged = jwt.encode(claims, tokens.new_rsa_key(), algorithm="RS256", headers={"kid": header["kid"]})
    assert_invalid_token(graph("GET", EVENTS, headers={"Authorization": "Bearer " + forged}))


def test_wrong_audience_token(seeded, graph, get_app_token):
    other = get_app_token(scope=["https://management.azure.com/.default"])
    assert jwt.decode(other, options={"verify_signature": False})["aud"] == "https://management.azure.com"
    resp = graph("GET", EVENTS, headers={"Authorization": "Bearer " + other})
    assert_invalid_token(resp)
    assert "audience" in resp.json()["error"]["message"]


def test_token_from_another_tenant(seeded, graph, get_app_token):
    other = get_app_token(tenant=seeded["other_tenant_id"])
    assert_invalid_token(graph("GET", EVENTS, headers={"Authorization": "Bearer " + other}))


def test_readonly_app_is_forbidden_to_cancel(seeded, graph, get_app_token):
    readonly = get_app_token(name="readonly")
    resp = graph("POST", EVENTS.replace("/events", "/events/AAMkADtransport0001AAAAAAAAAAAAAAAAAAAAAAAAA=/cancel"), json={"Comment": "x"},
                 headers={"Authorization": "Bearer " + readonly})
    assert resp.status_code == 403


def test_authorization_never_recorded(seeded, graph, token):
    graph("GET", EVENTS, headers={"Cookie": "a=b"})
    graph("POST", EVENTS + "/AAMkADtransport0001AAAAAAAAAAAAAAAAAAAAAAAAA=/cancel", json={"Comment": "bye"})
    records = seeded.requests()
    assert len(records) == 2
    text = json.dumps(records)
    assert token not in text and "authorization" not in text.lower() and "a=b" not in text
    post = records[1]
    assert post["method"] == "POST" and post["version"] == "v1.0" and post["body"] == {"Comment": "bye"}
    assert post["status"] == 202 and post["mailbox"] == ORGANIZER_ID and not post["in_batch"]
    assert post["client_request_id"] and post["segments"][-1] == "cancel"


def test_encoded_slash_is_one_decoded_segment(seeded, graph):
    graph("GET", "/v1.0/users/%s/events/AAMk%%2Fslash%%252Fdouble" % ORGANIZER_ID)
    record = seeded.requests()[-1]
    assert record["segments"] == ["users", ORGANIZER_ID, "events", "AAMk/slash%2Fdouble"]
    assert record["path"] == "/users/%s/events/AAMk%%2Fslash%%252Fdouble" % ORGANIZER_ID


def test_split_path_decodes_once():
    path, segments, query = split_path("/v1.0/a%2Fb/c%2520d?x=1&%24top=2")
    assert (path, segments, query) == ("/v1.0/a%2Fb/c%2520d", ["v1.0", "a/b", "c%20d"], {"x": "1", "$top": "2"})


def test_keep_alive_connection_is_reused(seeded, token):
    url = urlsplit(seeded["graph_endpoint"])
    context = ssl.create_default_context(cafile=seeded["ca_path"])
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=30)
    try:
        for _attempt in range(3):
            conn.request("GET", EVENTS, headers={"Authorization": "Bearer " + token})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200 and resp.version == 11
        sock = conn.sock
        conn.request("GET", EVENTS, headers={"Authorization": "Bearer " + token})
        conn.getresponse().read()
        assert conn.sock is sock
    finally:
        conn.close()


def test_rtt_delay_per_request(seeded, graph):
    seeded.config(rtt_ms=300)
    start = time.monotonic()
    graph("GET", EVENTS)
    assert time.monotonic() - start >= 0.3
    seeded.reset()
    start = time.monotonic()
    graph("GET", EVENTS)
    assert time.monotonic() - start < 0.3


def test_user_realm_is_served_on_the_emulators_own_port(emu, session):
    """MSAL's user realm discovery, on the one ephemeral listener (no port 443 anywhere)."""
    url = "%s/common/userrealm/%s?api-version=1.0"
    resp = session.get(url % (emu["authority_host"], "nobody@fabrikam.example"), timeout=30)
    assert resp.status_code == 200 and resp.json()["account_type"] == "Unknown"
    known = session.get(url % (emu["authority_host"], emu["users"]["organizer"]["upn"]), timeout=30).json()
    assert known["account_type"] == "Managed" and known["domain_name"] == emu["users"]["organizer"]["upn"].split("@")[1]
    assert emu["port"] not in (0, 443)


def test_restore_userrealm_port_touches_only_the_realm_url():
    assert restore_userrealm_port("https://127.0.0.1/common/userrealm/a@b.example?api-version=1.0", 4711) == \
        "https://127.0.0.1:4711/common/userrealm/a@b.example?api-version=1.0"
    for url in ("https://127.0.0.1:99/common/userrealm/a@b.example", "https://127.0.0.1/tenant/oauth2/v2.0/token"):
        assert restore_userrealm_port(url, 4711) == url


def test_control_api_errors(emu, session):
    resp = session.post(emu["control_url"] + "/faults", json={"kind": "meteor_strike"}, timeout=30)
    assert resp.status_code == 400
    assert session.get(emu["control_url"] + "/nothing", timeout=30).status_code == 404
    assert session.post(emu["control_url"] + "/config", json={"speed": 1}, timeout=30).status_code == 400


def test_unknown_version_is_bad_request(emu, session):
    resp = session.get(emu["graph_endpoint"] + "/v2.0/users", timeout=30)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "BadRequest"


def test_connection_file_keys(emulator):
    for key in ("graph_endpoint", "authority_host", "control_url", "ca_path", "cloud", "tenant_id", "apps", "users",
                "managed_identity", "bookings", "groups"):
        assert key in emulator
    assert set(emulator["apps"]) == {"secret", "certificate", "federated", "readonly", "public"}
    assert emulator["graph_endpoint"] == emulator["authority_host"] and not emulator["graph_endpoint"].endswith("/")
    uuid.UUID(emulator["tenant_id"])
    assert "realm_port" not in emulator
